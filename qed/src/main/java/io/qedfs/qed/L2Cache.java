package io.qedfs.qed;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A write-through cache of one image's L2 table slices keyed by file offset, bounded by an {@link L2Budget}
 * that it may share with the caches of other images (a mount of many images bounds them all at once).
 *
 * <p>The creation race (docs/architecture.md, "Concurrency"): when two threads miss on the same table at once, the first
 * inserts a placeholder and loads the table; the second finds the placeholder and waits for that same load, so
 * a table is read once and there is only ever one copy to update. A table handed out is pinned until its
 * {@link Ref} is closed, and pinned tables are never evicted, so an allocating writer's update can never be
 * lost to a concurrent eviction and reload. Eviction takes the least recently used unpinned slice of any cache
 * on the budget.
 *
 * <p>Every field of the cache and its slots is guarded by the budget's monitor: one lock for all the caches on
 * a budget, held only for map and list updates (loading happens outside it).
 */
final class L2Cache {
    /** Loads {@code entries} entries of the table at a file offset. */
    interface Loader {
        AtomicLongArray load(long offset, int entries) throws IOException;
    }

    /**
     * A cached table; {@link L2Cache#acquire} and {@link L2Cache#insert} hand it out pinned, and each of those
     * pins is given back by one {@link #close}. The slot itself is the handle, so handing one out allocates nothing.
     */
    static final class Ref implements AutoCloseable {
        private final L2Cache owner; // null for a budget's list sentinel
        private final long offset;
        final long bytes; // what it counts against the budget
        private final CompletableFuture<AtomicLongArray> table = new CompletableFuture<>();
        private int pins; // guarded by the budget
        Ref prev; // guarded by the budget: its place in the budget's list, null when not listed
        Ref next; // guarded by the budget

        private Ref(L2Cache owner, long offset, long bytes) {
            this.owner = owner;
            this.offset = offset;
            this.bytes = bytes;
        }

        static Ref sentinel() {
            Ref s = new Ref(null, -1, 0);
            s.prev = s;
            s.next = s;
            return s;
        }

        AtomicLongArray table() {
            return table.join(); // completed before the Ref was handed out
        }

        long offset() {
            return offset;
        }

        // expects the budget's monitor
        boolean isEvictable() {
            return pins == 0 && table.isDone();
        }

        // expects the budget's monitor
        void dropFromOwner() {
            owner.slots.remove(offset, this);
        }

        @Override
        public void close() {
            owner.release(this);
        }
    }

    private final L2Budget budget;
    private final Map<Long, Ref> slots = new HashMap<>(); // guarded by budget

    /** A cache drawing on {@code budget}; each slice counts its entries' bytes against it. */
    L2Cache(L2Budget budget) {
        this.budget = budget;
    }

    /**
     * Returns the pinned table at {@code offset}, loading it (once, {@code entries} entries) on a miss; a table
     * cached already is returned as it is, whatever its length.
     */
    Ref acquire(long offset, int entries, Loader loader) throws IOException {
        Ref slot;
        boolean mustLoad;
        synchronized (budget) {
            slot = slots.get(offset);
            mustLoad = slot == null;
            if (mustLoad) {
                slot = new Ref(this, offset, entries * 8L);
                slots.put(offset, slot);
                budget.add(slot);
            } else {
                budget.touch(slot);
            }
            slot.pins++;
        }
        if (mustLoad) {
            try {
                slot.table.complete(loader.load(offset, entries));
            } catch (IOException | RuntimeException | Error e) {
                synchronized (budget) {
                    if (slots.remove(offset, slot)) {
                        budget.remove(slot);
                    }
                }
                slot.table.completeExceptionally(e);
                release(slot);
                throw e;
            }
            synchronized (budget) {
                budget.evictIfOver();
            }
        } else {
            awaitLoad(slot);
        }
        return slot;
    }

    /** Installs a table that was just created (and written) and returns it pinned. */
    Ref insert(long offset, AtomicLongArray table) {
        Ref slot = new Ref(this, offset, table.length() * 8L);
        slot.table.complete(table);
        synchronized (budget) {
            slot.pins = 1;
            Ref old = slots.put(offset, slot);
            if (old != null) {
                budget.remove(old);
            }
            budget.add(slot);
            budget.evictIfOver();
        }
        return slot;
    }

    /** Drops every unpinned table (after a repair rewrote tables on disk). */
    void clear() {
        synchronized (budget) {
            slots.values().removeIf(s -> {
                if (s.pins == 0) {
                    budget.remove(s);
                    return true;
                }
                return false;
            });
        }
    }

    /**
     * Drops every table, pinned or not, and gives their memory back to the budget: the image is closing, or its
     * tables are to be loaded longer (a resize). Whoever holds one pinned keeps using that copy, so no table
     * may be changed meanwhile (the caller holds the allocation lock, or the image is closed).
     */
    void dropAll() {
        synchronized (budget) {
            slots.values().forEach(budget::remove);
            slots.clear();
        }
    }

    int size() {
        synchronized (budget) {
            return slots.size();
        }
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

    private void release(Ref slot) {
        synchronized (budget) {
            slot.pins--;
            budget.evictIfOver();
        }
    }
}
