package io.qedfs.cli;

import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.QedTools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Walks a backing chain one file at a time, for {@code info --backing-chain}, the file names of
 * {@code map} and the "DEST is part of SOURCE" check of {@code convert}. Each level is opened read-only on
 * its own and closed before the next; the engine's open already refuses loops and over-deep chains.
 */
final class ImageChain {
    private static final int MAX_LEVELS = QedOpenOptions.DEFAULT_MAX_CHAIN_DEPTH + 1;

    private ImageChain() {
    }

    /** Every level, the top image first. */
    static List<ChainLevel> walk(String top, QedOpenOptions options) throws IOException {
        List<ChainLevel> levels = new ArrayList<>();
        ChainLevel level = describe(top, "qed", options);
        levels.add(level);
        while (level.fullBackingFilename() != null && levels.size() < MAX_LEVELS) {
            level = describe(level.fullBackingFilename(), level.backingFormat(), options);
            levels.add(level);
        }
        return levels;
    }

    /** One level: a QED image (opened read-only) or a raw file. */
    static ChainLevel describe(String filename, String format, QedOpenOptions options) throws IOException {
        Path path = Inputs.existingFile(filename);
        if (!"qed".equals(format)) {
            return new ChainLevel(filename, "raw", Files.size(path), 0, DiskUsage.bytes(path), false, null, null, null,
                    owner(path), List.of());
        }
        try (QedImage image = QedImage.open(path, options)) {
            String backing = image.backingFileName();
            List<String> links = new ArrayList<>();
            for (Path p : image.backingFiles()) {
                links.add(p.toRealPath() + ": " + (QedTools.isQed(p) ? "qed" : "raw") + ", owner " + owner(p));
            }
            return new ChainLevel(filename, "qed", image.size(), image.clusterSize(), DiskUsage.bytes(path),
                    image.needsCheck(), backing, backing == null ? null : combine(filename, backing),
                    image.backingFormat(), owner(path), links);
        }
    }

    /** "alice (uid 1001)", or "uid 1001" for an owner without a name. */
    static String owner(Path path) throws IOException {
        int uid = (Integer) Files.getAttribute(path, "unix:uid");
        String name = Files.getOwner(path).getName();
        return name.equals(Integer.toString(uid)) ? "uid " + uid : name + " (uid " + uid + ")";
    }

    /** qemu's path_combine: a relative backing name is relative to the image's directory, as given. */
    static String combine(String image, String backing) {
        if (Path.of(backing).isAbsolute()) {
            return backing;
        }
        Path dir = Path.of(image).getParent();
        return dir == null ? backing : dir.resolve(backing).toString();
    }
}
