package io.qedfs.qed;

/**
 * Parameters of a new image. {@code size} -1 takes the backing file's size. {@code backingFile} is stored as
 * given (relative names are resolved against the image's directory); {@code backingFormat} is "raw" (recorded
 * as the no-probe bit) or "qed", or null to probe.
 */
public record QedCreateOptions(long size, int clusterSize, int tableSize, String backingFile, String backingFormat) {
    public static final int DEFAULT_CLUSTER_SIZE = 65536;
    public static final int DEFAULT_TABLE_SIZE = 4;

    public static QedCreateOptions ofSize(long size) {
        return new QedCreateOptions(size, DEFAULT_CLUSTER_SIZE, DEFAULT_TABLE_SIZE, null, null);
    }

    public QedCreateOptions withClusterSize(int n) {
        return new QedCreateOptions(size, n, tableSize, backingFile, backingFormat);
    }

    public QedCreateOptions withTableSize(int n) {
        return new QedCreateOptions(size, clusterSize, n, backingFile, backingFormat);
    }

    public QedCreateOptions withBacking(String file, String format) {
        return new QedCreateOptions(size, clusterSize, tableSize, file, format);
    }

    public QedCreateOptions withSize(long newSize) {
        return new QedCreateOptions(newSize, clusterSize, tableSize, backingFile, backingFormat);
    }
}
