package io.qedfs.fuse;

import io.qedfs.qed.BackgroundCheck;
import io.qedfs.qed.CheckReport;
import io.qedfs.qed.ProgressListener;
import io.qedfs.qed.QedFormatException;
import io.qedfs.qed.QedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the open-time checks the mount deferred (docs/architecture.md, "Background check"), one image after the
 * other on one thread, while the images are served (or, with {@code --check-before-ready}, those opened at mount all
 * before the mount, on the calling thread): a check reads every L2 table, and several at once would only
 * compete for the same disk. An image opened at mount is queued then, a lazy one when its file is first opened. The
 * log says when each starts, how far it has got (every 10 % of its tables, or every
 * 5 s), what it found and repaired, and when it ended; {@code status} hears "pending", "running", then "done", "stopped"
 * or "failed" for each image (the mount's record shows it). Closing an image stops its check at the next table.
 *
 * <p>The system property {@code qedfs.test.holdCheck} (tests only) names a file: each check then waits, once the
 * pass over L1 is done and before its first L2 table, until that file exists or the check is stopped.
 */
final class BackgroundChecks implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BackgroundChecks.class);
    private static final long PROGRESS_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final String HOLD = System.getProperty("qedfs.test.holdCheck");

    /** How a finished check is reported (the mount's log format). */
    interface Reporter {
        void report(Path image, CheckReport report);
    }

    private final Reporter reporter;
    private final BiConsumer<String, String> status;
    /** The one checking thread, started with the first check queued (thread-safe). */
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "qedfs-check");
        t.setDaemon(true);
        return t;
    });

    BackgroundChecks(Reporter reporter, BiConsumer<String, String> status) {
        this.reporter = reporter;
        this.status = status;
    }

    /**
     * Queues {@code check}, the deferred check of {@code image}, the open image of {@code m}; {@code done} runs once it
     * has ended, however (at once when the checks are closed already: the image is being closed, and stays marked for
     * a check).
     */
    void submit(MountedImage m, QedImage image, BackgroundCheck check, Runnable done) {
        status.accept(m.name(), "pending");
        try {
            worker.execute(() -> {
                try {
                    runOne(m, image, check, reporter, status);
                } catch (Throwable t) {
                    LOG.error("check of {} failed: {}; the image stays marked for a check, and writes that allocate fail",
                            m.path(), t.toString(), t);
                    status.accept(m.name(), "failed");
                } finally {
                    done.run();
                }
            });
        } catch (RejectedExecutionException e) {
            status.accept(m.name(), "stopped");
            done.run();
        }
    }

    /**
     * Runs the deferred checks of the open ones of {@code images} on the calling thread, before anything is served;
     * fails, as an open that checks does, when a read-write image is left corrupt or a check fails.
     */
    static void runBeforeReady(Collection<MountedImage> images, Reporter reporter, BiConsumer<String, String> status)
            throws IOException {
        Map<MountedImage, QedImage> pending = new LinkedHashMap<>();
        for (MountedImage m : images) {
            QedImage image = m.ifOpen();
            if (image != null && pendingCheck(image).isPresent()) {
                pending.put(m, image);
                status.accept(m.name(), "pending");
            }
        }
        for (Map.Entry<MountedImage, QedImage> e : pending.entrySet()) {
            MountedImage m = e.getKey();
            QedImage image = e.getValue();
            Optional<CheckReport> r = runOne(m, image, pendingCheck(image).orElseThrow(), reporter, status);
            if (r.isPresent() && !image.isReadOnly() && r.get().corruptions() > 0) {
                throw new QedFormatException(m.path() + ": the image is corrupt and could not be repaired: "
                        + r.get().corruptions() + " corruptions remain (see check)");
            }
        }
    }

    /** The check {@code image}'s open deferred, while it has yet to end. */
    static Optional<BackgroundCheck> pendingCheck(QedImage image) {
        return image.backgroundCheck().filter(BackgroundCheck::pending);
    }

    /** Runs {@code check}, {@code image}'s, saying so in the log and the status; empty when it was stopped. */
    private static Optional<CheckReport> runOne(MountedImage m, QedImage image, BackgroundCheck check,
            Reporter reporter, BiConsumer<String, String> status) throws IOException {
        if (check.stopping()) {
            status.accept(m.name(), "stopped");
            return Optional.empty();
        }
        long start = System.nanoTime();
        LOG.info("check of {} started{}", m.path(), image.isReadOnly() ? "" : "; writes that allocate wait for it");
        status.accept(m.name(), "running");
        Optional<CheckReport> report;
        try {
            report = check.run(new Progress(m, check, start));
        } catch (IOException | RuntimeException | Error e) {
            status.accept(m.name(), "failed");
            throw e;
        }
        String seconds = String.format("%.1f", (System.nanoTime() - start) / 1e9);
        if (report.isPresent()) {
            reporter.report(m.path(), report.get());
            LOG.info("check of {} ended after {} s", m.path(), seconds);
            status.accept(m.name(), "done");
        } else {
            LOG.info("check of {} stopped after {} s (the image is being closed): nothing was repaired, and the image"
                    + " stays marked for a check", m.path(), seconds);
            status.accept(m.name(), "stopped");
        }
        return report;
    }

    /** Logs every 10 % of the tables, or every 5 s, whichever comes first; holds the check where tests ask. */
    private static final class Progress implements ProgressListener {
        private final MountedImage mounted;
        private final BackgroundCheck check;
        private long lastNanos;
        private long lastTenth;

        Progress(MountedImage mounted, BackgroundCheck check, long start) {
            this.mounted = mounted;
            this.check = check;
            this.lastNanos = start;
        }

        @Override
        public void progress(long done, long total) {
            if (done == 0 && HOLD != null) {
                hold();
            }
            long tenth = total == 0 ? 10 : done * 10 / total;
            long now = System.nanoTime();
            if (done > 0 && done < total && (tenth > lastTenth || now - lastNanos >= PROGRESS_NANOS)) {
                LOG.info("check of {}: {} of {} L2 tables ({}%)", mounted.path(), done, total, done * 100 / total);
                lastTenth = tenth;
                lastNanos = now;
            }
        }

        private void hold() {
            LOG.info("check of {} held until {} exists (qedfs.test.holdCheck)", mounted.path(), HOLD);
            while (!Files.exists(Path.of(HOLD)) && !check.stopping()) {
                try {
                    Thread.sleep(20); // tests only
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** Queues no more checks and waits (a while) for the one running, whose image is closed or closing: it stops. */
    @Override
    public void close() throws InterruptedException {
        worker.shutdown();
        worker.awaitTermination(60, TimeUnit.SECONDS);
    }
}
