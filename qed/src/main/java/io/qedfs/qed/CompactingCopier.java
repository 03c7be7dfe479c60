package io.qedfs.qed;

import io.qedfs.qed.host.Buffers;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Copies an image's own clusters (never its backing file's) into a new, empty image of the same geometry:
 * data clusters holding a non-zero byte are written, data clusters of zeroes and zero clusters become zero
 * clusters in the copy (which, without a backing file, stores nothing for them), and what no L2 entry
 * references (leaked clusters) is never read. The copy's write path lays it out sequentially.
 */
final class CompactingCopier {
    private static final int CHUNK = 2 << 20;

    /** What the copy kept and dropped, in clusters. */
    record Counts(long dataClusters, long zeroDataClusters) {
    }

    private final QedImage source;
    private final QedImage copy;
    private final ProgressListener progress;
    private final ByteBuffer buf;
    private long dataClusters;
    private long zeroDataClusters;

    CompactingCopier(QedImage source, QedImage copy, ProgressListener progress) {
        this.source = source;
        this.copy = copy;
        this.progress = progress;
        this.buf = ByteBuffer.allocateDirect(Math.max(CHUNK, source.clusterSize()));
    }

    Counts run() throws IOException {
        progress.progress(0, source.size());
        source.mapper().forEachOwnRun(0, source.size(), run -> {
            switch (run.kind()) {
                case DATA -> copyData(run.pos(), run.length());
                case ZERO -> copy.writeZeroes(run.pos(), run.length());
                case UNALLOCATED -> { }
            }
            progress.progress(run.pos() + run.length(), source.size());
        });
        copy.flush();
        return new Counts(dataClusters, zeroDataClusters);
    }

    /** Copies a run of data clusters chunk by chunk, writing consecutive non-zero clusters in one go. */
    private void copyData(long pos, long len) throws IOException {
        int clusterSize = source.clusterSize();
        for (long at = pos; at < pos + len; ) {
            int n = (int) Math.min(buf.capacity(), pos + len - at); // fits: at most the buffer's capacity
            buf.clear().limit(n);
            source.read(at, buf);
            buf.flip();
            int groupStart = 0;
            boolean groupZero = false;
            for (int off = 0; off < n; off += clusterSize) {
                int end = Math.min(n, off + clusterSize);
                boolean zero = Buffers.isZero(buf.duplicate().position(off).limit(end));
                if (off > groupStart && zero != groupZero) {
                    writeGroup(at + groupStart, groupStart, off, groupZero);
                    groupStart = off;
                }
                groupZero = zero;
            }
            writeGroup(at + groupStart, groupStart, n, groupZero);
            at += n;
            progress.progress(at, source.size());
        }
    }

    private void writeGroup(long guestPos, int from, int to, boolean zero) throws IOException {
        if (zero) {
            copy.writeZeroes(guestPos, to - from); // a zero cluster where a backing file must stay hidden
            zeroDataClusters += clusters(to - from);
        } else {
            copy.write(guestPos, buf.duplicate().position(from).limit(to));
            dataClusters += clusters(to - from);
        }
    }

    private long clusters(long bytes) {
        long size = source.clusterSize();
        return (bytes + size - 1) / size;
    }
}
