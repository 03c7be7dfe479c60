package io.qedfs.fuse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Who keeps a mount busy, as {@code fuser -vm} would name them: processes with a file open under the mountpoint,
 * their working or root directory there, or a file there mapped into memory; and loop devices whose backing file
 * is there. Read from /proc and /sys by path only (readlink, never stat), so a hung mount is not asked. Processes
 * of other users are visible only to root; what cannot be read is left out.
 */
final class MountUsers {
    private static final Path PROC = Path.of("/proc");
    private static final Path BLOCK = Path.of("/sys/block");

    private MountUsers() {
    }

    /** One line per user of the mount at {@code real} (a real path), such as "process 123 (less) has x.raw open". */
    static List<String> of(Path real) {
        List<String> found = new ArrayList<>();
        String prefix = real.toString().endsWith("/") ? real.toString() : real + "/";
        long self = ProcessHandle.current().pid();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(PROC, p -> p.getFileName().toString().matches("\\d+"))) {
            for (Path proc : procs) {
                long pid = Long.parseLong(proc.getFileName().toString());
                if (pid != self) {
                    Set<String> uses = usesOf(proc, real.toString(), prefix);
                    if (!uses.isEmpty()) {
                        found.add("process " + pid + " (" + command(proc) + ") " + String.join(", ", uses));
                    }
                }
            }
        } catch (IOException e) {
            // no /proc: nothing to name
        }
        found.addAll(loopDevices(real.toString(), prefix));
        return found;
    }

    private static Set<String> usesOf(Path proc, String mountPoint, String prefix) {
        Set<String> uses = new LinkedHashSet<>();
        if (under(link(proc.resolve("cwd")), mountPoint, prefix)) {
            uses.add("has its working directory there");
        }
        if (under(link(proc.resolve("root")), mountPoint, prefix)) {
            uses.add("has its root directory there");
        }
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fd"))) {
            for (Path fd : fds) {
                String target = link(fd);
                if (under(target, mountPoint, prefix)) {
                    uses.add("has " + relative(target, prefix) + " open");
                }
            }
        } catch (IOException e) {
            // another user's process (not root), or one that just ended
        }
        try {
            for (String line : Files.readAllLines(proc.resolve("maps"), StandardCharsets.UTF_8)) {
                int slash = line.indexOf('/');
                if (slash > 0 && under(line.substring(slash), mountPoint, prefix)) {
                    uses.add("has " + relative(line.substring(slash), prefix) + " mapped");
                }
            }
        } catch (IOException e) {
            // as above
        }
        return uses;
    }

    /** Loop devices backed by a file under the mountpoint: they hold it open from the kernel, in no process. */
    private static List<String> loopDevices(String mountPoint, String prefix) {
        List<String> found = new ArrayList<>();
        try (DirectoryStream<Path> devices = Files.newDirectoryStream(BLOCK, "loop*")) {
            for (Path dev : devices) {
                Path backing = dev.resolve("loop").resolve("backing_file");
                if (Files.isReadable(backing)) {
                    String file = Files.readString(backing, StandardCharsets.UTF_8).strip();
                    if (under(file, mountPoint, prefix)) {
                        found.add("loop device /dev/" + dev.getFileName() + " is attached to " + relative(file, prefix)
                                + mountedAt(dev.getFileName().toString()));
                    }
                }
            }
        } catch (IOException e) {
            // no /sys/block: nothing to name
        }
        return found;
    }

    /** " (mounted at /mnt/guest)" when the loop device is mounted somewhere, else "". */
    private static String mountedAt(String device) {
        try {
            for (MountInfo.Line l : MountInfo.read()) {
                if (l.source().equals("/dev/" + device)) {
                    return " (mounted at " + new String(l.mountPoint(), StandardCharsets.UTF_8) + ")";
                }
            }
        } catch (IOException e) {
            // then only the device is named
        }
        return "";
    }

    private static boolean under(String path, String mountPoint, String prefix) {
        return path != null && (path.equals(mountPoint) || path.startsWith(prefix));
    }

    private static String relative(String path, String prefix) {
        return path.startsWith(prefix) ? path.substring(prefix.length()) : path;
    }

    private static String link(Path p) {
        try {
            return Files.readSymbolicLink(p).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    private static String command(Path proc) {
        try {
            return Files.readString(proc.resolve("comm"), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return "?";
        }
    }
}
