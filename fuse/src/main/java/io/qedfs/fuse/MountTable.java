package io.qedfs.fuse;

import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotLinkException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Which mount is at a path. Mounts are matched by the real path of the mountpoint (a symlink to it names the
 * same mount), compared byte for byte with the mount table ({@link MountInfo}); a qedfs mount is a FUSE mount
 * whose {@link MountRecord} names the process serving it, whatever fsname or subtype it was given.
 */
public final class MountTable {
    private static final Charset FILE_NAMES = fileNameCharset();

    /**
     * A qedfs mount: its real path, the process serving it (pid and start time; 0 and -1 if unknown), its
     * device ("0:39") and the user who mounted it.
     */
    public record Entry(Path mountPoint, long pid, long startTicks, String device, int ownerUid) {
        /** The connection's directory under /sys/fs/fuse/connections (named after the device minor). */
        public String connection() {
            return device.substring(device.indexOf(':') + 1);
        }

        /** Whether the serving process still runs (not merely a process that got its pid later). */
        public boolean isServed() {
            return pid > 0 && ServerProcess.isRunning(pid, startTicks);
        }
    }

    private MountTable() {
    }

    /** The fsname qedfs gives its mounts unless told otherwise: only for people reading the mount table. */
    public static String sourceName(long pid) {
        return "qedfs:" + pid;
    }

    /** The qedfs mount at {@code mountPoint}: the topmost FUSE mount there, with the record of its serving process. */
    public static Optional<Entry> find(Path mountPoint) throws IOException {
        Path real = realPath(mountPoint);
        Optional<MountInfo.Line> line = topmostFuse(MountInfo.read(), real);
        if (line.isEmpty()) {
            return Optional.empty();
        }
        MountInfo.Line l = line.get();
        int owner = l.ownerUid() >= 0 ? l.ownerUid() : ServerProcess.ownUid();
        return MountRecord.read(owner, l.device())
                .filter(r -> r.device().equals(l.device()) && l.isAt(r.mountPoint()))
                .map(r -> new Entry(real, r.pid(), r.startTicks(), l.device(), owner));
    }

    /** The topmost FUSE mount at {@code mountPoint}, whoever serves it (pid unknown). */
    static Optional<Entry> findFuse(Path mountPoint) throws IOException {
        Path real = realPath(mountPoint);
        return topmostFuse(MountInfo.read(), real).map(l -> new Entry(real, 0, -1, l.device(), l.ownerUid()));
    }

    /** The mount table's line of the topmost FUSE mount at {@code real}, a real path. */
    static Optional<MountInfo.Line> topmostFuse(List<MountInfo.Line> mounts, Path real) {
        byte[] want = bytes(real);
        MountInfo.Line found = null;
        for (MountInfo.Line l : mounts) {
            if (l.isAt(want)) {
                found = l.isFuse() ? l : null; // a later mount at the same path hides the earlier ones
            }
        }
        return Optional.ofNullable(found);
    }

    /** True when anything (qedfs or not) is mounted at {@code mountPoint}. */
    public static boolean isMountPoint(Path mountPoint) throws IOException {
        byte[] want = bytes(realPath(mountPoint));
        return MountInfo.read().stream().anyMatch(l -> l.isAt(want));
    }

    /**
     * The path with every symlink resolved, as the kernel lists the mount. The last name is resolved with
     * readlink only, never stat: stat of a mount's root asks its server, which may be hung or gone (a stale
     * mount answers ENOTCONN); readlink of a mount's root is answered by the kernel (EINVAL: not a link).
     */
    static Path realPath(Path p) throws IOException {
        Path abs = p.toAbsolutePath();
        for (int links = 0; links < 40; links++) {
            Path name = abs.getFileName();
            if (name == null || name.toString().equals(".") || name.toString().equals("..")) {
                return abs.toRealPath();
            }
            Path parent = abs.getParent().toRealPath();
            Path candidate = parent.resolve(name);
            try {
                abs = parent.resolve(Files.readSymbolicLink(candidate));
            } catch (NotLinkException | NoSuchFileException e) {
                return candidate;
            }
        }
        throw new FileSystemException(p.toString(), null, "too many levels of symbolic links");
    }

    /** The path a mount table line names (decoded as Java decodes file names). */
    static Path path(byte[] mountPoint) {
        return Path.of(new String(mountPoint, FILE_NAMES));
    }

    /** A path's bytes as the kernel has them (Java decodes file names with the platform's file-name charset). */
    static byte[] bytes(Path p) {
        return p.toString().getBytes(FILE_NAMES);
    }

    private static Charset fileNameCharset() {
        try {
            return Charset.forName(System.getProperty("sun.jnu.encoding", Charset.defaultCharset().name()));
        } catch (IllegalArgumentException e) {
            return Charset.defaultCharset();
        }
    }
}
