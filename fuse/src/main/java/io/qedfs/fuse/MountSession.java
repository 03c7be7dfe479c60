package io.qedfs.fuse;

import io.qedfs.qed.BackgroundCheck;
import io.qedfs.qed.CheckProblem;
import io.qedfs.qed.CheckReport;
import io.qedfs.qed.FileStatus;
import io.qedfs.qed.ImageSummary;
import io.qedfs.qed.MemoryBudget;
import io.qedfs.qed.host.Printable;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.FuseException;

/**
 * Serves images at a mountpoint in the calling thread until it is unmounted, then flushes, marks clean and
 * closes every image. Every way of ending ({@code qedfs unmount}, fusermount -u, umount, SIGINT, SIGTERM)
 * leads through the same path: the FUSE loop returns, and the images are closed before the process exits.
 * How that went (clean, or the error of each image that did not close cleanly) is written to the mount's
 * {@link MountRecord}, which is what {@code qedfs unmount} reports; a failure also fails {@link #serve}.
 *
 * <p>The loop is {@link SessionLoop}: a fixed pool of Java threads driving libfuse2.
 */
public final class MountSession {
    private static final Logger LOG = LoggerFactory.getLogger(MountSession.class);
    private static final long IDLE_CLEAN_MILLIS = 5000;
    /** A lazy image nobody has had open for this long is closed (see {@link MountedImage}). */
    private static final long IDLE_CLOSE_MILLIS = 2000;
    private static final long SHUTDOWN_WAIT_SECONDS = 60;
    private static final long SIGNAL_GRACE_SECONDS = 3;
    /** Tests only: once unmounted, the images are closed only when this file exists (qedfs.test.holdClose). */
    private static final String HOLD_CLOSE = System.getProperty("qedfs.test.holdClose");

    /**
     * Mount settings: read-only, when to check, extra FUSE -o options, libfuse's debug output, how many threads
     * serve the requests, whether every write reaches the image file before it is
     * acknowledged (otherwise allocating writes are queued: durable at fsync, see the engine's WriteBehind),
     * whether partitions are served as files too, whether backing files are opened whoever owns them
     * ({@code --trust-backing}; see the engine's QedOpenOptions), and whether the open-time checks run before the
     * mount is ready ({@code --check-before-ready}) or in the background while it serves ({@link BackgroundChecks}).
     */
    public record Options(boolean readOnly, QedOpenOptions.CheckPolicy check, List<String> fuseOptions, boolean debugFuse,
            int threads, boolean syncWrites, boolean partitions, boolean trustBacking, boolean checkBeforeReady) {
        public Options {
            if (threads < 1) {
                throw new IllegalArgumentException("FUSE threads must be at least 1: " + threads);
            }
        }

        /** The default thread count ({@link #threadsFromSystemProperties}), no partition files. */
        public Options(boolean readOnly, QedOpenOptions.CheckPolicy check, List<String> fuseOptions, boolean debugFuse) {
            this(readOnly, check, fuseOptions, debugFuse, threadsFromSystemProperties(), false, false,
                    false, false);
        }
    }

    /**
     * Binds libfuse2 and loads the FUSE layer's classes on a thread of their own, which a 2-core machine runs
     * while this one opens the images: they are on the way to every ready mount.
     */
    public static void prepareOnSecondCore() {
        Thread t = new Thread(NativeOperations::prepare, "qedfs-prepare-fuse");
        t.setDaemon(true);
        t.start();
    }

    /** System property {@code qedfs.fuse.threads}; {@link SessionLoop#DEFAULT_THREADS} when unset. */
    public static int threadsFromSystemProperties() {
        return Integer.getInteger("qedfs.fuse.threads", SessionLoop.DEFAULT_THREADS);
    }

    private final Path mountPoint;
    /** Set by the first stop signal, so that a second one (a second Ctrl-C) does not start another unmount. */
    private final java.util.concurrent.atomic.AtomicBoolean signalled = new java.util.concurrent.atomic.AtomicBoolean();
    private final Options options;
    private final Overlays.Mode overlay; // null: the images themselves are written
    /** What every image of the mount, and every backing file, caches and queues, together. */
    private final MemoryBudget memory = MemoryBudget.forHeap(Runtime.getRuntime().maxMemory());
    private final CountDownLatch closed = new CountDownLatch(1);
    /** The images served, once open: a signal stops their checks. */
    private volatile Map<String, MountedImage> served = Map.of();
    /** The mount's fuse connection, once the mount is seen in the mount table. */
    private volatile MountTable.Entry mounted;
    private final MountRecordKeeper record;
    /** Why the mount was unmounted again as soon as it was set up (not recorded, or not answering), or null. */
    private volatile String recordFailure;
    /** Runs once the mount is ready: recorded, and its first file answers. */
    private final Runnable onReady;

