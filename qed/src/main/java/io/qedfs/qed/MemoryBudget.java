package io.qedfs.qed;

/**
 * Memory that every image opened with it shares, so that thousands of open images (a mount of a directory)
 * are bounded as a whole and not each on its own: one budget of cached L2 table slices, evicted least recently
 * used across the images, and one of write-behind buffers (a write that finds them all queued is written
 * synchronously instead). An image's backing files draw on the same budget. Without one, each image has its own,
 * sized by {@link QedOpenOptions#l2CacheBytes()} and 8 write-behind buffers.
 *
 * <p>Thread-safe. Images keep what they cached until it is evicted or they close, and close gives it back.
 */
public final class MemoryBudget {
    /** Write-behind buffers of one image on its own: 8 MiB, deep enough to ride out host stalls. */
    static final int OWN_WRITE_BUFFERS = 8;

    private final L2Budget l2;
    private final WriteBuffers writeBuffers;

    /**
     * Creates a budget.
     *
     * @param l2CacheBytes     unpinned L2 table slices are evicted beyond this
     * @param writeBehindBytes queued writes beyond this are written synchronously (rounded down to whole 1 MiB
     *                         buffers, at least one)
     */
    public MemoryBudget(long l2CacheBytes, long writeBehindBytes) {
        if (l2CacheBytes < 1 || writeBehindBytes < 1) {
            throw new IllegalArgumentException("memory budgets must be positive: L2 cache " + l2CacheBytes
                    + ", write-behind " + writeBehindBytes);
        }
        this.l2 = new L2Budget(l2CacheBytes);
        // fits in int: at most 2^63 / 2^20
        this.writeBuffers = new WriteBuffers((int) Math.min(Integer.MAX_VALUE, Math.max(1, writeBehindBytes / WriteBehind.MAX_WRITE)));
    }

    /**
     * The budget for a process: a sixth of its heap for L2 tables, at most the 64 MiB one image gets on its own,
     * at least 8 MiB; and 16 write-behind buffers (outside the heap), two images' worth.
     *
     * @param maxHeapBytes how large the heap may grow ({@link Runtime#maxMemory()})
     * @return the budget
     */
    public static MemoryBudget forHeap(long maxHeapBytes) {
        long l2 = Math.max(8L << 20, Math.min(QedOpenOptions.DEFAULT_L2_CACHE_BYTES, maxHeapBytes / 6));
        return new MemoryBudget(l2, 2L * OWN_WRITE_BUFFERS * WriteBehind.MAX_WRITE);
    }

    /**
     * The L2 cache's bound.
     *
     * @return bytes of L2 table slices kept at most, unless pinned
     */
    public long l2CacheBytes() {
        return l2.capacity();
    }

    /**
     * The write-behind buffers' bound.
     *
     * @return bytes of queued writes held at most
     */
    public long writeBehindBytes() {
        return (long) writeBuffers.slots() * WriteBehind.MAX_WRITE;
    }

    /**
     * How much of the L2 budget is in use.
     *
     * @return bytes of L2 table slices cached right now, by every image on this budget (pinned ones included)
     */
    public long cachedL2Bytes() {
        return l2.used();
    }

    /**
     * How much of the write-behind budget is in use.
     *
     * @return bytes of write-behind buffers holding queued writes right now
     */
    public long queuedWriteBytes() {
        return (long) writeBuffers.inUse() * WriteBehind.MAX_WRITE;
    }

    L2Budget l2() {
        return l2;
    }

    WriteBuffers writeBuffers() {
        return writeBuffers;
    }

    @Override
    public String toString() {
        return (l2CacheBytes() >> 20) + " MiB of L2 tables, " + (writeBehindBytes() >> 20) + " MiB of write-behind buffers";
    }
}
