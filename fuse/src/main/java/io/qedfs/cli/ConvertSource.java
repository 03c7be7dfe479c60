package io.qedfs.cli;

import io.qedfs.qed.host.DataRange;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/** What convert reads: a raw file or a (flattened) QED image. */
interface ConvertSource extends Closeable {
    /** Virtual size in bytes. */
    long size();

    /** Ascending, disjoint ranges that may hold non-zero data; the rest reads as zeroes. */
    List<DataRange> dataRanges() throws IOException;

    /** Fills {@code dst} (position to limit) with the bytes at {@code pos}. */
    void read(long pos, ByteBuffer dst) throws IOException;
}
