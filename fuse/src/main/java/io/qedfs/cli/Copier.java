package io.qedfs.cli;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The copy loop of convert: reads the source's data ranges in 1 MiB chunks through one direct buffer and
 * writes only the pieces (of the sink's granularity, aligned to it) that hold a non-zero byte. The
 * destination starts out reading as zeroes, so skipped pieces need no write at all.
 */
final class Copier {
    static final int CHUNK = 1 << 20;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(CHUNK).asReadOnlyBuffer();

    private final ConvertSource source;
    private final ConvertSink sink;
    private final Progress progress;

    Copier(ConvertSource source, ConvertSink sink, Progress progress) {
        this.source = source;
        this.sink = sink;
        this.progress = progress;
    }

    void run() throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK);
        int granularity = Math.min(sink.granularity(), CHUNK);
        progress.update(0);
        for (long[] range : source.dataRanges()) {
            long pos = range[0];
            long end = range[0] + range[1];
            while (pos < end) {
                long chunkEnd = Math.min(end, nextBoundary(pos, CHUNK));
                int n = (int) (chunkEnd - pos); // fits: at most CHUNK
                buf.clear().limit(n);
                source.read(pos, buf);
                buf.flip();
                writeNonZero(pos, buf, granularity);
                pos = chunkEnd;
                progress.update(pos);
            }
        }
        sink.finish();
        progress.done();
    }

    /** Writes the runs of non-zero pieces of {@code buf}, which holds the bytes at {@code base}. */
    private void writeNonZero(long base, ByteBuffer buf, int granularity) throws IOException {
        int len = buf.limit();
        int runStart = -1;
        int i = 0;
        while (i < len) {
            int pieceEnd = (int) Math.min(len, nextBoundary(base + i, granularity) - base); // fits: at most len
            boolean zero = isZero(buf, i, pieceEnd - i);
            if (!zero && runStart < 0) {
                runStart = i;
            } else if (zero && runStart >= 0) {
                sink.write(base + runStart, buf.slice(runStart, i - runStart));
                runStart = -1;
            }
            i = pieceEnd;
        }
        if (runStart >= 0) {
            sink.write(base + runStart, buf.slice(runStart, len - runStart));
        }
    }

    /** The first multiple of {@code step} (a power of 2) after {@code pos}, saturating at Long.MAX_VALUE. */
    static long nextBoundary(long pos, long step) {
        long next = (pos & -step) + step;
        return next < 0 ? Long.MAX_VALUE : next;
    }

    static boolean isZero(ByteBuffer buf, int from, int len) {
        return buf.slice(from, len).mismatch(ZEROS.slice(0, len)) < 0;
    }
}
