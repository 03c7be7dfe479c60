package io.qedfs.qed;

import io.qedfs.qed.host.HostFile;
import io.qedfs.qed.host.Uninterruptibly;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Allocating writes applied by one background thread, so that a sequential writer's next request arrives
 * while the previous one is still being allocated and copied into the host file (FUSE sends one request at a
 * time for a plain sequential {@code write}; without this the two halves never overlap).
 *
 * <p>The contract is the page cache's: a submitted write is acknowledged once its bytes are copied here; it is
 * durable after an fsync that starts later. Writes are applied in submission order by a single thread
 * ({@link WriteQueue}); a read waits for the queued writes it overlaps, an fsync for those submitted before
 * it, and whatever else changes the image runs as a barrier, with nothing queued.
 *
 * <p>Nothing is acknowledged without the host space to store it: {@link #trySubmit} reserves (fallocate) the
 * space the write may allocate at the end of the file, and the space under the clusters it overwrites,
 * which a discard may have punched out. Where that cannot be done (a full disk, no fallocate) it declines and
 * the caller writes synchronously, getting the error, if any, itself. A write that fails anyway once
 * acknowledged (an I/O error), or an Error on the thread, is a {@link StickyFailure}; a read of a range such
 * a write covered fails too. The thread never dies silently: whatever ends it ends every wait for it.
 */
final class WriteBehind implements AutoCloseable {
    /** The largest write taken: one FUSE request (1 MiB when the kernel grants it); larger ones go synchronously. */
    static final int MAX_WRITE = 1 << 20;
    /** Host space reserved beyond what queued writes need, so that fallocate runs once per 8 MiB. */
    private static final long RESERVE_AHEAD = 8L << 20;

    /** A barrier: while it is open nothing is queued or applied (see {@link #exclusive}). */
    interface Exclusive extends AutoCloseable {
        @Override
        void close();
    }

    private final WritePath writes;
    private final ImageMetadata meta;
    private final HostFile host;
    private final StickyFailure failure;
    private final WriteQueue queue;
    /** Upper bound of the bytes queued writes may still add to the file (guarded by this for additions). */
    private final AtomicLong promised = new AtomicLong();
    /**
     * Host space past the end of the file is reserved up to here (guarded by this). Only the writer thread
     * allocates while writes are queued; a barrier may allocate or truncate (dropping the reservation), so
     * each one ends by forgetting it.
     */
    private long reservedEnd;
    /** Writeback of the file has been started up to here (writer thread only). */
    private long writebackFrom;
    /** How much newly written file a writeback is started for at a time; system property qedfs.writeback=false: never. */
    private static final long WRITEBACK_STEP = "false".equals(System.getProperty("qedfs.writeback")) ? Long.MAX_VALUE : 4L << 20;
    /**
     * The slots every queued write holds one of, and our own copies' buffers (for callers that do not hand theirs
     * over), possibly shared with other images.
     */
    private final WriteBuffers buffers;
    /** Started by the first write queued: an image that is only read never has one. */
    private final Thread worker;
    private volatile boolean started; // written under this

    /** {@code depth}: writes this image may have queued, if {@code buffers} has slots for them. */
    WriteBehind(WritePath writes, ImageMetadata meta, HostFile host, WriteBuffers buffers, int depth) throws IOException {
        this.writes = writes;
        this.meta = meta;
        this.host = host;
        this.failure = meta.failure;
        host.releaseReserved(); // what a session that crashed reserved
        this.buffers = buffers;
        this.queue = new WriteQueue(depth);
        this.worker = new Thread(this::applyLoop, "qedfs-writer");
        worker.setDaemon(true);
    }

    /**
     * Copies {@code src} (at most {@link #MAX_WRITE} bytes) and queues it, returning once it is copied; false,
     * with nothing queued, when host space for it cannot be reserved. With {@code giveBack} not null the
     * buffer itself is queued, not a copy: the caller must leave its bytes alone until {@code giveBack} runs
     * (on the writer thread, once they are applied). This saves a copy of every request of a sequential write.
     */
    boolean trySubmit(long pos, ByteBuffer src, Runnable giveBack) throws IOException {
        failure.throwIfSet();
        Geometry g = meta.geometry;
        // the clusters it covers, and two L2 tables in case it starts them both
        long worstCase = g.wholeClusters(g.offsetInCluster(pos) + src.remaining()) + 2L * g.tableBytes;
        if (!buffers.tryTake()) {
            return false; // the budget is queued: this one goes synchronously
        }
        boolean queued = false;
        try {
            if (!reserveUnder(pos, src.remaining()) || !reserve(worstCase)) {
                return false;
            }
            ByteBuffer buf;
            if (giveBack != null) {
                buf = src.duplicate();
            } else {
                buf = buffers.copyBuffer();
                buf.put(src.duplicate()).flip();
            }
            startWorker();
            if (queue.add(pos, buf, worstCase, giveBack) == null) {
                promised.addAndGet(-worstCase);
                if (giveBack == null) {
                    buffers.recycle(buf);
                }
                failure.throwIfSet();
                throw new IOException(meta.name + ": image is closed");
            }
            queued = true;
            return true;
        } finally {
            if (!queued) {
                buffers.give();
            }
        }
    }

    private void startWorker() {
        if (!started) {
            synchronized (this) {
                if (!started) {
                    worker.start();
                    started = true;
                }
            }
        }
    }

    /**
     * Reserves the host space under the allocated clusters of the range: a discard punched holes there, and
     * writing into a hole needs new space. Clusters not allocated yet get theirs from {@link #reserve}.
     */
    private boolean reserveUnder(long pos, int len) throws IOException {
        for (long at = pos, end = pos + len; at < end; ) {
            Run run = meta.lookup(at, end - at);
            if (run.kind() == Run.Kind.DATA && !host.reserve(run.fileOffset(), run.length())) {
                return false;
            }
            at += run.length();
        }
        return true;
    }

    private synchronized boolean reserve(long bytes) {
        long end = meta.fileEnd() + promised.get() + bytes; // fileEnd grows before promised shrinks: never short
        if (end > reservedEnd) {
            long from = Math.max(reservedEnd, meta.fileEnd());
            if (host.reserve(from, end + RESERVE_AHEAD - from)) {
                reservedEnd = end + RESERVE_AHEAD;
            } else if (host.reserve(from, end - from)) {
                reservedEnd = end; // a nearly full disk: no more than this write needs
            } else {
                return false;
            }
        }
        promised.addAndGet(bytes);
        return true;
    }

    /** True when a write not yet applied overlaps the range: a write there must queue behind it. */
    boolean overlapsQueued(long pos, long len) {
        return queue.overlapsPending(pos, len);
    }

    /**
     * Returns once the queued writes overlapping {@code [pos, pos+len)} are applied (at once when there are
     * none); throws when one of them, or any write that covered the range, could not be applied.
     */
    void awaitOverlapping(long pos, long len) throws IOException {
        if (!queue.awaitOverlapping(pos, len)) {
            throw failure.isSet() ? failure.exception() : new IOException(meta.name + ": image is closed");
        }
    }

    /** Returns once every write submitted before the call has been applied; throws a failure of any write. */
    void awaitSubmitted() throws IOException {
        long last = queue.lastSubmitted();
        if (!queue.awaitApplied(last)) {
            throw failure.isSet() ? failure.exception() : new IOException(meta.name + ": image is closed");
        }
        failure.throwIfSet();
    }

    /**
     * Opens a barrier: holds new writes back and returns once the queued ones are applied, so that the caller
     * changes the image with nothing queued (zeroing, resizing, a synchronous write); close it when done.
     */
    Exclusive exclusive() throws IOException {
        queue.beginBarrier();
        try {
            awaitSubmitted();
        } catch (IOException | RuntimeException | Error e) {
            endBarrier();
            throw e;
        }
        return this::endBarrier;
    }

    private void endBarrier() {
        synchronized (this) {
            reservedEnd = 0; // a barrier may have truncated the file, which drops what was reserved past its end
        }
        queue.endBarrier();
    }

    private void applyLoop() {
        try {
            WriteQueue.Entry e;
            while ((e = queue.next()) != null) {
                boolean stored = false;
                try {
                    writes.write(e.pos(), e.data());
                    stored = true;
                    startWriteback();
                } catch (Throwable t) { // an Error too: it must become the callers' error, not end this thread silently
                    failure.record(t instanceof Error ? StickyFailure.Kind.INTERNAL_ERROR : StickyFailure.Kind.LOST_WRITE, t);
                } finally {
                    promised.addAndGet(-e.worstCase());
                    release(e);
                    queue.applied(e, stored);
                }
            }
        } catch (Throwable t) { // in the queue's own bookkeeping (no memory for a lock's wait node, say)
            failure.record(StickyFailure.Kind.INTERNAL_ERROR, t);
        } finally {
            queue.end();
        }
    }

    /**
     * Gives a kept buffer back, or our copy's buffer to the pool, and the write's slot; a give-back that throws
     * must not end this thread.
     */
    private void release(WriteQueue.Entry e) {
        try {
            if (e.giveBack() != null) {
                e.giveBack().run();
            } else {
                buffers.recycle(e.data());
            }
        } catch (Throwable t) {
            failure.record(StickyFailure.Kind.INTERNAL_ERROR, t);
        } finally {
            buffers.give();
        }
    }

    /**
     * A stream of allocations grows the file; starting the disk writes for each new 4 MiB as it is written
     * (instead of leaving it all dirty in the page cache) lets them overlap the writer, so the fsync that ends
     * a sequential copy has little left to flush.
     */
    private void startWriteback() {
        long end = meta.fileEnd();
        if (writebackFrom == 0 || end < writebackFrom) {
            writebackFrom = end; // the first queued write, or the file was cut back (a failed allocation)
        } else if (end - writebackFrom >= WRITEBACK_STEP) {
            host.startWriteback(writebackFrom, end - writebackFrom);
            writebackFrom = end;
        }
    }

    /**
     * Applies what is queued and stops the thread; failures stay for the image to report. Never waits for a
     * thread that has ended: what it left queued is lost (and was recorded as such).
     */
    @Override
    public void close() {
        queue.stop();
        Uninterruptibly.await(() -> {
            worker.join();
            return true;
        });
        for (WriteQueue.Entry e; (e = queue.poll()) != null; ) {
            failure.record(StickyFailure.Kind.INTERNAL_ERROR, new IllegalStateException("the writer thread ended early"));
            release(e);
        }
        try {
            host.releaseReserved();
        } catch (IOException e) {
            // the reservation stays past the end of the file until the next read-write open drops it
        }
    }
}
