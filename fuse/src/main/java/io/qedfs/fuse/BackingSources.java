package io.qedfs.fuse;

import io.qedfs.qed.ImageSummary;
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

    /** Each image that is in the backing chain of another, mapped to one such image; judged from the listing. */
    static Map<Path, Path> find(Collection<ImageSummary> images) throws IOException {
        if (images.size() < 2) {
            return Map.of();
        }
        Map<Path, Path> aboveByRealPath = new HashMap<>();
        for (ImageSummary image : images) {
            for (Path backing : image.backingFiles()) {
                aboveByRealPath.putIfAbsent(backing.toRealPath(), image.path());
            }
        }
        Map<Path, Path> found = new LinkedHashMap<>();
        if (aboveByRealPath.isEmpty()) {
            return found;
        }
        for (ImageSummary image : images) {
            Path above = aboveByRealPath.get(image.path().toRealPath());
            if (above != null) {
                found.put(image.path(), above);
            }
        }
        return found;
    }
}
