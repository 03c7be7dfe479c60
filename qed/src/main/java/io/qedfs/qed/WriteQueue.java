package io.qedfs.qed;

import io.qedfs.qed.host.Uninterruptibly;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The write-behind queue's order: writes numbered as they are submitted, held until the one thread that
 * applies them has done so, so that a read waits only for the queued writes its range overlaps and an fsync
 * only for the writes submitted before it (not for a queue that others keep filling).
 *
 * <p>A write stays listed while it is applied, and only then counts as applied; writes are applied in
 * submission order, so "applied up to number n" is one counter. A barrier (zeroing, resizing, checking, a
 * write that cannot be queued) holds new submissions back until it ends, so it runs with nothing queued.
 *
 * <p>Waits recheck every second whether the applier has ended: a wakeup lost to an exhausted heap must not
 * leave a caller parked for ever.
 */
final class WriteQueue {
    /**
     * A queued write: its number, where it goes and how long it is (its data's position moves while it is
     * applied), its data, the host space promised to it, and its give-back.
     */
    record Entry(long seq, long pos, int length, ByteBuffer data, long worstCase, Runnable giveBack) {
        long end() {
            return pos + length;
        }

        boolean overlaps(long from, long to) {
            return pos < to && from < end();
        }
    }

    private static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final int capacity;
    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when a write is added or the queue is stopped: the applier waits on it. */
    private final Condition work = lock.newCondition();
    /** Signalled when a write is applied, a barrier ends or the applier ends: everybody else waits on it. */
    private final Condition progress = lock.newCondition();
    private final ArrayDeque<Entry> entries; // guarded by lock: submitted and not yet applied, oldest first
    private long lastSeq; // guarded by lock: the number of the last write submitted
    private volatile long appliedSeq; // written under lock: every write up to this number is applied
    private volatile int pending; // written under lock: entries.size(), read without it on the fast paths
    private int barriers; // guarded by lock
    private boolean stopping; // guarded by lock: no more submissions; the applier ends once the queue is empty
    private volatile boolean ended; // the applier has returned (or died): nothing queued will be applied any more
    /** Guest range covering every write that could not be applied; empty while lostFrom >= lostTo (guarded by lock). */
    private long lostFrom = Long.MAX_VALUE;
    private volatile long lostTo = Long.MIN_VALUE;

    WriteQueue(int capacity) {
        this.capacity = capacity;
        this.entries = new ArrayDeque<>(capacity);
    }

    /**
     * Queues a write, waiting while the queue is full or a barrier runs; null, with nothing queued, when the
     * queue has stopped or its applier has ended.
     */
    Entry add(long pos, ByteBuffer data, long worstCase, Runnable giveBack) {
        lock.lock();
        try {
            if (!mayAdd()) {
                awaitProgressUntil(this::mayAdd); // allocates only when it has to wait
            }
            if (stopping || ended) {
                return null;
            }
            Entry e = new Entry(++lastSeq, pos, data.remaining(), data, worstCase, giveBack);
            entries.addLast(e);
            pending = entries.size();
            work.signal();
            return e;
        } finally {
            lock.unlock();
        }
    }

    // expects lock
    private boolean mayAdd() {
        return stopping || ended || barriers <= 0 && entries.size() < capacity;
    }

    /** The applier's next write (it stays queued until {@link #applied}); null once stopped and empty. */
    Entry next() {
        lock.lock();
        try {
            while (entries.isEmpty()) {
                if (stopping) {
                    return null;
                }
                work.awaitUninterruptibly();
            }
            return entries.peekFirst();
        } finally {
            lock.unlock();
        }
    }

    /** The applier is done with the oldest write; {@code stored} false: it could not be applied. */
    void applied(Entry e, boolean stored) {
        lock.lock();
        try {
            entries.removeFirst();
            if (!stored) {
                lostFrom = Math.min(lostFrom, e.pos());
                lostTo = Math.max(lostTo, e.end());
            }
            appliedSeq = e.seq();
            pending = entries.size();
            progress.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The number of the last write submitted so far. */
    long lastSubmitted() {
        lock.lock();
        try {
            return lastSeq;
        } finally {
            lock.unlock();
        }
    }

    /** True when a write not yet applied overlaps {@code [pos, pos+len)}. */
    boolean overlapsPending(long pos, long len) {
        if (pending == 0) {
            return false;
        }
        lock.lock();
        try {
            return lastOverlapping(pos, pos + len) != 0;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until every queued write overlapping {@code [pos, pos+len)} is applied; returns false when one of
     * them can no longer be (the applier ended) or one that overlaps was lost.
     */
    boolean awaitOverlapping(long pos, long len) {
        long end = pos + len;
        if (pending == 0 && lostTo == Long.MIN_VALUE) {
            return true; // the usual case when nobody is allocating: no lock
        }
        long seq;
        lock.lock();
        try {
            if (lostFrom < end && pos < lostTo) {
                return false;
            }
            seq = lastOverlapping(pos, end);
        } finally {
            lock.unlock();
        }
        return seq == 0 || awaitApplied(seq) && !lostOverlaps(pos, end);
    }

    private boolean lostOverlaps(long pos, long end) {
        lock.lock();
        try {
            return lostFrom < end && pos < lostTo;
        } finally {
            lock.unlock();
        }
    }

    /** The number of the last queued write overlapping {@code [pos, end)}, 0 if none. */
    // expects lock
    private long lastOverlapping(long pos, long end) {
        long seq = 0;
        for (Entry e : entries) {
            if (e.overlaps(pos, end)) {
                seq = e.seq();
            }
        }
        return seq;
    }

    /** Waits until every write numbered up to {@code seq} is applied; false when the applier ended first. */
    boolean awaitApplied(long seq) {
        if (appliedSeq >= seq) {
            return true;
        }
        lock.lock();
        try {
            awaitProgressUntil(() -> appliedSeq >= seq || ended);
            return appliedSeq >= seq;
        } finally {
            lock.unlock();
        }
    }

    /** Holds new submissions back until {@link #endBarrier}; barriers may overlap. */
    void beginBarrier() {
        lock.lock();
        try {
            barriers++;
        } finally {
            lock.unlock();
        }
    }

    void endBarrier() {
        lock.lock();
        try {
            barriers--;
            progress.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Accepts no more writes; the applier returns once it has applied the ones queued. */
    void stop() {
        lock.lock();
        try {
            stopping = true;
            work.signal();
            progress.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The applier has returned, normally or not: whoever waits for it stops waiting. */
    void end() {
        ended = true; // first, without the lock: the waits see it within a second even if signalling fails
        lock.lock();
        try {
            progress.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The writes still queued (after the applier ended): their give-backs still have to run. */
    Entry poll() {
        lock.lock();
        try {
            Entry e = entries.pollFirst();
            pending = entries.size();
            if (e != null) {
                lostFrom = Math.min(lostFrom, e.pos());
                lostTo = Math.max(lostTo, e.end());
            }
            return e;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits for progress (rechecking at least once a second) until {@code done}; an interrupt does not end the
     * wait, since giving up would drop or reorder a write, and stays set for the caller.
     */
    // expects lock
    private void awaitProgressUntil(java.util.function.BooleanSupplier done) {
        Uninterruptibly.await(() -> {
            while (!done.getAsBoolean()) {
                progress.awaitNanos(RECHECK_NANOS);
            }
            return true;
        });
    }
}
