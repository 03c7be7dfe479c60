package io.qedfs.qed;

import java.io.IOException;

/**
 * Where data and holes lie in an image's guest range, for SEEK_DATA and SEEK_HOLE. A cluster holds data when the
 * image stores it, or when it is unallocated and the backing file holds data beneath it; zero clusters, and
 * unallocated clusters with no backing data beneath, are holes. The answer comes from the tables alone, at
 * cluster granularity (the backing file's own granularity beneath unallocated clusters): a data cluster counts
 * whole even where it reads as zeroes, so a hole reported here always reads as zeroes, and a data range may
 * too. A walk takes one lookup per run, and an empty L1 entry is one run, so a terabyte of nothing costs a few
 * hundred steps.
 */
final class DataSeeker {
    private final ImageMetadata meta;
    private final Backing backing; // null when the image has none

    DataSeeker(ImageMetadata meta, Backing backing) {
        this.meta = meta;
        this.backing = backing;
    }

    /** The first offset in {@code [pos, end)} that holds data, or -1; {@code end} lies within the image. */
    long nextData(long pos, long end) throws IOException {
        for (long at = pos; at < end; ) {
            Run run = meta.lookup(at, end - at);
            if (run.kind() == Run.Kind.DATA) {
                return at;
            }
            if (run.kind() == Run.Kind.UNALLOCATED && backing != null) {
                long data = backing.nextData(at, at + run.length());
                if (data >= 0) {
                    return data;
                }
            }
            at += run.length();
        }
        return -1;
    }

    /** The first offset in {@code [pos, end)} that is a hole, or {@code end}; {@code end} lies within the image. */
    long nextHole(long pos, long end) throws IOException {
        for (long at = pos; at < end; ) {
            Run run = meta.lookup(at, end - at);
            long runEnd = at + run.length();
            if (run.kind() == Run.Kind.ZERO) {
                return at;
            }
            if (run.kind() == Run.Kind.UNALLOCATED) {
                long hole = backing == null ? at : backing.nextHole(at, runEnd);
                if (hole < runEnd) {
                    return hole;
                }
            }
            at = runEnd;
        }
        return end;
    }
}
