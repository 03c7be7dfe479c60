package io.qedfs.cli;

import io.qedfs.qed.host.DataRange;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The copy loop of convert, as a two-stage pipeline: a reader thread reads the source's data ranges in
 * 2 MiB chunks and finds the pieces (of the sink's granularity, aligned to it) that hold a non-zero byte,
 * while the calling thread writes those pieces in order, so the output stays laid out sequentially. The
 * destination starts out reading as zeroes, so skipped pieces need no write. Threads are stopped with a
 * flag, never interrupted: an interrupt would close the FileChannels they use.
 */
final class Copier {
    static final int CHUNK = 2 << 20;
    private static final int DEPTH = 4;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(CHUNK).asReadOnlyBuffer();

    /** A chunk read from the source: its bytes and the {offset, length} runs inside it worth writing. */
    private record Chunk(long pos, ByteBuffer buf, List<int[]> runs, IOException error) {
        static final Chunk END = new Chunk(-1, null, List.of(), null);
    }

    private final ConvertSource source;
    private final ConvertSink sink;
    private final Progress progress;
    private final BlockingQueue<ByteBuffer> free = new ArrayBlockingQueue<>(DEPTH);
    private final BlockingQueue<Chunk> full = new ArrayBlockingQueue<>(DEPTH + 1);
    private volatile boolean stop;

    Copier(ConvertSource source, ConvertSink sink, Progress progress) {
        this.source = source;
        this.sink = sink;
        this.progress = progress;
    }

    void run() throws IOException {
        for (int i = 0; i < DEPTH; i++) {
            free.add(ByteBuffer.allocateDirect(CHUNK));
        }
        progress.update(0);
        Thread reader = new Thread(this::readAll, "qedfs-convert-reader");
        reader.setDaemon(true);
        reader.start();
        try {
            for (Chunk c = take(); c != Chunk.END; c = take()) {
                if (c.error() != null) {
                    throw c.error();
                }
                for (int[] run : c.runs()) {
                    sink.write(c.pos() + run[0], c.buf().slice(run[0], run[1]));
                }
                progress.update(c.pos() + c.buf().limit());
                free.add(c.buf());
            }
        } finally {
            stop = true;
            joinQuietly(reader);
        }
        sink.finish();
        progress.done();
    }

    private void readAll() {
        int granularity = Math.min(sink.granularity(), CHUNK);
        try {
            for (DataRange range : source.dataRanges()) {
                long end = range.end();
                for (long pos = range.start(); pos < end && !stop; ) {
                    long chunkEnd = Math.min(end, nextBoundary(pos, CHUNK));
                    ByteBuffer buf = nextFree();
                    if (buf == null) {
                        return;
                    }
                    buf.clear().limit((int) (chunkEnd - pos)); // fits: at most CHUNK
                    source.read(pos, buf);
                    buf.flip();
                    put(new Chunk(pos, buf, nonZeroRuns(pos, buf, granularity), null));
                    pos = chunkEnd;
                }
            }
            put(Chunk.END);
        } catch (IOException e) {
            put(new Chunk(-1, null, List.of(), e));
        } catch (RuntimeException e) {
            put(new Chunk(-1, null, List.of(), new IOException(e.toString(), e)));
        }
    }

    /** The {offset, length} runs of non-zero pieces of {@code buf}, which holds the bytes at {@code base}. */
    static List<int[]> nonZeroRuns(long base, ByteBuffer buf, int granularity) {
        List<int[]> runs = new ArrayList<>();
        int len = buf.limit();
        int runStart = -1;
        for (int i = 0; i < len; ) {
            int pieceEnd = (int) Math.min(len, nextBoundary(base + i, granularity) - base); // fits: at most len
            boolean zero = isZero(buf, i, pieceEnd - i);
            if (!zero && runStart < 0) {
                runStart = i;
            } else if (zero && runStart >= 0) {
                runs.add(new int[] {runStart, i - runStart});
                runStart = -1;
            }
            i = pieceEnd;
        }
        if (runStart >= 0) {
            runs.add(new int[] {runStart, len - runStart});
        }
        return runs;
    }

    private Chunk take() throws IOException {
        try {
            return full.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("convert interrupted");
        }
    }

    private ByteBuffer nextFree() {
        try {
            ByteBuffer b = null;
            while (b == null && !stop) {
                b = free.poll(100, TimeUnit.MILLISECONDS);
            }
            return b;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private void put(Chunk c) {
        try {
            while (!stop && !full.offer(c, 100, TimeUnit.MILLISECONDS)) {
                // the writer is behind: wait, unless it gave up
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void joinQuietly(Thread t) {
        try {
            t.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
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
