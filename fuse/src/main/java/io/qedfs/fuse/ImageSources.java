package io.qedfs.fuse;

import io.qedfs.qed.QedTools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Turns mount SOURCEs (images, or directories of images recognised by magic) into the names they appear
 * under: {@code disk.qed} becomes {@code disk.raw}; a name without the {@code .qed} suffix gets {@code .raw}.
 */
public final class ImageSources {
    private ImageSources() {
    }

    /** File name under the mountpoint → image path, in the order given. */
    public static Map<String, Path> resolve(List<Path> sources) throws IOException {
        Map<String, Path> byName = new LinkedHashMap<>();
        for (Path source : sources) {
            if (!Files.exists(source)) {
                throw new NoSuchFileException(source.toString(), null, source + ": no such file or directory");
            }
            for (Path image : imagesIn(source)) {
                String name = rawName(image);
                Path clash = byName.putIfAbsent(name, image.toAbsolutePath());
                if (clash != null) {
                    throw new IllegalArgumentException(image + " and " + clash + " would both appear as " + name
                            + "; rename one of them or mount them separately");
                }
            }
        }
        if (byName.isEmpty()) {
            throw new IllegalArgumentException("no QED images found in " + sources);
        }
        return byName;
    }

    /**
     * The images of {@code images} that were found by listing a directory among {@code sources}, not named
     * themselves: a mount opens those on first use (see {@link MountedImage}).
     */
    static Set<Path> listed(List<Path> sources, Collection<Path> images) {
        Set<Path> dirs = new HashSet<>();
        for (Path source : sources) {
            if (Files.isDirectory(source)) {
                dirs.add(source.toAbsolutePath().normalize());
            }
        }
        Set<Path> found = new HashSet<>();
        for (Path image : images) {
            Path parent = image.toAbsolutePath().normalize().getParent();
            if (parent != null && dirs.contains(parent)) {
                found.add(image);
            }
        }
        return found;
    }

    static String rawName(Path image) {
        String file = image.getFileName().toString();
        return (file.endsWith(".qed") ? file.substring(0, file.length() - 4) : file) + ".raw";
    }

    private static List<Path> imagesIn(Path source) throws IOException {
        if (!Files.isDirectory(source)) {
            if (!QedTools.isQed(source)) {
                throw new io.qedfs.qed.QedFormatException(QedTools.notQedReason(source, source.toString()));
            }
            return List.of(source);
        }
        List<Path> found = new ArrayList<>();
        try (Stream<Path> entries = Files.list(source)) {
            for (Path p : (Iterable<Path>) entries.sorted()::iterator) {
                if (Files.isRegularFile(p) && Files.isReadable(p) && QedTools.isQed(p)) {
                    found.add(p);
                }
            }
        }
        if (found.isEmpty()) {
            throw new IllegalArgumentException(source + ": the directory holds no QED images");
        }
        return found;
    }
}
