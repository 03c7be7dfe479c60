package io.qedfs.qed;

/**
 * A stretch of guest bytes, inside one L2 table, whose clusters are all in one state: unallocated, zero, or
 * allocated and physically contiguous (then {@code fileOffset} is where {@code pos} lives in the file).
 */
record Run(Kind kind, long pos, long length, long fileOffset) {
    enum Kind { UNALLOCATED, ZERO, DATA }

    static Run unallocated(long pos, long length) {
        return new Run(Kind.UNALLOCATED, pos, length, -1);
    }
}
