package io.qedfs.fuse;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Who holds locks on a file, for the message of an open refused because the image is in use. QEMU takes OFD
 * locks, which {@code /proc/locks} lists without a pid; each process's {@code /proc/PID/fdinfo/FD} lists the
 * locks of that descriptor, so that is where the holders are found (those whose /proc this process may read).
 */
final class LockHolders {
    private LockHolders() {
    }

    /** "held by process 1234 (qemu-io)", or why no holder is named. Never throws. */
    static String describe(Path file) {
        try {
            Set<String> holders = new TreeSet<>();
            for (Path proc : holdersOf(file)) {
                holders.add(proc.getFileName() + " (" + command(proc) + ")");
            }
            return holders.isEmpty() ? "no holder visible in /proc"
                    : "held by process" + (holders.size() > 1 ? "es " : " ") + String.join(", ", holders);
        } catch (IOException | RuntimeException e) {
            return "holder unknown (" + e.getMessage() + ")";
        }
    }

    /** The processes (but this one) that hold locks on {@code file}, as far as /proc shows them. */
    static Set<Long> pids(Path file) throws IOException {
        Set<Long> pids = new TreeSet<>();
        for (Path proc : holdersOf(file)) {
            pids.add(Long.parseLong(proc.getFileName().toString()));
        }
        return pids;
    }

    /** The /proc directories of the processes, but this one, that hold locks on {@code file}. */
    private static List<Path> holdersOf(Path file) throws IOException {
        long dev = (Long) Files.getAttribute(file, "unix:dev");
        long ino = (Long) Files.getAttribute(file, "unix:ino");
        // st_dev as the kernel prints it in lock lines: MAJ:MIN in hex
        long major = (dev >>> 8) & 0xfff | (dev >>> 32) & ~0xfffL;
        long minor = dev & 0xff | (dev >>> 12) & ~0xffL;
        String key = String.format(" %02x:%02x:%d ", major, minor, ino);
        List<Path> holders = new ArrayList<>();
        String self = Long.toString(ProcessHandle.current().pid());
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path proc : procs) {
                if (!proc.getFileName().toString().equals(self) && holdsLock(proc, key)) {
                    holders.add(proc);
                }
            }
        }
        return holders;
    }

    private static boolean holdsLock(Path proc, String key) {
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fdinfo"))) {
            for (Path fd : fds) {
                String info = read(fd);
                if (info.contains("lock:") && info.contains(key)) {
                    return true;
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone meanwhile, or not ours to read
        }
        return false;
    }

    private static String command(Path proc) {
        String comm = read(proc.resolve("comm")).strip();
        return comm.isEmpty() ? "?" : comm;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }
}
