package io.qedfs.fuse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A process as /proc shows it: whether it still runs, told apart from a later process that got the same pid. */
final class ServerProcess {
    private ServerProcess() {
    }

    /**
     * When the process started, in clock ticks after boot ({@code /proc/PID/stat} field 22), or -1 when it has
     * ended. A zombie has ended: a serving process started by a command that has exited waits for init to
     * reap it, which can take a second or more.
     */
    static long startTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            int close = stat.lastIndexOf(')'); // the state follows the command name, which may hold spaces
            String[] f = stat.substring(close + 2).split(" ");
            // f[0] is field 3 (the state), so field 22 is f[19]
            return f[0].equals("Z") || f[0].equals("X") || f.length < 20 ? -1 : Long.parseLong(f[19]);
        } catch (IOException | RuntimeException e) {
            return -1; // gone (or unreadable: then it is not ours to wait for)
        }
    }

    static boolean isRunning(long pid, long startTicks) {
        return startTicks >= 0 && startTicks(pid) == startTicks;
    }

    /** This process's user id. */
    static int ownUid() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).intValue();
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name")) ? 0 : -1;
        }
    }
}
