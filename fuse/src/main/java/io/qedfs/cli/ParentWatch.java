package io.qedfs.cli;

import io.qedfs.fuse.MountTable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Ends a serving process whose {@code qedfs mount} went away before the mount was ready. The serving process
 * runs in a session of its own, so a Ctrl-C or a kill of the waiting command never reaches it: without this,
 * a server still opening (or checking) its images when the user gave up would mount later with nobody told,
 * or wait forever. The waiting command names itself in {@link #PARENT_ENV}; once the mount is listed for this
 * process the watch ends (the command returns then, and its exit must not take the mount down).
 */
final class ParentWatch {
    /** The environment variable that carries the waiting command's process id to the serving process. */
    static final String PARENT_ENV = "QEDFS_MOUNT_PARENT";
    private static final long POLL_MILLIS = 100;

    private ParentWatch() {
    }

    /** Starts the watch when this process was started by a waiting {@code qedfs mount}; else does nothing. */
    static void startIfChild(Path mountPoint) {
        String parent = System.getenv(PARENT_ENV);
        if (parent == null) {
            return;
        }
        Optional<ProcessHandle> waiting;
        try {
            waiting = ProcessHandle.of(Long.parseLong(parent.strip()));
        } catch (NumberFormatException e) {
            return;
        }
        Thread t = new Thread(() -> watch(waiting, mountPoint), "qedfs-parent-watch");
        t.setDaemon(true);
        t.start();
    }

    private static void watch(Optional<ProcessHandle> waiting, Path mountPoint) {
        long self = ProcessHandle.current().pid();
        try {
            while (!mountedBy(mountPoint, self)) {
                // looked up again once the command is gone: it returns as soon as it sees the mount listed
                if ((waiting.isEmpty() || !waiting.get().isAlive()) && !mountedBy(mountPoint, self)) {
                    System.err.println("qedfs: " + mountPoint + ": the qedfs mount command that started this server"
                            + " is gone before the mount was ready; stopping");
                    System.exit(1);
                }
                Thread.sleep(POLL_MILLIS);
            }
        } catch (IOException | InterruptedException e) {
            // without the mount table there is nothing to decide on: the server goes on as it would have
        }
    }

    private static boolean mountedBy(Path mountPoint, long pid) throws IOException {
        return MountTable.find(mountPoint).filter(e -> e.pid() == pid).isPresent();
    }
}
