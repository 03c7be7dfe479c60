package io.qedfs.qed;

/**
 * Sizes and index arithmetic derived from a validated header: cluster and table sizes, the L1/L2 shifts,
 * the largest image the tables can map, and the validity rules for cluster and table offsets.
 */
final class Geometry {
    static final long MIN_CLUSTER_SIZE = 4096;
    static final long MAX_CLUSTER_SIZE = 64L << 20;
    static final long MIN_TABLE_SIZE = 1;
    static final long MAX_TABLE_SIZE = 16;
    /**
     * The most of one table held in memory at a time. A table is up to 1 GiB (64 MiB clusters, table_size 16):
     * larger tables are read, cached and checked in slices of this size, so memory never grows with them.
     */
    static final int MAX_SLICE_BYTES = 1 << 20;

    final int clusterSize;       // fits in int: at most 64 MiB
    final int tableSize;         // clusters per table, 1..16
    final int clusterBits;
    final int entriesPerTable;   // fits in int: at most 16 * 64 MiB / 8 = 2^27
    final int entryBits;
    final int tableBytes;        // fits in int: at most 16 * 64 MiB = 2^30
    final long headerBytes;
    final int l1Shift;           // clusterBits + entryBits, at most 26 + 27 = 53
    final int sliceBytes;        // the whole table, or MAX_SLICE_BYTES of it when it is larger
    final int sliceEntries;      // entries per slice, a power of 2 dividing entriesPerTable
    /**
     * The L1 entries a guest offset can reach: all of them, except in tables so large that images below 2^63
     * bytes use only the first 2^(63 - l1Shift) (1024 with 64 MiB clusters and table_size 16). At most 2^21.
     */
    final int l1Entries;

    Geometry(long clusterSize, long tableSize, long headerSize) {
        this.clusterSize = (int) clusterSize;
        this.tableSize = (int) tableSize;
        this.clusterBits = Long.numberOfTrailingZeros(clusterSize);
        this.tableBytes = this.clusterSize * this.tableSize;
        this.entriesPerTable = tableBytes / 8;
        this.entryBits = Integer.numberOfTrailingZeros(entriesPerTable);
        this.headerBytes = headerSize * clusterSize;
        this.l1Shift = clusterBits + entryBits;
        this.sliceBytes = Math.min(tableBytes, MAX_SLICE_BYTES);
        this.sliceEntries = sliceBytes / 8;
        this.l1Entries = (int) Math.min(entriesPerTable, 1L << (63 - l1Shift)); // l1Shift >= 21: no overflow
    }

    static Geometry of(QedHeader h) {
        return new Geometry(h.clusterSize(), h.tableSize(), h.headerSize());
    }

    /**
     * The largest image size the tables can map: entries^2 * cluster_size = 2^(2*entryBits + clusterBits).
     * Saturates at Long.MAX_VALUE rounded down to 512 instead of overflowing as QEMU's u64 arithmetic does.
     */
    static long maxImageSize(long clusterSize, long tableSize) {
        int bits = 2 * (Long.numberOfTrailingZeros(tableSize * clusterSize / 8)) + Long.numberOfTrailingZeros(clusterSize);
        return bits >= 63 ? Long.MAX_VALUE & ~511L : 1L << bits;
    }

    /** True when a table is larger than one slice: then it is never read, cached or written whole. */
    boolean sliced() {
        return sliceEntries < entriesPerTable;
    }

    /** Index of the first entry of the slice holding entry {@code index}. */
    int sliceStart(int index) {
        return index & -sliceEntries;
    }

    long maxImageSize() {
        return maxImageSize(clusterSize, tableSize);
    }

    int l1Index(long pos) {
        return (int) (pos >>> l1Shift); // fits: pos < max image size = 2^(l1Shift + entryBits)
    }

    int l2Index(long pos) {
        return (int) ((pos >>> clusterBits) & (entriesPerTable - 1));
    }

    long offsetInCluster(long pos) {
        return pos & (clusterSize - 1);
    }

    long clusterStart(long pos) {
        return pos & -(long) clusterSize;
    }

    /**
     * Bytes from {@code pos} up to the next cluster boundary, 0 when {@code pos} lies on one. There is no
     * "round an offset up" here on purpose: the last cluster of the largest image (0x7ffffffffffffe00 with
     * 2 MiB clusters) ends at 2^63, which no long holds, so ranges are extended by lengths, never to offsets.
     */
    long padToCluster(long pos) {
        return -pos & (clusterSize - 1);
    }

    /**
     * A length rounded up to whole clusters. Only for lengths within one L2 table's span (at most 2^53), such as
     * a run's: those cannot overflow, whatever offset the run starts at.
     */
    long wholeClusters(long len) {
        return (len + clusterSize - 1) & -(long) clusterSize;
    }

    /** Bytes from {@code pos} to the end of the guest range that one L2 table maps. */
    long bytesToL2Boundary(long pos) {
        long span = 1L << l1Shift;
        return span - (pos & (span - 1));
    }

    /** Guest offset of the first byte mapped by L1 entry {@code l1Index}, L2 entry {@code l2Index}. */
    long guestOffset(int l1Index, int l2Index) {
        return ((long) l1Index << l1Shift) | ((long) l2Index << clusterBits);
    }

    boolean isAligned(long offset) {
        return (offset & (clusterSize - 1)) == 0;
    }

    /** QEMU's rule: aligned, past the header, and below the (cluster-rounded) end of the file. */
    boolean isValidClusterOffset(long offset, long fileSize) {
        return isAligned(offset) && offset >= headerBytes && offset < fileSize;
    }

    /** The whole table lies inside the file. Unlike QEMU, table_size=1 is accepted. */
    boolean isValidTableOffset(long offset, long fileSize) {
        long last = offset + (long) (tableSize - 1) * clusterSize;
        return isValidClusterOffset(offset, fileSize) && last >= offset && isValidClusterOffset(last, fileSize);
    }
}
