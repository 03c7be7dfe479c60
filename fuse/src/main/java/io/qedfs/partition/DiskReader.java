package io.qedfs.partition;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Positional reads of a disk's bytes ({@code QedImage::read} is one). */
@FunctionalInterface
public interface DiskReader {
    /** Fills {@code dst.remaining()} bytes from disk offset {@code pos}; the range lies inside the disk. */
    void read(long pos, ByteBuffer dst) throws IOException;
}
