package io.qedfs.fuse;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This process's file descriptors against its limit (RLIMIT_NOFILE, what {@code ulimit -n} sets), read from
 * /proc, to tell a user who ran out of them (EMFILE, "Too many open files") what the limit is and how to raise it.
 */
public final class FileDescriptors {
    /**
     * How close to the limit counts as out of descriptors: what a mount opens after its images (the host file
     * store, /dev/fuse, libfuse's socketpair, fusermount's pipes, the mount record), with room to spare. Running
     * out in any of those fails the mount at a random place, with the JDK's or libfuse's words.
     */
    private static final int MARGIN = 12;

    private FileDescriptors() {
    }

    /** The one-line explanation of EMFILE, with this process's limit when /proc tells it. */
    public static String tooManyOpen() {
        long limit = limit();
        return "too many open files: this process may have " + (limit > 0 ? Long.toString(limit) : "only so many")
                + " open (ulimit -n); raise the limit (e.g. ulimit -n 4096 in the shell that runs qedfs) or mount fewer"
                + " images at once";
    }

    /** Whether this process has (nearly) as many descriptors open as it may. */
    static boolean nearLimit() {
        long limit = limit();
        if (limit <= 0) {
            return false;
        }
        long open = 0;
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path ignored : fds) {
                open++;
            }
        } catch (IOException e) {
            return "Too many open files".equals(e instanceof java.nio.file.FileSystemException f ? f.getReason() : null);
        }
        return open >= limit - MARGIN;
    }

    /** The soft limit on open files, from /proc/self/limits; -1 when unknown or unlimited. */
    static long limit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String soft = line.substring("Max open files".length()).strip().split("\\s+")[0];
                    return soft.equals("unlimited") ? -1 : Long.parseLong(soft);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // unknown
        }
        return -1;
    }
}
