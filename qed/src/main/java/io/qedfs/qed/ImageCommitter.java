package io.qedfs.qed;

import io.qedfs.qed.host.FileIo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Merges an overlay into its backing file, as {@code qemu-img commit} does: every data and zero cluster the
 * overlay allocates is written into the backing file, which is then synced; only after that may the overlay
 * be emptied (every cluster dropped, so it reads through to the backing file again). A crash before the sync
 * leaves the overlay whole; a crash while emptying leaves a mix of clusters that all read as the backing does.
 */
final class ImageCommitter {
    private static final int CHUNK = 1 << 20;

    private ImageCommitter() {
    }

    static void commit(ImageEngine engine, boolean empty, boolean trustBacking, ProgressListener progress)
            throws IOException {
        QedImage overlay = engine.image();
        ImageMetadata meta = engine.meta();
        String backingName = overlay.backingFileName();
        if (backingName == null) {
            throw new QedFormatException(meta.name + ": the image has no backing file, so there is nothing to commit it into");
        }
        Path target = BackingChain.resolve(overlay.path(), backingName);
        long size = overlay.size();
        BackingTrust.verifyWritable(overlay.path(), target, trustBacking);
        try (CommitTarget t = CommitTarget.open(target, overlay.backingFormat(), trustBacking)) {
            if (t.size() < size) {
                t.grow(size);
            }
            ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK);
            for (long at = 0; at < size; ) {
                Run run = meta.lookup(at, size - at);
                switch (run.kind()) {
                    case DATA -> copy(meta, run, buf, t);
                    case ZERO -> t.writeZeroes(at, run.length());
                    case UNALLOCATED -> { }
                }
                at += run.length();
                progress.progress(at, size);
            }
            t.flush();
        }
        if (empty) {
            dropAllClusters(meta, engine.writes());
        }
    }

    private static void copy(ImageMetadata meta, Run run, ByteBuffer buf, CommitTarget t) throws IOException {
        for (long done = 0; done < run.length(); ) {
            int n = (int) Math.min(CHUNK, run.length() - done); // fits: at most 1 MiB
            buf.clear().limit(n);
            FileIo.readFully(meta.channel, run.fileOffset() + done, buf, meta.name);
            t.write(run.pos() + done, buf.flip());
            done += n;
        }
    }

    /**
     * Empties the image: L1 all zeroes, then the file cut back to header and L1. NEED_CHECK is set first, so
     * tables and data left behind by a crash in between are reclaimed by the next check.
     */
    private static void dropAllClusters(ImageMetadata meta, WritePath writes) throws IOException {
        try (Allocator.Held locked = meta.allocator.hold()) {
            writes.markDirty();
            meta.clearL1();
            long l1 = meta.header().l1TableOffset();
            meta.sync();
            meta.l2Cache.clear();
            long keep = Math.max(meta.geometry.headerBytes, l1 + meta.geometry.tableBytes);
            if (meta.channel.size() > keep) {
                meta.channel.truncate(keep);
                meta.allocator.truncatedTo(keep);
                meta.sync();
            }
        }
    }
}
