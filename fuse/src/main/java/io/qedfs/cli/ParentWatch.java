package io.qedfs.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Ends a serving process whose {@code qedfs mount} went away before the mount was ready. The serving process
 * runs in a session of its own, so a Ctrl-C or a kill of the waiting command never reaches it: without this,
 * a server still opening (or checking) its images when the user gave up would mount later with nobody told,
 * or wait forever. The watch ends once the server has reported to the waiting command ({@link ServerReport}):
 * the command returns then, and its exit must not take the mount down.
 */
final class ParentWatch {
    private static final long POLL_MILLIS = 100;

    private ParentWatch() {
    }

    /** Watches the command that waits for {@code report}, on a daemon thread. */
    static void start(ServerReport report, Path mountPoint) {
        Optional<ProcessHandle> waiting = ProcessHandle.of(report.parentPid());
        Thread t = new Thread(() -> watch(report, waiting, mountPoint), "qedfs-parent-watch");
        t.setDaemon(true);
        t.start();
    }

    private static void watch(ServerReport report, Optional<ProcessHandle> waiting, Path mountPoint) {
        try {
            while (!report.isSettled()) {
                if (waiting.isEmpty() || isGone(waiting.get())) {
                    boolean stop;
                    synchronized (report) { // not settled meanwhile by the mount becoming ready
                        stop = !report.isSettled();
                        if (stop) {
                            System.err.println("qedfs: " + mountPoint + ": the qedfs mount command that started this"
                                    + " server is gone before the mount was ready; stopping");
                            report.exit(1);
                        }
                    }
                    if (stop) {
                        System.exit(1); // the shutdown hook unmounts, if it got that far, and closes the images
                    }
                    return;
                }
                Thread.sleep(POLL_MILLIS);
            }
        } catch (InterruptedException e) {
            // a daemon thread: the process is ending
        }
    }

    /**
     * Tells whether the waiting command has ended. {@link ProcessHandle#isAlive} reads /proc/PID/stat, and says
     * "not alive" also when it cannot open that file: a server that has just used up its descriptors (too many
     * images for {@code ulimit -n}) would take that for a command that went away, and report that instead of the
     * limit. A stat of /proc/PID needs no descriptor, so only a command whose /proc entry is gone counts as gone.
     */
    private static boolean isGone(ProcessHandle waiting) {
        return !waiting.isAlive() && !Files.exists(Path.of("/proc", Long.toString(waiting.pid())));
    }
}
