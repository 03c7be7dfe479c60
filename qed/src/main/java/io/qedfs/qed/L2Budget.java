package io.qedfs.qed;

/**
 * The memory that one or more {@link L2Cache}s share, and the order in which their unpinned slices go when it is
 * exceeded: least recently used first, whichever image a slice belongs to. Its monitor guards every cache that
 * draws on it (their maps, pin counts and this list), so that eviction can reach across images.
 *
 * <p>The list is intrusive (links in the slots themselves): a hit moves its slot to the tail and allocates
 * nothing. A slot is accounted from the moment it is inserted, while it still loads, so that many concurrent
 * misses cannot overshoot; pinned and loading slots are skipped by eviction, which may therefore leave the
 * budget exceeded for as long as they stay pinned.
 */
final class L2Budget {
    private final long capacity;
    private long used; // guarded by this
    /** Sentinel of the circular list: {@code head.next} is the least recently used slot (guarded by this). */
    private final L2Cache.Ref head = L2Cache.Ref.sentinel();

    /** {@code capacity}: bytes of slices (or whatever unit the caches' slot sizes are in) kept when unpinned. */
    L2Budget(long capacity) {
        this.capacity = Math.max(1, capacity);
    }

    long capacity() {
        return capacity;
    }

    synchronized long used() {
        return used;
    }

    // expects the monitor
    void add(L2Cache.Ref slot) {
        linkLast(slot);
        used += slot.bytes;
    }

    // expects the monitor
    void touch(L2Cache.Ref slot) {
        if (slot.next != null) {
            unlink(slot);
            linkLast(slot);
        }
    }

    /** Forgets {@code slot}; nothing happens for a slot already forgotten. */
    // expects the monitor
    void remove(L2Cache.Ref slot) {
        if (slot.next != null) {
            unlink(slot);
            used -= slot.bytes;
        }
    }

    /** Drops unpinned, loaded slots, least recently used first, until the budget holds. */
    // expects the monitor
    void evictIfOver() {
        for (L2Cache.Ref s = head.next; used > capacity && s != head; ) {
            L2Cache.Ref next = s.next;
            if (s.isEvictable()) {
                remove(s);
                s.dropFromOwner();
            }
            s = next;
        }
    }

    private void linkLast(L2Cache.Ref slot) {
        L2Cache.Ref last = head.prev;
        slot.prev = last;
        slot.next = head;
        last.next = slot;
        head.prev = slot;
    }

    private static void unlink(L2Cache.Ref slot) {
        slot.prev.next = slot.next;
        slot.next.prev = slot.prev;
        slot.prev = null;
        slot.next = null;
    }
}
