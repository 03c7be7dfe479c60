package io.qedfs.qed;

import io.qedfs.qed.host.Buffers;
import io.qedfs.qed.host.FileOpener;
import io.qedfs.qed.host.HostFile;
import io.qedfs.qed.host.ImageLocks;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * Changes an image's backing file. Safe mode keeps the guest's view: every cluster the image does not
 * allocate, and where the old and the new backing file differ, first gets the old backing's data; the data is
 * synced before the header changes. Unsafe mode only rewrites the reference.
 */
final class ImageRebaser {
    private static final int CHUNK = 1 << 20;

    private ImageRebaser() {
    }

    /** Safe mode on an image open read-write; {@code newName} null or empty removes the backing file. */
    static void rebase(ImageEngine engine, String newName, String format, boolean trustBacking,
            ProgressListener progress) throws IOException {
        QedImage image = engine.image();
        ImageMetadata meta = engine.meta();
        Backing next = newName == null || newName.isEmpty() ? null
                : BackingChain.openNamed(image.path(), newName, format, true, trustBacking);
        try {
            copyWhereBackingsDiffer(image, meta, next, progress);
        } finally {
            if (next != null) {
                next.close();
            }
        }
        image.flush();
        try (Allocator.Held locked = meta.allocator.hold()) {
            QedHeader h = BackingReference.placeName(meta.channel, meta.header(), newName, format, meta.name);
            meta.writeHeader(h);
            meta.sync();
        }
    }

    /** Unsafe mode: only the header's reference changes; neither backing file is opened. */
    static void rewriteReference(Path path, String newName, String format) throws IOException {
        String name = path.toString();
        try (FileChannel ch = FileOpener.open(path, true, name);
                HostFile host = new HostFile(path, ch, true);
                ImageLocks locks = ImageLocks.acquire(host, ch, false, name)) {
            QedHeader h = QedHeader.read(ch, name, ch.size());
            HeaderValidator.validate(h, name, ch.size());
            BackingReference.writeHeader(ch, BackingReference.placeName(ch, h, newName, format, name));
        }
    }

    private static void copyWhereBackingsDiffer(QedImage image, ImageMetadata meta, Backing next, ProgressListener progress)
            throws IOException {
        int clusterSize = meta.geometry.clusterSize;
        int chunk = Math.max(clusterSize, CHUNK); // both powers of two: a cluster multiple
        ByteBuffer old = ByteBuffer.allocateDirect(chunk);
        ByteBuffer neu = ByteBuffer.allocateDirect(chunk);
        long size = image.size();
        for (long at = 0; at < size; ) {
            Run run = meta.lookup(at, Math.min(chunk, size - at));
            int n = (int) run.length(); // fits: at most chunk
            if (run.kind() == Run.Kind.UNALLOCATED) {
                old.clear().limit(n);
                image.read(at, old); // through the old backing file (zeroes without one)
                neu.clear().limit(n);
                if (next != null) {
                    next.read(at, neu);
                } else {
                    Buffers.fillZeros(neu, n);
                }
                copyDifferingClusters(image, at, old.flip(), neu.flip(), clusterSize);
            }
            at += n;
            progress.progress(at, size);
        }
    }

    /** Writes {@code old}'s clusters that differ from {@code neu}'s, contiguous ones in one write. */
    private static void copyDifferingClusters(QedImage image, long at, ByteBuffer old, ByteBuffer neu, int clusterSize)
            throws IOException {
        int n = old.remaining();
        int spanStart = -1;
        for (int off = 0; off < n; off += clusterSize) {
            int len = Math.min(clusterSize, n - off);
            boolean differs = !old.slice(off, len).equals(neu.slice(off, len));
            if (differs && spanStart < 0) {
                spanStart = off;
            } else if (!differs && spanStart >= 0) {
                image.write(at + spanStart, old.slice(spanStart, off - spanStart));
                spanStart = -1;
            }
        }
        if (spanStart >= 0) {
            image.write(at + spanStart, old.slice(spanStart, n - spanStart));
        }
    }
}
