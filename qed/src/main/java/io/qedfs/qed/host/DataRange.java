package io.qedfs.qed.host;

/** A stretch of a file that may hold data: {@code length} bytes from {@code start}. */
public record DataRange(long start, long length) {
    /** The offset just past the range. */
    public long end() {
        return start + length;
    }
}
