package io.qedfs.fuse;

import io.qedfs.qed.CheckReport;
import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.QedTools;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code mount --overlay}: each image is served through a new QED overlay whose backing file is the image, so
 * every write lands in the overlay and the image itself is only read. The images stay open read-only, with
 * QEMU's read locks, for as long as the overlays exist: nobody may write them underneath. Overlays are kept in a
 * given directory as {@code <name>.overlay.qed}, or are temporary: created (O_EXCL) in a private directory
 * (rwx------) under $TMPDIR, whose names are removed as soon as the mount has the overlays open, so that not
 * even a crash leaves a file behind.
 *
 * <p>What a guest writes is no more visible than the image it writes to: each overlay is created with the
 * image file's read and write bits (and the umask's restrictions), owned by whoever mounts.
 */
public final class Overlays implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(Overlays.class);
    private static final String SUFFIX = ".overlay.qed";

    /** Overlay settings of a mount: {@code keepDir} null means temporary overlays. */
    public record Mode(Path keepDir) {
    }

    private final Path tempDir; // null when the overlays are kept
    private final Map<String, Path> overlays = new LinkedHashMap<>();
    private final List<QedImage> originals = new ArrayList<>();

    private Overlays(Path tempDir) {
        this.tempDir = tempDir;
    }

    /** {@code disk.raw} (a name under the mountpoint) → {@code disk.overlay.qed}. */
    public static String overlayName(String rawName) {
        return (rawName.endsWith(".raw") ? rawName.substring(0, rawName.length() - 4) : rawName) + SUFFIX;
    }

    /** Refuses, before anything is created, when {@code dir} already holds an overlay for one of the names. */
    public static void refuseExisting(Collection<String> rawNames, Path dir) throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new java.nio.file.NotDirectoryException(dir + ": the overlay directory is not a directory");
        }
        for (String name : rawNames) {
            Path overlay = dir.resolve(overlayName(name));
            if (Files.exists(overlay, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                throw new FileAlreadyExistsException(overlay.toString(), null, overlay
                        + ": an overlay exists already (commit it with 'qedfs commit', or move it away)");
            }
        }
    }

    /**
     * Opens every image read-only (checking it as {@code check} says, reporting to {@code onCheck}) and creates
     * its overlay; returns the overlays by the name they are served under.
     */
    public static Overlays create(Map<String, Path> images, Mode mode, QedOpenOptions originals,
            BiConsumer<Path, CheckReport> onCheck) throws IOException {
        Path dir = mode.keepDir();
        if (dir == null) {
            dir = Files.createTempDirectory(temporaryRoot(), "qedfs-overlay-"); // rwx------
        } else {
            refuseExisting(images.keySet(), dir);
            Files.createDirectories(dir);
        }
        Overlays o = new Overlays(mode.keepDir() == null ? dir : null);
        try {
            for (Map.Entry<String, Path> e : images.entrySet()) {
                o.add(e.getKey(), e.getValue(), dir.resolve(overlayName(e.getKey())).toAbsolutePath(), originals, onCheck);
            }
            return o;
        } catch (IOException | RuntimeException | Error e) {
            o.release(true); // a mount that failed leaves no overlays behind, kept or not
            throw e;
        }
    }

    /** {@code options}: how the image is opened (read-only; checked and its backing files trusted as the mount says). */
    private void add(String name, Path image, Path overlay, QedOpenOptions options,
            BiConsumer<Path, CheckReport> onCheck) throws IOException {
        QedImage original = QedImage.open(image, options);
        originals.add(original);
        original.openCheckReport().ifPresent(r -> onCheck.accept(image, r));
        // fails if it exists (O_EXCL): a kept overlay is never replaced, and nobody's file is taken over
        Files.createFile(overlay, PosixFilePermissions.asFileAttribute(readWriteBits(original.fileStatus().permissions())));
        overlays.put(name, overlay);
        QedTools.create(overlay, QedCreateOptions.ofSize(-1).withClusterSize(original.clusterSize())
                .withBacking(image.toAbsolutePath().toString(), "qed"));
        LOG.info("{}: writes go to the overlay {}; the image itself is not changed", image, overlay);
    }

    /** The read and write bits of {@code mode}, as permissions; a disk is no program. */
    private static Set<PosixFilePermission> readWriteBits(int mode) {
        Set<PosixFilePermission> perms = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = {PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE};
        int[] masks = {0400, 0200, 040, 020, 04, 02};
        for (int i = 0; i < bits.length; i++) {
            if ((mode & masks[i]) != 0) {
                perms.add(bits[i]);
            }
        }
        return perms;
    }

    /**
     * Once the mount has the overlays open: removes the names of temporary overlays and their directory (the
     * open files live on until unmount), so that a crash leaves nothing in $TMPDIR. Kept overlays stay.
     */
    public void removeTemporaryNames() {
        if (tempDir == null) {
            return;
        }
        overlays.values().forEach(Overlays::deleteQuietly);
        deleteQuietly(tempDir);
    }

    /** The overlays to serve, by name under the mountpoint. */
    public Map<String, Path> images() {
        return overlays;
    }

    /** Releases the images; deletes temporary overlays, or says where the kept ones are. */
    @Override
    public void close() {
        release(tempDir != null);
    }

    private void release(boolean delete) {
        for (QedImage original : originals) {
            try {
                original.close();
            } catch (IOException e) {
                LOG.warn("closing {} failed: {}", original.path(), e.toString());
            }
        }
        for (Path overlay : overlays.values()) {
            if (!delete) {
                LOG.info("overlay kept: {} (inspect it with qemu-img; merge it with 'qedfs commit {}')", overlay, overlay);
            } else {
                deleteQuietly(overlay);
            }
        }
        if (tempDir != null) {
            deleteQuietly(tempDir);
            LOG.info("temporary overlays deleted: {}", tempDir);
        }
    }

    private static Path temporaryRoot() {
        String tmp = System.getenv("TMPDIR");
        return Path.of(tmp == null || tmp.isEmpty() ? System.getProperty("java.io.tmpdir") : tmp);
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            LOG.warn("could not delete {}: {}", p, e.toString());
        }
    }
}
