package io.qedfs.fuse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Unmounts a qedfs mount and waits until its serving process has flushed, closed and exited. */
public final class Unmounter {
    private static final Logger LOG = LoggerFactory.getLogger(Unmounter.class);

    private Unmounter() {
    }

    /**
     * Unmounts {@code mountPoint} (not lazily: a busy mount is reported, not hidden) and waits up to
     * {@code waitSeconds} for the serving process to exit.
     */
    public static void unmount(Path mountPoint, long waitSeconds) throws IOException, InterruptedException {
        Path mp = mountPoint.toAbsolutePath().normalize();
        MountTable.Entry entry = MountTable.find(mp).orElseThrow(() ->
                new IOException(mp + ": not a qedfs mount"));
        ProcessResult r = run(List.of("fusermount", "-u", mp.toString()));
        if (r.exit != 0) {
            if (r.output.contains("busy")) {
                throw new IOException(mp + ": the mount is busy (a process, or a loop device set up with losetup or "
                        + "mount -o loop, still uses it); release it and try again");
            }
            throw new IOException(mp + ": fusermount -u failed: " + r.output.strip());
        }
        if (entry.pid() > 0) {
            // polled, not onExit(): for a process that is not our child the JDK polls from 300 ms upwards
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(waitSeconds);
            while (isRunning(entry.pid()) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            if (isRunning(entry.pid())) {
                throw new IOException(mp + ": unmounted, but the qedfs process " + entry.pid()
                        + " has not finished closing its images after " + waitSeconds + " s");
            }
        }
    }

    /**
     * Whether the process still runs. A zombie has finished: the serving process was started by a command that
     * has exited, so it waits for init to reap it, which can take a second or more.
     */
    static boolean isRunning(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            int close = stat.lastIndexOf(')'); // the state follows the command name, which may hold spaces
            return close < 0 || close + 2 >= stat.length() || stat.charAt(close + 2) != 'Z';
        } catch (IOException e) {
            return false; // gone
        }
    }

    /** Detaches the mount lazily (used on SIGINT/SIGTERM); errors are logged. */
    static void requestLazy(Path mountPoint) {
        try {
            ProcessResult r = run(List.of("fusermount", "-u", "-z", mountPoint.toString()));
            if (r.exit != 0) {
                // with --fuse-loop jnr, jnr-fuse's own shutdown hook races us to the same lazy unmount; and the
                // mount may be gone already: only a mount left behind matters
                boolean stillMounted = MountTable.find(mountPoint).isPresent();
                if (stillMounted) {
                    LOG.warn("fusermount -u -z {}: {}", mountPoint, r.output.strip());
                } else {
                    LOG.debug("fusermount -u -z {}: {}", mountPoint, r.output.strip());
                }
            }
        } catch (IOException e) {
            LOG.warn("could not run fusermount: {}", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private record ProcessResult(int exit, String output) {
    }

    private static ProcessResult run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + " did not finish in 30 s");
        }
        return new ProcessResult(p.exitValue(), out);
    }
}
