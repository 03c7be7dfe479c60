package io.qedfs.qed;

/**
 * What {@link QedTools#compact} did.
 *
 * @param oldFileBytes     length of the source file
 * @param newFileBytes     length of the compacted file
 * @param dataClusters     data clusters the compacted image holds
 * @param zeroDataClusters data clusters of the source that held only zeroes and are no longer stored
 * @param leakedClusters   clusters of the source file that nothing referenced, left behind
 */
public record CompactResult(long oldFileBytes, long newFileBytes, long dataClusters, long zeroDataClusters,
                            long leakedClusters) {
}
