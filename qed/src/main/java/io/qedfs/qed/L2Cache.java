package io.qedfs.qed;

import java.io.IOException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A bounded, write-through cache of L2 tables keyed by file offset.
 *
 * <p>The creation race (docs/architecture.md, "Concurrency"): when two threads miss on the same table at once, the first
 * inserts a placeholder and loads the table; the second finds the placeholder and waits for that same load, so
 * a table is read once and there is only ever one copy to update. A table handed out is pinned until its
 * {@link Ref} is closed, and pinned tables are never evicted, so an allocating writer's update can never be
 * lost to a concurrent eviction and reload. Eviction is FIFO over unpinned tables, as in QEMU.
 */
final class L2Cache {
    /** Loads the table at a file offset. */
    interface Loader {
        AtomicLongArray load(long offset) throws IOException;
    }

    /**
     * A cached table; {@link L2Cache#acquire} and {@link L2Cache#insert} hand it out pinned, and each of those
     * pins is given back by one {@link #close}. The slot itself is the handle, so handing one out allocates nothing.
     */
    final class Ref implements AutoCloseable {
        private final long offset;
        private final CompletableFuture<AtomicLongArray> table = new CompletableFuture<>();
        private int pins; // guarded by L2Cache.this

        private Ref(long offset) {
            this.offset = offset;
        }

        AtomicLongArray table() {
            return table.join(); // completed before the Ref was handed out
        }

        long offset() {
            return offset;
        }

        @Override
        public void close() {
            release(this);
        }
    }

    private final int capacity;
    private final LinkedHashMap<Long, Ref> slots = new LinkedHashMap<>(); // guarded by this

    L2Cache(int capacity) {
        this.capacity = Math.max(1, capacity);
    }

    /** Returns the pinned table at {@code offset}, loading it (once) on a miss. */
    Ref acquire(long offset, Loader loader) throws IOException {
        Ref slot;
        boolean mustLoad;
        synchronized (this) {
            slot = slots.get(offset);
            mustLoad = slot == null;
            if (mustLoad) {
                slot = new Ref(offset);
                slots.put(offset, slot);
            }
            slot.pins++;
        }
        if (mustLoad) {
            try {
                slot.table.complete(loader.load(offset));
            } catch (IOException | RuntimeException | Error e) {
                synchronized (this) {
                    slots.remove(offset, slot);
                }
                slot.table.completeExceptionally(e);
                release(slot);
                throw e;
            }
        } else {
            awaitLoad(slot);
        }
        synchronized (this) {
            evictUnpinned();
        }
        return slot;
    }

    /** Installs a table that was just created (and written) and returns it pinned. */
    Ref insert(long offset, AtomicLongArray table) {
        Ref slot = new Ref(offset);
        slot.table.complete(table);
        synchronized (this) {
            slot.pins = 1;
            slots.put(offset, slot);
            evictUnpinned();
        }
        return slot;
    }

    /** Drops every unpinned table (after a repair rewrote tables on disk). */
    synchronized void clear() {
        slots.values().removeIf(s -> s.pins == 0);
    }

    synchronized int size() {
        return slots.size();
    }

    private void awaitLoad(Ref slot) throws IOException {
        try {
            slot.table.get();
        } catch (ExecutionException e) {
            release(slot);
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw new IOException(io.getMessage(), io);
            }
            throw new IOException("loading L2 table at 0x" + Long.toHexString(slot.offset) + " failed", cause);
        } catch (InterruptedException e) {
            release(slot);
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while waiting for an L2 table");
        }
    }

    private synchronized void release(Ref slot) {
        slot.pins--;
        evictUnpinned();
    }

    // expects the monitor
    private void evictUnpinned() {
        int excess = slots.size() - capacity;
        if (excess <= 0) {
            return;
        }
        Iterator<Ref> it = slots.values().iterator();
        while (excess > 0 && it.hasNext()) {
            Ref s = it.next();
            if (s.pins == 0 && s.table.isDone()) {
                it.remove();
                excess--;
            }
        }
    }
}
