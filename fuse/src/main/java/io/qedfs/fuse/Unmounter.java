package io.qedfs.fuse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Unmounts a qedfs mount and waits until its serving process has flushed, closed and exited. Root unmounts with
 * umount(2) itself ({@link KernelUnmount}), anyone else with fusermount; the wait is on the process's pidfd
 * ({@link ProcessExit}): nothing on the way polls.
 */
public final class Unmounter {
    private static final Logger LOG = LoggerFactory.getLogger(Unmounter.class);

    private Unmounter() {
    }

    /** Nothing is mounted at the mountpoint. */
    public static final class NotMountedException extends IOException {
        private static final long serialVersionUID = 1L;

        NotMountedException(String message) {
            super(message);
        }
    }

    /**
     * The mountpoint given is a file (an image, or a file of a mount) rather than where images are mounted; the
     * message says which qedfs mount the file belongs to, if any.
     */
    public static final class NotAMountPointException extends IOException {
        private static final long serialVersionUID = 1L;

        NotAMountPointException(String message) {
            super(message);
        }
    }

    /** The mount is in use and stays mounted; the message names who uses it where that can be found. */
    public static final class BusyException extends IOException {
        private static final long serialVersionUID = 1L;

        BusyException(String message) {
            super(message);
        }
    }

    /**
     * Unmounts {@code mountPoint} (not lazily: a busy mount is reported, not hidden), waits up to
     * {@code waitSeconds} for the serving process to exit, and then reads from its {@link MountRecord} how it
     * ended: an IOException naming what went wrong unless every image was flushed, marked clean and closed.
     * Messages name the mountpoint as the caller gave it.
     *
     * @throws NotMountedException when nothing is mounted there
     * @throws BusyException       when the mount is in use (it stays mounted)
     */
    public static void unmount(Path mountPoint, long waitSeconds) throws IOException, InterruptedException {
        Optional<MountTable.Entry> found;
        try {
            found = MountTable.find(mountPoint);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new NotMountedException(mountPoint + ": not mounted (no such directory)");
        }
        if (found.isEmpty()) {
            if (MountTable.isMountPoint(mountPoint)) {
                throw new IOException(mountPoint + ": mounted, but not by qedfs; use umount or fusermount -u");
            }
            if (java.nio.file.Files.isRegularFile(mountPoint)) { // qedfs unmount disk.qed
                throw new NotAMountPointException(mountPoint + " is a file, not a mountpoint" + mountOf(mountPoint));
            }
            throw new NotMountedException(mountPoint + ": not mounted");
        }
        MountTable.Entry entry = found.get();
        Path mp = entry.mountPoint();
        boolean wasServed = entry.isServed();
        if (KernelUnmount.available()) {
            // umount(8) would remove the mount's utab entry; this unmount does not go through it
            Optional<Runnable> putBackUtabEntry = UmountHelperEntry.removeBeforeUnmount(mp);
            int errno = KernelUnmount.unmount(mp);
            if (errno != 0) {
                putBackUtabEntry.ifPresent(Runnable::run);
            }
            if (errno == KernelUnmount.EBUSY) {
                throw busy(mountPoint, mp);
            }
            if (errno != 0) {
                throw new IOException(mountPoint + ": umount failed: " + KernelUnmount.describe(errno));
            }
        } else {
            ProcessResult r = run(List.of("fusermount", "-u", mp.toString()));
            if (r.exit != 0) {
                if (r.output.contains("busy")) {
                    throw busy(mountPoint, mp);
                }
                throw new IOException(mountPoint + ": fusermount -u failed: " + r.output.strip());
            }
        }
        if (!ProcessExit.await(entry.pid(), entry.startTicks(), waitSeconds, TimeUnit.SECONDS)) {
            throw new IOException(mountPoint + ": unmounted, but the qedfs process " + entry.pid()
                    + " has not finished closing its images after " + waitSeconds + " s");
        }
        reportOutcome(entry, mountPoint, wasServed);
    }

    /**
     * Which qedfs mount {@code file} belongs to, said as the rest of a message: one of the files it serves, or an
     * image its serving process holds (locked); "" when none (or when that cannot be found out).
     */
    private static String mountOf(Path file) {
        try {
            Path real = file.toRealPath();
            List<MountInfo.Line> mounts = MountInfo.read();
            Set<Long> holders = LockHolders.pids(real);
            for (MountInfo.Line l : mounts) {
                Path mp = MountTable.path(l.mountPoint());
                if (!l.isFuse() || MountTable.topmostFuse(mounts, mp).orElse(null) != l) {
                    continue;
                }
                Optional<MountTable.Entry> qedfs = MountTable.find(mp);
                if (qedfs.isPresent() && real.startsWith(mp) && !real.equals(mp)) {
                    return "; it is a file of the qedfs mount at " + mp + ": qedfs unmount " + shellWord(mp);
                }
                if (qedfs.isPresent() && holders.contains(qedfs.get().pid())) {
                    return "; the qedfs mount at " + mp + " serves it: qedfs unmount " + shellWord(mp);
                }
            }
        } catch (IOException | RuntimeException e) {
            // the message says what the argument is without it
        }
        return "";
    }

    /** {@code p} as a shell word: quoted when it holds anything but letters, digits and {@code /._+-}. */
    private static String shellWord(Path p) {
        String s = p.toString();
        return s.matches("[A-Za-z0-9/._+-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
    }

    /** {@code mountPoint} as the caller gave it, {@code mp} its real path. */
    private static BusyException busy(Path mountPoint, Path mp) {
        List<String> users = MountUsers.of(mp);
        return new BusyException(mountPoint + ": the mount is busy, left mounted: " + (users.isEmpty()
                ? "a process, or a loop device set up with losetup or mount -o loop, still uses it (fuser -vm "
                        + mountPoint + " may name it)"
                : String.join("; ", users)) + "; release it and try again");
    }

    /**
     * Returns if the record says the images were closed cleanly; throws with what it says otherwise. The record
     * read is that of the process seen serving the mount: the device may have a new mount, and a record, by now.
     */
    private static void reportOutcome(MountTable.Entry entry, Path mp, boolean wasServed) throws IOException {
        Optional<MountRecord.Contents> record = MountRecord.readOwn(entry.ownerUid(), entry.device(), entry.pid(),
                entry.startTicks());
        if (record.isEmpty()) {
            throw new IOException(mp + ": unmounted, but how the qedfs process " + entry.pid() + " ended is unknown: its record "
                    + MountRecord.fileFor(entry.ownerUid(), entry.device(), entry.pid(), entry.startTicks()) + " is gone");
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
                // the mount may be gone already (another unmount won the race): only a mount left behind matters
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