    public MountSession(Path mountPoint, Options options) {
        this(mountPoint, options, null, () -> { });
    }

    /**
     * A session whose writes go to overlays ({@code overlay} non-null; see {@link Overlays}), which runs
     * {@code onReady} once the mount is ready (for whoever waits for that; never if the mount fails).
     */
    public MountSession(Path mountPoint, Options options, Overlays.Mode overlay, Runnable onReady) {
        this.mountPoint = mountPoint.toAbsolutePath().normalize();
        this.options = options;
        this.overlay = overlay;
        this.onReady = onReady;
        this.record = new MountRecordKeeper(this.mountPoint);
    }

    /** Opens the images, mounts, serves until unmounted, and closes everything. */
    public void serve(List<Path> sources) throws IOException {
        checkMountPoint();
        FileStatus root = FileStatus.of(mountPoint); // before the mount hides it
        Map<String, Path> byName = ImageSources.resolve(sources);
        try (Overlays overlays = overlay == null ? null
                : Overlays.create(byName, overlay, openOptions(true), this::logCheck)) {
            // overlays are all opened now: a temporary one's name goes once it is open
            Set<Path> lazy = overlays == null ? ImageSources.listed(sources, byName.values()) : Set.of();
            serveImages(overlays == null ? byName : overlays.images(), lazy, root, overlays);
        }
    }

    /**
     * {@code lazy}: the images opened on first use (found by listing a directory); {@code overlays}: null, or the
     * overlays served, whose temporary files go once they are open.
     */
    private void serveImages(Map<String, Path> byName, Set<Path> lazy, FileStatus root, Overlays overlays) throws IOException {
        LOG.info("memory shared by the images: {}", memory);
        BackgroundChecks checks = new BackgroundChecks(this::logCheck, record::checkState);
        Map<String, MountedImage> images;
        try {
            images = openAll(byName, lazy, checks);
        } catch (IOException | RuntimeException | Error e) {
            closeChecks(checks);
            throw e;
        }
        if (FileDescriptors.nearLimit()) {
            closeAll(images);
            closeChecks(checks);
            throw new IOException(mountPoint + ": " + FileDescriptors.tooManyOpen());
        }
        Thread hook = new Thread(this::onSignal, "qedfs-shutdown");
        QedFileSystem fs;
        try {
            if (options.checkBeforeReady()) {
                BackgroundChecks.runBeforeReady(images.values(), this::logCheck, record::checkState);
            }
            fs = new QedFileSystem(images, options.partitions() ? PartitionFiles.of(images) : Map.of(), options.readOnly(), root);
            if (overlays != null) {
                overlays.removeTemporaryNames();
            }
        } catch (IOException | RuntimeException e) {
            closeAll(images);
            closeChecks(checks);
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(hook);
        ServerSignals.install(this::onSignal, mountPoint);
        List<String> failures = new ArrayList<>();
        this.served = images;
        try (IdleCleaner cleaner = new IdleCleaner(images.values(), IDLE_CLEAN_MILLIS, IDLE_CLOSE_MILLIS)) {
            String firstFile = images.keySet().iterator().next().substring(1);
            new SessionLoop(new NativeOperations(fs), fs::seek, options.threads())
                    .serve(mountPoint, options.debugFuse(), fuseArgs(), () -> announce(images.size(), firstFile));
        } catch (FuseException e) {
            throw new IOException(mountPoint + ": mount failed: " + FuseDiagnosis.explain(options.fuseOptions()), e);
        } catch (IOException | RuntimeException | Error e) {
            failures.add(e.getMessage() == null ? e.toString() : e.getMessage());
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (recordFailure != null) {
                failures.add(0, recordFailure);
            }
            holdClose();
            failures.addAll(closeAll(images)); // stops the checks still running
            closeChecks(checks);
            record.ended(failures);
            closed.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down: the hook is running and now sees `closed`
            }
        }
        if (!failures.isEmpty()) {
            throw new IOException(String.join("; ", failures));
        }
        LOG.info("unmounted {}; every image flushed, marked clean and closed", mountPoint);
    }

    private void checkMountPoint() throws IOException {
        if (!Files.isDirectory(mountPoint)) {
            if (MountTable.isMountPoint(mountPoint)) { // listed, but stat fails: its serving process is gone
                throw new IOException(mountPoint + ": a stale mount (transport endpoint is not connected) is in the way;"
                        + " remove it with 'qedfs unmount " + mountPoint + "' (or fusermount -u)");
            }
            throw Files.exists(mountPoint) ? new NotDirectoryException(mountPoint.toString())
                    : new java.nio.file.NoSuchFileException(mountPoint.toString(), null, "the mountpoint does not exist (mkdir it first)");
        }
        if (MountTable.isMountPoint(mountPoint)) {
            throw new IOException(mountPoint + ": something is already mounted there");
        }
        if (!wantsOption("nonempty")) {
            try (java.util.stream.Stream<Path> entries = Files.list(mountPoint)) {
                if (entries.findAny().isPresent()) {
                    throw new IOException(mountPoint + ": the mountpoint is not empty (the mount would hide its files);"
                            + " mount on an empty directory, or add -o nonempty to hide them");
                }
            }
        }
    }

