package io.qedfs.fuse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Unmounts a qedfs mount and waits until its serving process has flushed, closed and exited. */
public final class Unmounter {
    private static final Logger LOG = LoggerFactory.getLogger(Unmounter.class);

    private Unmounter() {
    }

    /**
     * Unmounts {@code mountPoint} (not lazily: a busy mount is reported, not hidden), waits up to
     * {@code waitSeconds} for the serving process to exit, and then reads from its {@link MountRecord} how it
     * ended: an IOException naming what went wrong unless every image was flushed, marked clean and closed.
     */
    public static void unmount(Path mountPoint, long waitSeconds) throws IOException, InterruptedException {
        MountTable.Entry entry = MountTable.find(mountPoint).orElseThrow(() ->
                new IOException(mountPoint.toAbsolutePath().normalize() + ": not a qedfs mount"));
        Path mp = entry.mountPoint();
        boolean wasServed = entry.isServed();
        ProcessResult r = run(List.of("fusermount", "-u", mp.toString()));
        if (r.exit != 0) {
            if (r.output.contains("busy")) {
                throw new IOException(mp + ": the mount is busy (a process, or a loop device set up with losetup or "
                        + "mount -o loop, still uses it); release it and try again");
            }
            throw new IOException(mp + ": fusermount -u failed: " + r.output.strip());
        }
        // polled, not onExit(): for a process that is not our child the JDK polls from 300 ms upwards
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(waitSeconds);
        while (entry.isServed() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        if (entry.isServed()) {
            throw new IOException(mp + ": unmounted, but the qedfs process " + entry.pid()
                    + " has not finished closing its images after " + waitSeconds + " s");
        }
        reportOutcome(entry, wasServed);
    }

    /** Returns if the record says the images were closed cleanly; throws with what it says otherwise. */
    private static void reportOutcome(MountTable.Entry entry, boolean wasServed) throws IOException {
        Path mp = entry.mountPoint();
        Optional<MountRecord.Contents> record = MountRecord.read(entry.ownerUid(), entry.device())
                .filter(c -> c.isFrom(entry.pid(), entry.startTicks()));
        if (record.isEmpty()) {
            throw new IOException(mp + ": unmounted, but how the qedfs process " + entry.pid() + " ended is unknown: its record "
                    + MountRecord.fileFor(entry.ownerUid(), entry.device()) + " is gone");
        }
        MountRecord.delete(entry.ownerUid(), record.get());
        switch (record.get().state()) {
            case CLEAN -> LOG.debug("{}: the qedfs process {} closed every image cleanly", mp, entry.pid());
            case FAILED -> throw new IOException(mp + ": unmounted, but the qedfs process failed: "
                    + String.join("; ", record.get().errors()));
            default -> throw new IOException(wasServed
                    ? mp + ": unmounted, but the qedfs process " + entry.pid() + " ended (killed?) before it had closed"
                            + " its images: what it had not written yet is lost, and the next mount checks them"
                    : mp + ": removed a stale mount; its qedfs process " + entry.pid() + " had ended (killed?) without"
                            + " closing its images: what it had not written yet is lost, and the next mount checks them");
        }
    }

    /** Detaches the mount lazily (used on SIGINT/SIGTERM); errors are logged. */
    static void requestLazy(Path mountPoint) {
        try {
            ProcessResult r = run(List.of("fusermount", "-u", "-z", mountPoint.toString()));
            if (r.exit != 0) {
                // with --fuse-loop jnr, jnr-fuse's own shutdown hook races us to the same lazy unmount; and the
                // mount may be gone already: only a mount left behind matters
                boolean stillMounted = MountTable.findFuse(mountPoint).isPresent();
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
