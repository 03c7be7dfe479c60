package io.qedfs.fuse;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The file in which a serving process says which mount it serves and, once it has closed its images, how that
 * went: the only way {@code qedfs unmount} learns whether everything acknowledged was stored, because the process
 * is not its child and leaves no exit status it could collect.
 *
 * <p>One file per mount, named after the mount's device ({@code fuse-0-57}), in a directory of the mounting
 * user: {@code /run/qedfs} for root, {@code /tmp/qedfs-UID} otherwise (mode 0700, and used only when owned by
 * that user). The mount table gives the device and the owner ({@code user_id=}) of a mount at a path; the
 * record gives its serving process (pid and start time, so a reused pid is not mistaken for it), which is what
 * identifies a qedfs mount, whatever its fsname or subtype. The state is {@code serving} while mounted, then
 * {@code clean} or {@code failed} with the error lines, written after the last image is closed; each write
 * replaces the file atomically. While images are checked in the background a line per image says how its check
 * stands: {@code check running disk.raw}, then {@code done}, {@code stopped} or {@code failed}. A record still saying {@code serving} once its process has ended means the
 * process was killed before it had closed its images. {@code qedfs unmount} deletes the record it read; a new
 * server deletes records whose process and mount are gone.
 */
public final class MountRecord {
    enum State { SERVING, CLEAN, FAILED }

    /**
     * A record's contents: who serves (pid, start time in clock ticks after boot) which mount, how it ended, and how
     * the background checks stand ({@code checks}: "STATE NAME" per image, in the order they were checked).
     */
    record Contents(long pid, long startTicks, String device, byte[] mountPoint, State state, List<String> errors,
            List<String> checks) {
        Contents(long pid, long startTicks, String device, byte[] mountPoint, State state, List<String> errors) {
            this(pid, startTicks, device, mountPoint, state, errors, List.of());
        }

        boolean isFrom(long otherPid, long otherStartTicks) {
            return pid == otherPid && startTicks == otherStartTicks;
        }
    }

    private static final String PREFIX = "fuse-";
    private static final long STALE_MILLIS = 3_600_000; // long after any unmount has read its record

    private MountRecord() {
    }

    /** The directory of the records of {@code uid}'s mounts. */
    static Path dirFor(int uid) {
        return uid == 0 ? Path.of("/run/qedfs") : Path.of("/tmp", "qedfs-" + uid);
    }

    static Path fileFor(int uid, String device) {
        return dirFor(uid).resolve(PREFIX + device.replace(':', '-'));
    }

    /** Writes (or atomically replaces) the record {@code c} in the directory of {@code uid}, this process's user. */
    static void write(int uid, Contents c) throws IOException {
        Path dir = ownDir(uid);
        Path file = dir.resolve(PREFIX + c.device().replace(':', '-'));
        Path tmp = dir.resolve(file.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        Files.write(tmp, encode(c));
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Keeps a long-lived record from being removed by a cleaner of old files in /tmp. */
    static void touch(int uid, String device) throws IOException {
        Files.setLastModifiedTime(fileFor(uid, device), FileTime.from(Instant.now()));
    }

    /** The record of the mount with this device, if {@code uid} has one (a file owned by anyone else is ignored). */
    static Optional<Contents> read(int uid, String device) throws IOException {
        Path file = fileFor(uid, device);
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || ownerOf(file) != uid || ownerOf(file.getParent()) != uid) {
            return Optional.empty();
        }
        return Optional.ofNullable(decode(Files.readAllBytes(file)));
    }

    /** Deletes the record of this device if it is still the one {@code c} was read from. */
    static void delete(int uid, Contents c) throws IOException {
        Optional<Contents> now = read(uid, c.device());
        if (now.isPresent() && now.get().isFrom(c.pid(), c.startTicks())) {
            Files.deleteIfExists(fileFor(uid, c.device()));
        }
    }

    /** Deletes records whose process is gone, of mounts that are gone too, that nobody read within an hour. */
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
                boolean mounted = c != null && mounts.stream().anyMatch(m -> m.device().equals(c.device()));
                if (c == null || (!mounted && ServerProcess.startTicks(c.pid()) != c.startTicks())) {
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
                    default -> {
                        // a field a later version may add
                    }
                }
            }
        } catch (IllegalArgumentException e) {
            return null;
        }
        return pid > 0 && device != null && mountPoint != null && state != null
                ? new Contents(pid, start, device, mountPoint, state, List.copyOf(errors), List.copyOf(checks)) : null;
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
