package io.qedfs.qed;

import io.qedfs.qed.host.FileIo;
import io.qedfs.qed.host.Uninterruptibly;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The open-time check of an image served while it runs (docs/architecture.md, "Background check"). The check
 * scans with the allocation lock held, so nothing changes a table or the allocation pointer meanwhile: every
 * such change waits in {@link #awaitFinished}. Reads go on, as the tables say. Writes go on in place when every
 * cluster they touch is a referenced data cluster that is no table, under an L1 entry the check keeps, and
 * {@link PreImages} can save what they overwrite; any other write waits for the end of the check and then runs
 * as usual. The repair runs with {@link #pause} held exclusively, so no read, lookup or in-place write straddles
 * it; it runs to its end once started. A stop (the image is being closed) ends the scan at the next table,
 * before anything was repaired: the image stays dirty, and from then on every metadata change is refused.
 */
final class DeferredCheck {
    /** A hold on {@link #pause}, shared; closing it lets the repair go. */
    interface Permit extends AutoCloseable {
        @Override
        void close();
    }

    static final Permit NOTHING = () -> { };

    /** How many bytes writes during the scan may overwrite in total before further ones wait for the check. */
    static final long PRE_IMAGE_BUDGET = 16L << 20;

    private final ImageMetadata meta;
    private final PreImages saved;
    /** Shared: a read, lookup or in-place write while the check runs; exclusive: the repair. */
    private final ReentrantReadWriteLock pause = new ReentrantReadWriteLock();
    /** Guards the fields below that are not volatile, and is what waiters wait on. */
    private final Object monitor = new Object();
    /** True once the check has ended (repaired, stopped or failed); written under monitor. */
    private volatile boolean finished;
    private volatile boolean stopRequested;
    /** Where the tables are, once the pass over L1 is done (guarded by monitor; volatile for in-place writes). */
    private volatile ConsistencyCheck.TableMap tables;
    /** Why metadata may not change now that the check has ended, or null (guarded by monitor). */
    private String refusal;
    /** The check's report once it has run to its end (guarded by monitor). */
    private CheckReport report;
    /** True once run() has begun (guarded by monitor). */
    private boolean started;

    DeferredCheck(ImageMetadata meta, long preImageBudget) {
        this.meta = meta;
        this.saved = new PreImages(meta.channel, meta.name, meta.geometry.clusterBits, preImageBudget);
    }

    boolean isFinished() {
        return finished;
    }

    boolean stopRequested() {
        return stopRequested;
    }

    /** A shared hold for a read or lookup while the check runs; nothing once it has finished. */
    Permit shared() {
        if (finished) {
            return NOTHING;
        }
        pause.readLock().lock();
        return pause.readLock()::unlock;
    }

    /**
     * What the image makes of the check's end, before anyone waiting for it goes on: given the report (null when the
     * check did not run to its end) and, without one, why; returns why the tables may not change from now on, or null.
     */
    interface Settle {
        String settle(CheckReport report, String why);
    }

    /**
     * Runs {@code check} (scan, then repair) unless it was stopped first; null when it stopped before its repair (or
     * ran already). Caller holds the allocation lock.
     */
    CheckReport run(ConsistencyCheck check, Settle settle) throws IOException {
        synchronized (monitor) {
            if (finished || started) {
                settle.settle(null, refusal);
                return null;
            }
            started = true;
        }
        try {
            check.scan(() -> stopRequested, this::tablesKnown);
        } catch (ConsistencyCheck.StoppedException e) {
            end(null, settle.settle(null, meta.name + ": the image is being closed before its check finished;"
                    + " it stays marked for a check"));
            return null;
        } catch (IOException | RuntimeException | Error e) {
            end(null, settle.settle(null, meta.name + ": its check failed: " + e.getMessage()));
            throw e;
        }
        pause.writeLock().lock(); // waits for the reads and in-place writes in flight
        try {
            CheckReport r = check.repair(saved);
            end(r, settle.settle(r, null));
            return r;
        } catch (IOException | RuntimeException | Error e) {
            end(null, settle.settle(null, meta.name + ": the repair of its check failed: " + e.getMessage()));
            throw e;
        } finally {
            saved.clear(); // up to the budget of memory, needed no longer
            pause.writeLock().unlock();
        }
    }

    private void tablesKnown(ConsistencyCheck.TableMap t) {
        synchronized (monitor) {
            tables = t;
            monitor.notifyAll();
        }
    }

    /** The check has ended: with its report or without, and why metadata may no longer change (or null). */
    private void end(CheckReport r, String why) {
        synchronized (monitor) {
            report = r;
            refusal = why;
            finished = true;
            monitor.notifyAll();
        }
    }

    /** The report of a check that ran to its end, or null. */
    CheckReport report() {
        synchronized (monitor) {
            return report;
        }
    }

    /**
     * Asks the check to stop at its next table; one that has not begun never will. Returns at once: the repair,
     * once it has begun, runs to its end.
     */
    void stop() {
        stopRequested = true;
        synchronized (monitor) {
            if (!started && !finished) {
                end(null, meta.name + ": the image is being closed before its check ran; it stays marked for a check");
            }
        }
    }

    /** Returns once the check has ended, and throws when metadata may not change (stopped, failed, or corrupt). */
    void awaitFinished() throws IOException {
        String why;
        synchronized (monitor) {
            awaitUninterruptibly(() -> finished);
            why = refusal;
        }
        if (why != null) {
            throw new IOException(why);
        }
    }

    /** Returns once the check has ended, whatever its outcome. */
    void awaitEnd() {
        synchronized (monitor) {
            awaitUninterruptibly(() -> finished);
        }
    }

    // expects monitor; a FUSE thread that waits here must not lose an interrupt, nor be woken early by one
    private void awaitUninterruptibly(java.util.function.BooleanSupplier done) {
        Uninterruptibly.await(() -> {
            while (!done.getAsBoolean()) {
                monitor.wait();
            }
            return true;
        });
    }

    /**
     * Writes {@code src} in place while the check scans, when that cannot make the repair's result differ from a
     * check that ran before the write (see the class comment); false, having written nothing, when the write must
     * wait for the check. On true {@code src} is consumed.
     */
    boolean tryWriteInPlace(long pos, ByteBuffer src) throws IOException {
        synchronized (monitor) {
            awaitUninterruptibly(() -> finished || tables != null);
        }
        try (Permit p = shared()) {
            ConsistencyCheck.TableMap t = tables;
            if (finished || t == null) {
                return false; // the check ended meanwhile: the caller writes as usual
            }
            Geometry g = meta.geometry;
            long end = pos + src.remaining();
            List<Run> runs = new ArrayList<>();
            List<PreImages.Piece> pieces = new ArrayList<>();
            for (long at = pos; at < end; ) {
                Run run;
                try {
                    run = meta.lookup(at, end - at);
                } catch (QedCorruptionException e) {
                    return false; // an entry the repair clears: the write allocates after it
                }
                if (run.kind() != Run.Kind.DATA || t.badL1().get(g.l1Index(at))) {
                    return false;
                }
                for (long done = 0; done < run.length(); ) {
                    long file = run.fileOffset() + done;
                    long len = Math.min(run.length() - done, g.clusterSize - g.offsetInCluster(file));
                    if (t.isTableCluster(g.clusterStart(file))) {
                        return false; // a data entry into a table: its repair gives it a copy first
                    }
                    pieces.add(new PreImages.Piece((at + done) >>> g.clusterBits, file, len));
                    done += len;
                }
                runs.add(run);
                at += run.length();
            }
            if (!saved.saveBefore(pieces)) {
                return false;
            }
            for (Run run : runs) {
                int n = (int) run.length(); // fits: at most src.remaining()
                FileIo.writeFully(meta.channel, run.fileOffset(), src.slice(src.position(), n));
                src.position(src.position() + n);
            }
            return true;
        }
    }
}
