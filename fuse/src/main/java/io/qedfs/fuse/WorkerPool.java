package io.qedfs.fuse;

import io.qedfs.qed.host.Uninterruptibly;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The life of a fixed pool of {@link SessionWorker} threads: start them, tell the caller once all serve, and
 * wait until every one has returned. When the kernel ends the connection (an unmount) every worker returns by
 * itself. When one worker ends the session on an error, the others stay blocked in read() of /dev/fuse; they
 * are released by unmounting lazily and, if the mount stays busy, by aborting the connection through
 * /sys/fs/fuse/connections (libfuse's C loop uses pthread_cancel, which Java threads cannot use). A worker that
 * never returns leaves the pool {@link Outcome#STUCK}: the session it still uses must not be freed.
 */
final class WorkerPool {
    private static final Logger LOG = LoggerFactory.getLogger(WorkerPool.class);
    /** How long the remaining threads get to return once one has seen the session end, before escalating. */
    private static final long STRAGGLER_MILLIS = 2000;
    private static final long ABORT_WAIT_SECONDS = 30;

    /** How the pool ended: every worker returned, or some are still blocked in the kernel. */
    enum Outcome { ENDED, STUCK }

    private final Path mountPoint;
    private final int size;
    /** Counted down by the first worker to return. */
    private final CountDownLatch anyEnded = new CountDownLatch(1);
    /** Counted down by every worker as it returns, and for every worker that could not be started. */
    private final CountDownLatch allEnded;
    /** The workers started; written by the thread that runs the pool, before it waits. */
    private final List<SessionWorker> workers = new ArrayList<>();
    /** Why starting a worker failed, or null; written and read by the thread that runs the pool. */
    private String startFailure;

    WorkerPool(Path mountPoint, int size) {
        if (size < 1) {
            throw new IllegalArgumentException("threads must be at least 1: " + size);
        }
        this.mountPoint = mountPoint;
        this.size = size;
        this.allEnded = new CountDownLatch(size);
    }

    /**
     * Starts {@code size} threads, each running the worker {@code newWorker} makes from the callback it must run
     * as it returns; runs {@code onServing} once all have started; returns once every worker has returned, or
     * gives up on those that do not. {@code exitSession} ends the session when a thread cannot be started.
     */
    Outcome run(Function<Runnable, SessionWorker> newWorker, Runnable exitSession, Runnable onServing) {
        Runnable onReturn = () -> {
            anyEnded.countDown();
            allEnded.countDown();
        };
        for (int i = 0; i < size; i++) {
            try {
                SessionWorker w = newWorker.apply(onReturn);
                Thread t = new Thread(w, "qedfs-fuse-" + (i + 1));
                t.setDaemon(true); // never keeps the JVM alive; every exit path joins or gives up explicitly
                t.start();
                workers.add(w);
            } catch (Throwable t) { // e.g. no memory for a thread: stop the ones that run, as after any failure
                LOG.error("starting FUSE thread {} failed: {}", i + 1, t.toString(), t);
                startFailure = t.toString();
                exitSession.run();
                anyEnded.countDown();
                for (int j = i; j < size; j++) {
                    allEnded.countDown();
                }
                break;
            }
        }
        if (anyEnded.getCount() > 0) {
            try {
                onServing.run();
            } catch (Throwable t) { // the caller's to handle; the workers serve on regardless
                LOG.error("{}: after the mount was set up: {}", mountPoint, t.toString(), t);
            }
        }
        Uninterruptibly.await(() -> {
            anyEnded.await();
            return true;
        });
        if (awaitAll(TimeUnit.MILLISECONDS.toNanos(STRAGGLER_MILLIS))) {
            return Outcome.ENDED;
        }
        // the session ended without the kernel ending the connection (an error in one thread): the others
        // are blocked in read() and only an unmount or an abort of the connection wakes them
        LOG.warn("{}: FUSE session ended ({}); {} thread(s) still waiting for requests: unmounting",
                mountPoint, failure(), allEnded.getCount());
        Optional<MountTable.Entry> entry = findMount(mountPoint);
        Unmounter.requestLazy(mountPoint);
        if (!awaitAll(TimeUnit.MILLISECONDS.toNanos(STRAGGLER_MILLIS)) && entry.isPresent()) {
            LOG.warn("{} still busy: aborting the FUSE connection", mountPoint);
            FuseConnections.abort(entry.get());
        }
        return awaitAll(TimeUnit.SECONDS.toNanos(ABORT_WAIT_SECONDS)) ? Outcome.ENDED : Outcome.STUCK;
    }

    /** Why the session ended on an error (the first worker's reason, or why a thread could not start), or null. */
    String failure() {
        for (SessionWorker w : workers) {
            if (w.failure() != null) {
                return w.failure();
            }
        }
        return startFailure;
    }

    /** Waits at most {@code nanos} for every worker to have returned; whether they have. */
    private boolean awaitAll(long nanos) {
        long deadline = System.nanoTime() + nanos;
        return Uninterruptibly.await(() -> allEnded.await(deadline - System.nanoTime(), TimeUnit.NANOSECONDS));
    }

    private static Optional<MountTable.Entry> findMount(Path mountPoint) {
        try {
            return MountTable.findFuse(mountPoint);
        } catch (IOException e) {
            LOG.warn("cannot read the mount table: {}", e.toString());
            return Optional.empty();
        }
    }
}
