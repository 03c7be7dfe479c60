package io.qedfs.qed;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Allocating writes applied by one background thread, so that a sequential writer's next request arrives
 * while the previous one is still being allocated and copied into the host file (FUSE sends one request at a
 * time for a plain sequential {@code write}; without this the two halves never overlap).
 *
 * <p>The contract is the page cache's: a submitted write is acknowledged once its bytes are copied here; it is
 * durable after the next {@link #drain} and sync (fsync). Writes are applied in submission order by a single
 * thread, and every other operation on the image drains first, so readers and later writers see them. Host
 * space for the queued allocations is reserved before a write is accepted (see {@link SpaceReservation}), so
 * a full disk still fails the write that does not fit rather than a write already acknowledged. Any failure
 * that happens anyway (an I/O error) is sticky: every later write, drain and sync of the image fails.
 * Where space cannot be reserved (full, or no fallocate) {@link #trySubmit} declines and the caller writes
 * synchronously, getting the error, if any, itself.
 */
final class WriteBehind implements AutoCloseable {
    /** The largest write taken: one FUSE request (1 MiB when the kernel grants it); larger ones go synchronously. */
    static final int MAX_WRITE = 1 << 20;
    private static final ByteBuffer STOP = ByteBuffer.allocate(0);
    /** Host space reserved beyond what queued writes need, so that fallocate runs once per 8 MiB. */
    private static final long RESERVE_AHEAD = 8L << 20;

    private final String name;
    private final WritePath writes;
    private final ImageMetadata meta;
    private final HostFile host;
    /** Upper bound of the bytes queued writes may still add to the file (guarded by this for additions). */
    private final AtomicLong promised = new AtomicLong();
    private long reservedEnd; // guarded by this: host space is reserved up to here
    /** Writeback of the file has been started up to here (writer thread only). */
    private long writebackFrom;
    /** How much newly written file a writeback is started for at a time; system property qedfs.writeback=false: never. */
    private static final long WRITEBACK_STEP = "false".equals(System.getProperty("qedfs.writeback")) ? Long.MAX_VALUE : 4L << 20;
    private final ArrayBlockingQueue<ByteBuffer> free;
    private final ArrayBlockingQueue<Queued> queue;
    private final AtomicInteger created = new AtomicInteger();
    private final int slots;
    /** Submitted and not yet applied; a write may only bypass the queue when this is 0. */
    private final AtomicInteger pending = new AtomicInteger();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition applied = lock.newCondition();
    private volatile IOException failure;
    private final Thread worker;

    /** A queued write: its data, and how to give a caller's kept buffer back (null for our own slots). */
    private record Queued(long pos, ByteBuffer data, long worstCase, Runnable giveBack) {
    }

    WriteBehind(String name, WritePath writes, ImageMetadata meta, HostFile host, int slots) throws IOException {
        this.name = name;
        this.writes = writes;
        this.meta = meta;
        this.host = host;
        host.releaseReserved(); // what a session that crashed reserved
        this.slots = slots;
        this.free = new ArrayBlockingQueue<>(slots);
        this.queue = new ArrayBlockingQueue<>(slots + 1);
        this.worker = new Thread(this::applyLoop, "qedfs-writer");
        worker.setDaemon(true);
        worker.start();
    }

    /** True when writes are still waiting to be applied (then every write must queue behind them). */
    boolean busy() {
        return pending.get() != 0;
    }

    /**
     * Copies {@code src} (at most {@link #MAX_WRITE} bytes) and queues it, returning once it is copied; false,
     * with nothing queued, when host space for its allocation cannot be reserved. With {@code giveBack} not
     * null the buffer itself is queued, not a copy: the caller must leave its bytes alone until
     * {@code giveBack} runs (on the writer thread, once they are applied). This saves a copy of every request
     * of a sequential write.
     */
    boolean trySubmit(long pos, ByteBuffer src, Runnable giveBack) throws IOException {
        throwIfFailed();
        Geometry g = meta.geometry;
        // the clusters it covers, and two L2 tables in case it starts them both
        long worstCase = g.wholeClusters(g.offsetInCluster(pos) + src.remaining()) + 2L * g.tableBytes;
        if (!reserve(worstCase)) {
            return false;
        }
        ByteBuffer buf;
        if (giveBack != null) {
            buf = src.duplicate();
        } else {
            buf = takeBuffer();
            buf.clear();
            buf.put(src.duplicate()).flip();
        }
        pending.incrementAndGet();
        putUninterruptibly(queue, new Queued(pos, buf, worstCase, giveBack));
        return true;
    }

    private synchronized boolean reserve(long bytes) {
        long end = meta.fileEnd() + promised.get() + bytes; // fileEnd grows before promised shrinks: never short
        if (end > reservedEnd) {
            long from = Math.max(reservedEnd, meta.fileEnd());
            if (!host.reserve(from, end + RESERVE_AHEAD - from)) {
                return false;
            }
            reservedEnd = end + RESERVE_AHEAD;
        }
        promised.addAndGet(bytes);
        return true;
    }

    /** Returns once every write submitted before the call has been applied; throws a failure of any of them. */
    void drain() throws IOException {
        if (pending.get() != 0) {
            lock.lock();
            try {
                while (pending.get() != 0) {
                    applied.awaitUninterruptibly();
                }
            } finally {
                lock.unlock();
            }
        }
        throwIfFailed();
    }

    private void throwIfFailed() throws IOException {
        IOException f = failure;
        if (f != null) {
            throw new IOException(name + ": a write acknowledged earlier could not be applied (" + f.getMessage()
                    + "); the image no longer holds everything written", f);
        }
    }

    private ByteBuffer takeBuffer() {
        ByteBuffer b = free.poll();
        if (b != null) {
            return b;
        }
        if (created.getAndIncrement() < slots) {
            return ByteBuffer.allocateDirect(MAX_WRITE);
        }
        created.decrementAndGet();
        while (true) {
            try {
                return free.take(); // the queue is full: the writer waits for the disk, as with a full page cache
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // keep the flag; waiting on is the only safe choice
            }
        }
    }

    private void applyLoop() {
        boolean interrupted = false;
        while (true) {
            Queued q;
            try {
                q = queue.take();
            } catch (InterruptedException e) {
                interrupted = true;
                continue; // only the STOP item ends this thread: queued writes must not be dropped
            }
            if (q.data() == STOP) {
                break;
            }
            try {
                if (failure == null) {
                    writes.write(q.pos(), q.data());
                    startWriteback();
                }
            } catch (IOException e) {
                failure = e;
            } catch (RuntimeException e) {
                failure = new IOException(e.toString(), e);
            } finally {
                promised.addAndGet(-q.worstCase());
                if (q.giveBack() != null) {
                    giveBack(q.giveBack());
                } else {
                    free.offer(q.data());
                }
                if (pending.decrementAndGet() == 0) {
                    lock.lock();
                    try {
                        applied.signalAll();
                    } finally {
                        lock.unlock();
                    }
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Runs a caller's give-back; one that throws must not end this thread (every later drain would hang). */
    private void giveBack(Runnable giveBack) {
        try {
            giveBack.run();
        } catch (RuntimeException e) {
            if (failure == null) {
                failure = new IOException("giving a kept buffer back failed: " + e, e);
            }
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

    private static <T> void putUninterruptibly(ArrayBlockingQueue<T> q, T item) {
        boolean interrupted = false;
        while (true) {
            try {
                q.put(item);
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Applies what is queued and stops the thread; failures stay for {@link #drain} to report. */
    @Override
    public void close() {
        putUninterruptibly(queue, new Queued(0, STOP, 0, null));
        boolean interrupted = false;
        while (worker.isAlive()) {
            try {
                worker.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        try {
            host.releaseReserved();
        } catch (IOException e) {
            // the reservation stays past the end of the file until the next read-write open drops it
        }
    }
}