    /**
     * Lists every image (header and backing chain: a bad one fails the mount) and opens those not in {@code lazy}
     * for the whole mount; a lazy one opens when its file is first opened. A check an open asks for runs after it,
     * in the background ({@code checks}); with --check-before-ready, before the mount for the images opened now,
     * and during the open for a lazy one (docs/architecture.md, "Background check").
     */
    private Map<String, MountedImage> openAll(Map<String, Path> byName, Set<Path> lazy, BackgroundChecks checks)
            throws IOException {
        QedOpenOptions open = openOptions(options.readOnly()).withWriteBehind(!options.syncWrites()).withDeferredCheck(true);
        QedOpenOptions asBacking = openOptions(true).withDeferredCheck(true);
        BackgroundChecks later = options.checkBeforeReady() ? null : checks;
        Map<Path, ImageSummary> listed = new LinkedHashMap<>();
        for (Path p : byName.values()) {
            listed.put(p, ImageSummary.of(p, open));
        }
        Map<Path, Path> readBy = options.readOnly() ? Map.of() : BackingSources.find(listed.values());
        Map<String, MountedImage> images = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Path> e : byName.entrySet()) {
                Path path = e.getValue();
                Path above = readBy.get(path);
                if (above != null) {
                    LOG.info("{} is a backing file of {}, also served here: {} is read-only", path, above, e.getKey());
                }
                ImageSummary summary = listed.get(path);
                boolean isLazy = lazy.contains(path);
                QedOpenOptions how = above == null ? open : asBacking;
                MountedImage m = new MountedImage(e.getKey(), summary, isLazy && later == null ? how.withDeferredCheck(false) : how,
                        isLazy, image -> image.openCheckReport().ifPresent(r -> logCheck(path, r)), later);
                images.put("/" + e.getKey(), m);
                if (!m.isLazy()) {
                    m.acquire(); // held until unmount
                }
                LOG.info("{} -> {} ({} bytes{}{})", path, e.getKey(), m.size(),
                        summary.backingFileName() == null ? "" : ", backing file " + Printable.escape(summary.backingFileName()),
                        m.isLazy() ? "; opened on first use" : "");
            }
            return images;
        } catch (IOException | RuntimeException | Error e) {
            closeAll(images);
            throw e;
        }
    }

    /** How this mount opens images: read-only or read-write, checked as asked, backing files trusted or not. */
    private QedOpenOptions openOptions(boolean readOnly) {
        return (readOnly ? QedOpenOptions.readOnlyOptions() : QedOpenOptions.readWrite())
                .withCheck(options.check())
                .withTrustBacking(options.trustBacking())
                .withMemory(memory);
    }

    private void logCheck(Path image, CheckReport r) {
        String verdict = r.isClean() ? "clean" : (r.corruptions() + " corruptions, " + r.leaks() + " leaked clusters, "
                + r.checkErrors() + " check errors");
        LOG.info("check of {}: {}; repaired {} corruptions, reclaimed {} leaked clusters{}", image, verdict,
                r.corruptionsFixed(), r.leaksFixed(), options.readOnly() ? " (read-only: nothing changed)" : "");
        for (CheckProblem p : r.problems()) {
            LOG.info("  {}: {}", image.getFileName(), p.message());
        }
    }

    /** Whether the -o options name {@code option}. */
    private boolean wantsOption(String option) {
        return options.fuseOptions().stream().flatMap(group -> java.util.Arrays.stream(group.split(",")))
                .anyMatch(o -> o.strip().equals(option));
    }

    private String[] fuseArgs() {
        // default_permissions: the kernel checks every access against the owner and mode getattr reports;
        // atomic_o_trunc: an open with O_TRUNC reaches open() as a flag instead of a truncate to 0 before it
        List<String> o = new ArrayList<>(List.of("default_permissions", "big_writes", "direct_io", "atomic_o_trunc", "auto_unmount", "subtype=qedfs",
                "fsname=" + MountTable.sourceName(ProcessHandle.current().pid())));
        if (options.readOnly()) {
            o.add("ro");
        }
        o.addAll(options.fuseOptions());
        return new String[] {"-o", String.join(",", o)};
    }

    /**
     * Once the file system is mounted and served: writes its {@link MountRecord} (only then is it a qedfs mount
     * for {@code unmount}), checks that its first file answers through the kernel, and tells {@link #onReady}.
     * A mount that cannot be recorded, or that is not the one at the mountpoint, is unmounted again: nobody
     * could learn how it ended. The record is touched hourly while mounted. Called once, on the thread that
     * set up the mount; never throws.
     */
    private void announce(int count, String firstFile) {
        try {
            Path real = MountTable.realPath(mountPoint);
            var line = MountTable.topmostFuse(MountInfo.read(), real);
            if (line.isEmpty()) {
                detach(mountPoint + ": the mount is not in the mount table (another mount over it?)");
                return;
            }
            mounted = new MountTable.Entry(real, 0, -1, line.get().device(), line.get().ownerUid());
            if (!recordServing(line.get())) {
                return;
            }
            if (!Files.exists(mountPoint.resolve(firstFile))) {
                detach(mountPoint + ": the mount does not answer: " + firstFile + " is missing");
                return;
            }
            LOG.info("serving {} image(s) at {}", count, mountPoint);
            onReady.run();
            Thread keeper = new Thread(this::keepRecord, "qedfs-record-keeper");
            keeper.setDaemon(true);
            keeper.start();
        } catch (IOException | RuntimeException e) {
            detach(mountPoint + ": cannot check the mount: " + e);
        }
    }

    private void keepRecord() {
        record.pruneStale(); // once the mount is ready: the waiting command need not wait for it
        try {
            while (!closed.await(1, TimeUnit.HOURS)) {
                record.touch();
            }
        } catch (InterruptedException e) {
            // a daemon thread: the process is ending
        }
    }

    /** Unmounts again (lazily) a mount that must not be served; {@code why} becomes the session's failure. */
    private void detach(String why) {
        recordFailure = why;
        LOG.error("{}; unmounting", why);
        Unmounter.requestLazy(mountPoint);
    }

    /** Writes the "serving" record; false (and the mount detached) when it cannot be written. */
    private boolean recordServing(MountInfo.Line line) {
        try {
            return record.serving(line);
        } catch (IOException e) {
            detach(mountPoint + ": cannot record the mount for qedfs unmount: " + e.getMessage());
            return false;
        }
    }

    /**
     * SIGINT/SIGTERM: unmount lazily (in-flight requests finish, nothing new can open the files). A process
     * that still holds a file open keeps the connection alive, so after a grace period the connection is
     * aborted: its further requests fail, the FUSE loop ends, and the images are closed cleanly.
     */
    private void onSignal() {
        if (closed.getCount() == 0) {
            return;
        }
        if (!signalled.compareAndSet(false, true)) {
            LOG.info("signal received again: already unmounting {}", mountPoint);
            return;
        }
        LOG.info("signal received: unmounting {}", mountPoint);
        for (MountedImage m : served.values()) {
            QedImage image = m.ifOpen();
            if (image != null) {
                // writes waiting for the check get their error, and the session can end
                image.backgroundCheck().ifPresent(BackgroundCheck::stop);
            }
        }
        Unmounter.requestLazy(mountPoint);
        try {
            if (!closed.await(SIGNAL_GRACE_SECONDS, TimeUnit.SECONDS) && mounted != null) {
                LOG.warn("{} is still in use after {} s: aborting the FUSE connection", mountPoint, SIGNAL_GRACE_SECONDS);
                FuseConnections.abort(mounted);
            }
            if (!closed.await(SHUTDOWN_WAIT_SECONDS, TimeUnit.SECONDS)) {
                LOG.error("{} is still in use after {} s; exiting without a clean close (the next mount will check)",
                        mountPoint, SHUTDOWN_WAIT_SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Tests only: a close held until a file exists lets a test see, without a race, whether an unmount command
     * waits for the images to be closed or returns before.
     */
    private void holdClose() {
        if (HOLD_CLOSE == null) {
            return;
        }
        LOG.info("{} unmounted; closing the images held until {} exists (qedfs.test.holdClose)", mountPoint, HOLD_CLOSE);
        while (!Files.exists(Path.of(HOLD_CLOSE))) {
            try {
                Thread.sleep(20); // tests only
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Waits (a while) for the check running, whose image is closed or closing: it stops. */
    private static void closeChecks(BackgroundChecks checks) {
        try {
            checks.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Closes every image; what went wrong, one line per image that did not close cleanly (now or when idle). */
    private static List<String> closeAll(Map<String, MountedImage> images) {
        List<String> failures = new ArrayList<>();
        for (MountedImage m : images.values()) {
            boolean wasOpen = m.isOpen();
            String failure = m.close();
            if (failure != null) {
                failures.add(failure);
            } else if (wasOpen) {
                LOG.info("{} flushed and closed", m.path());
            }
        }
        return failures;
    }
}
