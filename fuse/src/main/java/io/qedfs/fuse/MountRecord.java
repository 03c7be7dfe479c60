package io.qedfs.fuse;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The file in which a serving process says which mount it serves and, once it has closed its images, how that
 * went: the only way {@code qedfs unmount} learns whether everything acknowledged was stored, because the process
 * is not its child and leaves no exit status it could collect.
 *
 * <p>One file per serving process, named after the mount's device and the process ({@code fuse-0-57.PID.START}),
 * in a directory of the mounting user: {@code /run/qedfs} for root, {@code /tmp/qedfs-UID} otherwise (mode 0700,
 * and used only when owned by that user). The mount table gives the device and the owner ({@code user_id=}) of a
 * mount at a path; the record gives its serving process (pid and start time, so a reused pid is not mistaken for
 * it), which is what identifies a qedfs mount, whatever its fsname or subtype. The state is {@code serving} while
 * mounted, then {@code clean} or {@code failed} with the error lines, written after the last image is closed;
 * each write replaces the file atomically. While images are checked in the background a line per image says how
 * its check stands: {@code check running disk.raw}, then {@code done}, {@code stopped} or {@code failed}. A
 * record still saying {@code serving} once its process has ended means the process was killed before it had
 * closed its images.
 *
 * <p>The kernel frees a mount's device number when it unmounts, before the server has closed its images and
 * written how that went, and the next mount may get the same number meanwhile: a device can have the records
 * of several servers at once. So a process writes only its own file, and nobody else writes or replaces it:
 * {@code qedfs unmount} deletes the file of the server it saw serving the mount, a new server deletes the files
 * of processes and mounts long gone. Which of a device's records belongs to the mount that has the device now
 * is said by the {@code generation}: a server's first write, under a lock shared by the directory's writers,
 * ranks its record above every record the device has ({@link #claim}). A server records its mount only while
 * its mount is in the mount table, and a device is given to a new mount only once the previous mount with it
 * is gone, so the record ranked highest is that of the mount's server. A record without a generation (the
 * single {@code fuse-0-57} file an older qedfs server keeps) ranks lowest.
 */
public final class MountRecord {
    enum State { SERVING, CLEAN, FAILED }

    /**
     * A record's contents: who serves (pid, start time in clock ticks after boot) which mount, how it ended, how
     * the background checks stand ({@code checks}: "STATE NAME" per image, in the order they were checked), and
     * how it ranks among the records of its device ({@code generation}; 0 until claimed).
     */
    record Contents(long pid, long startTicks, String device, byte[] mountPoint, State state, List<String> errors,
            List<String> checks, long generation) {
        Contents(long pid, long startTicks, String device, byte[] mountPoint, State state, List<String> errors,
                List<String> checks) {
            this(pid, startTicks, device, mountPoint, state, errors, checks, 0);
        }

        Contents(long pid, long startTicks, String device, byte[] mountPoint, State state, List<String> errors) {
            this(pid, startTicks, device, mountPoint, state, errors, List.of());
        }

        boolean isFrom(long otherPid, long otherStartTicks) {
            return pid == otherPid && startTicks == otherStartTicks;
        }

        Contents withGeneration(long g) {
            return new Contents(pid, startTicks, device, mountPoint, state, errors, checks, g);
        }
    }

    private static final String PREFIX = "fuse-";
    private static final String LOCK = "lock";
    private static final long STALE_MILLIS = 3_600_000; // long after any unmount has read its record
    /** Held around the file lock: a JVM cannot take a file lock twice (tests run several keepers in one JVM). */
    private static final Object CLAIMS = new Object();

    private MountRecord() {
    }

    /** The directory of the records of {@code uid}'s mounts. */
    static Path dirFor(int uid) {
        return uid == 0 ? Path.of("/run/qedfs") : Path.of("/tmp", "qedfs-" + uid);
    }

    /** The file of the process {@code pid} (started at {@code startTicks}) serving the mount with this device. */
    static Path fileFor(int uid, String device, long pid, long startTicks) {
        return dirFor(uid).resolve(deviceName(device) + "." + pid + "." + startTicks);
    }

    /** The file an older qedfs server keeps for the mount with this device. */
    static Path legacyFileFor(int uid, String device) {
        return dirFor(uid).resolve(deviceName(device));
    }

    private static String deviceName(String device) {
        return PREFIX + device.replace(':', '-');
    }

    /**
     * Writes the first record of a server, ranked above every record of its device (under the directory's lock,
     * so two servers never get the same rank); returns it with its generation.
     */
    static Contents claim(int uid, Contents c) throws IOException {
        Path dir = ownDir(uid);
        synchronized (CLAIMS) {
            try (FileChannel lock = FileChannel.open(dir.resolve(LOCK), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
                    FileLock held = lock.lock()) {
                long top = recordsOf(uid, c.device()).stream().mapToLong(Contents::generation).max().orElse(0);
                Contents ranked = c.withGeneration(top + 1);
                write(uid, ranked);
                return ranked;
            }
        }
    }

    /** Writes (or atomically replaces) this process's own record {@code c} in the directory of {@code uid}. */
    static void write(int uid, Contents c) throws IOException {
        Path dir = ownDir(uid);
        Path file = fileFor(uid, c.device(), c.pid(), c.startTicks());
        Path tmp = dir.resolve(file.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        Files.write(tmp, encode(c));
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Keeps a long-lived record from being removed by a cleaner of old files in /tmp. */
    static void touch(int uid, String device, long pid, long startTicks) throws IOException {
        Files.setLastModifiedTime(fileFor(uid, device, pid, startTicks), FileTime.from(Instant.now()));
    }

    /**
     * The record of the server of the mount that has this device now (the one ranked highest), if {@code uid}
     * has one (a file owned by anyone else is ignored).
     */
    static Optional<Contents> read(int uid, String device) throws IOException {
        return recordsOf(uid, device).stream().max(Comparator.comparingLong(Contents::generation));
    }

    /** The record of the process {@code pid} started at {@code startTicks} for the mount with this device. */
    static Optional<Contents> readOwn(int uid, String device, long pid, long startTicks) throws IOException {
        Optional<Contents> own = readFile(uid, fileFor(uid, device, pid, startTicks));
        if (own.isPresent()) {
            return own.filter(c -> c.isFrom(pid, startTicks) && c.device().equals(device));
        }
        return readFile(uid, legacyFileFor(uid, device)).filter(c -> c.isFrom(pid, startTicks));
    }

    /** Deletes the record {@code c} was read from (a legacy one only if it still is {@code c}'s process's). */
    static void delete(int uid, Contents c) throws IOException {
        if (!Files.deleteIfExists(fileFor(uid, c.device(), c.pid(), c.startTicks()))) {
            Optional<Contents> legacy = readFile(uid, legacyFileFor(uid, c.device()));
            if (legacy.isPresent() && legacy.get().isFrom(c.pid(), c.startTicks())) {
                Files.deleteIfExists(legacyFileFor(uid, c.device()));
            }
        }
    }

    /**
     * Deletes records whose process is gone, of mounts that are gone too (the device is not mounted, or a newer
     * record of the device outranks it), that nobody read within an hour. A file is only ever written by its own
     * process, so one whose process is gone does not change under the deletion.
     */
    static void pruneStale(int uid) {
        try (var files = Files.list(ownDir(uid))) {
            List<MountInfo.Line> mounts = MountInfo.read();
            for (Path f : (Iterable<Path>) files::iterator) {
                String name = f.getFileName().toString();
                if (!name.startsWith(PREFIX)
                        || Files.getLastModifiedTime(f).toMillis() > System.currentTimeMillis() - STALE_MILLIS) {
                    continue;
                }
                Contents c = decode(Files.readAllBytes(f));
                if (c == null || (!isCurrent(uid, c, mounts) && ServerProcess.startTicks(c.pid()) != c.startTicks())) {
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException | RuntimeException e) {
            // best effort: a leftover record is never taken for a live mount (device, path and process must match)
        }
    }

    /**
     * The record directory of this process's own user (mode 0700, owned by that user), created if missing; the
     * one place a serving process writes files of its own, such as a JVM crash report.
     */
    public static Path ownDirectory() throws IOException {
        return ownDir(ServerProcess.ownUid());
    }

    /** Whether {@code c} may still be the record of a mount: its device is mounted, and no record outranks it. */
    private static boolean isCurrent(int uid, Contents c, List<MountInfo.Line> mounts) throws IOException {
        return mounts.stream().anyMatch(m -> m.device().equals(c.device()))
                && read(uid, c.device()).map(top -> top.generation() <= c.generation()).orElse(true);
    }

    /** Every record of this device in {@code uid}'s directory: each server's, and an older server's single one. */
    private static List<Contents> recordsOf(int uid, String device) throws IOException {
        String legacy = deviceName(device);
        List<Contents> found = new ArrayList<>();
        List<Path> files;
        try (var listed = Files.list(dirFor(uid))) {
            files = listed.filter(f -> isRecordOf(f.getFileName().toString(), legacy)).toList();
        } catch (NoSuchFileException e) {
            return found;
        }
        for (Path f : files) {
            readFile(uid, f).filter(c -> isNamedFor(f, c, legacy)).ifPresent(found::add);
        }
        return found;
    }

    /** Whether {@code f} is the file of the process that {@code c} names, or the single one of an older server. */
    private static boolean isNamedFor(Path f, Contents c, String legacy) {
        String name = f.getFileName().toString();
        return name.equals(legacy) ? legacy.equals(deviceName(c.device()))
                : name.equals(deviceName(c.device()) + "." + c.pid() + "." + c.startTicks());
    }

    /** {@code fuse-0-57} or {@code fuse-0-57.PID.START}; not a file still being written. */
    private static boolean isRecordOf(String name, String legacy) {
        return name.equals(legacy) || name.startsWith(legacy + ".")
                && name.substring(legacy.length()).matches("\\.[0-9]+\\.-?[0-9]+");
    }

    /** The record in {@code file}, if it is a regular file owned by {@code uid} in a directory owned by it. */
    private static Optional<Contents> readFile(int uid, Path file) throws IOException {
        try {
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || ownerOf(file) != uid
                    || ownerOf(file.getParent()) != uid) {
                return Optional.empty();
            }
            return Optional.ofNullable(decode(Files.readAllBytes(file)));
        } catch (NoSuchFileException e) {
            return Optional.empty(); // deleted meanwhile by the unmount that read it
        }
    }

    /** The record directory of this process's own user, created 0700 if missing; refused if someone else owns it. */
    private static Path ownDir(int uid) throws IOException {
        Path dir = dirFor(uid);
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException e) {
            // checked below
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) || ownerOf(dir) != uid) {
            throw new IOException(dir + ": not a directory owned by uid " + uid + "; cannot record the mount there");
        }
        return dir;
    }

    private static int ownerOf(Path p) throws IOException {
        return ((Number) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS)).intValue();
    }

    static byte[] encode(Contents c) {
        StringBuilder s = new StringBuilder();
        s.append("pid ").append(c.pid()).append('\n');
        s.append("start ").append(c.startTicks()).append('\n');
        s.append("device ").append(c.device()).append('\n');
        s.append("mountpoint ").append(escape(c.mountPoint())).append('\n');
        s.append("state ").append(c.state().name().toLowerCase(java.util.Locale.ROOT)).append('\n');
        for (String e : c.errors()) {
            s.append("error ").append(e.replace('\n', ' ').replace('\r', ' ')).append('\n');
        }
        for (String check : c.checks()) {
            s.append("check ").append(check.replace('\n', ' ').replace('\r', ' ')).append('\n');
        }
        s.append("generation ").append(c.generation()).append('\n');
        return s.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The contents, or null when the file is not a complete record. */
    static Contents decode(byte[] bytes) {
        long pid = -1;
        long start = -1;
        String device = null;
        byte[] mountPoint = null;
        State state = null;
        List<String> errors = new ArrayList<>();
        List<String> checks = new ArrayList<>();
        long generation = 0;
        try {
            for (String line : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
                int space = line.indexOf(' ');
                String key = space < 0 ? line : line.substring(0, space);
                String value = space < 0 ? "" : line.substring(space + 1);
                switch (key) {
                    case "pid" -> pid = Long.parseLong(value);
                    case "start" -> start = Long.parseLong(value);
                    case "device" -> device = value;
                    case "mountpoint" -> mountPoint = MountInfo.unescape(value.getBytes(StandardCharsets.US_ASCII));
                    case "state" -> state = State.valueOf(value.toUpperCase(java.util.Locale.ROOT));
                    case "error" -> errors.add(value);
                    case "check" -> checks.add(value);
                    case "generation" -> generation = Long.parseLong(value);
                    default -> {
                        // a field a later version may add
                    }
                }
            }
        } catch (IllegalArgumentException e) {
            return null;
        }
        return pid > 0 && device != null && mountPoint != null && state != null
                ? new Contents(pid, start, device, mountPoint, state, List.copyOf(errors), List.copyOf(checks),
                        generation)
                : null;
    }

    /** Mountinfo's own escaping, for every byte that is not printable ASCII: the record stays one line per field. */
    private static String escape(byte[] path) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte b : path) {
            int v = b & 0xff;
            if (v > ' ' && v < 0x7f && v != '\\') {
                out.write(v);
            } else {
                out.writeBytes(String.format("\\%03o", v).getBytes(StandardCharsets.US_ASCII));
            }
        }
        return out.toString(StandardCharsets.US_ASCII);
    }
}
