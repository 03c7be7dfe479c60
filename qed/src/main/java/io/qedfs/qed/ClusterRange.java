package io.qedfs.qed;

/** {@code count} consecutive clusters of the image file from cluster number {@code first}. */
record ClusterRange(long first, long count) {
}
