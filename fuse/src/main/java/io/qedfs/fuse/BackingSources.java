package io.qedfs.fuse;

import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which images of a mount are backing files of other images of the same mount (a directory holding an overlay
 * and its base, say). Those are served read-only: the images above read them, and hold QEMU's read lock on
 * them, as QEMU does, so that nobody changes what their guests see.
 */
final class BackingSources {
    private BackingSources() {
    }

    /**
     * Each image that is in the backing chain of another, mapped to one such image; {@code trustBacking}: the
     * chains are opened whoever owns their files.
     */
    static Map<Path, Path> find(Collection<Path> images, boolean trustBacking) throws IOException {
        if (images.size() < 2) {
            return Map.of();
        }
        Map<Path, Path> aboveByRealPath = new HashMap<>();
        for (Path image : images) {
            // without locks: this only reads the headers, before the mount opens the images for real
            try (QedImage opened = QedImage.open(image,
                    QedOpenOptions.readOnlyOptions().withLock(false).withTrustBacking(trustBacking))) {
                for (Path backing : opened.backingFiles()) {
                    aboveByRealPath.putIfAbsent(backing.toRealPath(), image);
                }
            }
        }
        Map<Path, Path> found = new LinkedHashMap<>();
        for (Path image : images) {
            Path above = aboveByRealPath.get(image.toRealPath());
            if (above != null) {
                found.put(image, above);
            }
        }
        return found;
    }
}
