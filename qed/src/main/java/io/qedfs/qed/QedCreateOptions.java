package io.qedfs.qed;

/**
 * Parameters of a new image (see {@link QedTools#create}).
 *
 * @param size          the guest size in bytes; -1 takes the backing file's size
 * @param clusterSize   bytes per cluster, a power of two from 4 KiB to 64 MiB
 * @param tableSize     clusters per L1 or L2 table, a power of two from 1 to 16
 * @param backingFile   the backing file's name, stored as given (a relative name is resolved against the image's
 *                      directory), or null for none
 * @param backingFormat "raw" (recorded, so never probed), "qed", or null to probe
 */
public record QedCreateOptions(long size, int clusterSize, int tableSize, String backingFile, String backingFormat) {
    /** QEMU's default cluster size: 64 KiB. */
    public static final int DEFAULT_CLUSTER_SIZE = 65536;
    /** QEMU's default table size: 4 clusters. */
    public static final int DEFAULT_TABLE_SIZE = 4;

    /**
     * An image of {@code size} bytes with QEMU's default geometry and no backing file.
     *
     * @param size the guest size in bytes
     * @return the options
     */
    public static QedCreateOptions ofSize(long size) {
        return new QedCreateOptions(size, DEFAULT_CLUSTER_SIZE, DEFAULT_TABLE_SIZE, null, null);
    }

    /**
     * Sets the cluster size.
     *
     * @param n bytes per cluster
     * @return these options with {@code clusterSize} replaced
     */
    public QedCreateOptions withClusterSize(int n) {
        return new QedCreateOptions(size, n, tableSize, backingFile, backingFormat);
    }

    /**
     * Sets the table size.
     *
     * @param n clusters per table
     * @return these options with {@code tableSize} replaced
     */
    public QedCreateOptions withTableSize(int n) {
        return new QedCreateOptions(size, clusterSize, n, backingFile, backingFormat);
    }

    /**
     * Sets the backing file.
     *
     * @param file   its name as stored, or null for none
     * @param format "raw", "qed", or null to probe
     * @return these options with {@code backingFile} and {@code backingFormat} replaced
     */
    public QedCreateOptions withBacking(String file, String format) {
        return new QedCreateOptions(size, clusterSize, tableSize, file, format);
    }

    /**
     * Sets the size.
     *
     * @param newSize the guest size in bytes, or -1 for the backing file's
     * @return these options with {@code size} replaced
     */
    public QedCreateOptions withSize(long newSize) {
        return new QedCreateOptions(newSize, clusterSize, tableSize, backingFile, backingFormat);
    }
}
