package io.qedfs.qed;

/** One bit per cluster of the file: which clusters the check has seen referenced. */
final class ClusterBitmap {
    private final long[] words;
    private final long clusters;

    ClusterBitmap(long clusters) {
        this.clusters = clusters;
        // fits in int: a file of 2^37 clusters (8 PiB at 64 KiB) would be needed to overflow
        this.words = new long[(int) ((clusters + 63) >>> 6)];
    }

    /** Marks {@code n} clusters from {@code first}; returns how many were already marked. */
    int mark(long first, int n) {
        int seen = 0;
        for (long c = first; c < first + n && c < clusters; c++) {
            int w = (int) (c >>> 6);
            long bit = 1L << (c & 63);
            if ((words[w] & bit) != 0) {
                seen++;
            }
            words[w] |= bit;
        }
        return seen;
    }

    /** Marks {@code n} clusters from {@code first} only if none of them is marked yet; says whether it did. */
    boolean markIfFree(long first, int n) {
        for (long c = first; c < first + n && c < clusters; c++) {
            if (isMarked(c)) {
                return false;
            }
        }
        mark(first, n);
        return true;
    }

    boolean isMarked(long c) {
        return (words[(int) (c >>> 6)] & (1L << (c & 63))) != 0;
    }

    /** Index of the highest marked cluster, or -1. */
    long highestMarked() {
        for (int w = words.length - 1; w >= 0; w--) {
            if (words[w] != 0) {
                return ((long) w << 6) + 63 - Long.numberOfLeadingZeros(words[w]);
            }
        }
        return -1;
    }
}
