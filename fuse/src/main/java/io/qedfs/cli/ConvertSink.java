package io.qedfs.cli;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/** What convert writes: a new file that reads as zeroes wherever nothing is written. */
interface ConvertSink extends Closeable {
    /** The size of the pieces tested for zeroes: only non-zero pieces are written (a power of 2). */
    int granularity();

    /** Writes {@code src} (position to limit) at {@code pos}. */
    void write(long pos, ByteBuffer src) throws IOException;

    /** Makes everything durable; called once after the last write. */
    void finish() throws IOException;
}
