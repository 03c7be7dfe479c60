package io.qedfs.qed;

import io.qedfs.qed.host.Buffers;
import io.qedfs.qed.host.FileIo;
import io.qedfs.qed.host.HostFile;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Writes, zero writes and the NEED_CHECK lifecycle.
 *
 * <p>Writes to allocated clusters go straight to the file, in parallel, without a lock. Everything that
 * changes metadata (allocating writes, zero clusters, the header) holds the allocation lock ({@link Allocator}), and looks the
 * range up again under it: another writer may have allocated the cluster since the unlocked lookup, and
 * allocating it twice would leak one copy and lose the other's data.
 *
 * <p>Ordering (docs/architecture.md, "Durability contract"): NEED_CHECK is set and synced before the first allocation; then data
 * and copy-on-write fill, a sync if there is a backing file (so an entry never points at a half-filled
 * cluster whose backing data was lost), then L2 entries (a new table is written, sparsely when larger than a
 * slice, and synced), then L1. docs/architecture.md, "The path of a write", draws the whole path.
 */
final class WritePath {
    private final ImageMetadata meta;
    private final Allocator allocator;
    private final Backing backing; // null when the image has none
    private final HostFile host;
    /** Read without a lock; written under the allocation lock. */
    private volatile long lastAllocationNanos;
    /** NEED_CHECK was written but its sync failed, so it may not be on disk (guarded by the allocation lock). */
    private boolean needCheckUnsynced;
    /** Why no metadata may change (a background check stopped, or left corruption), or null (guarded by the allocation lock). */
    private String refusal;

    WritePath(ImageMetadata meta, Backing backing, HostFile host) {
        this.meta = meta;
        this.allocator = meta.allocator;
        this.backing = backing;
        this.host = host;
    }

    void write(long pos, ByteBuffer src) throws IOException {
        write(pos, src, null);
    }

    /**
     * As {@link #write(long, ByteBuffer)}; {@code seen} is what {@link #writeInPlace} saw at {@code pos}, or null.
     * A run that needs allocating is taken as it is: the allocating path looks its range up again under the lock
     * in any case. A data run is looked up anew: between the two calls a repair may have pointed its entry
     * elsewhere.
     */
    void write(long pos, ByteBuffer src, Run seen) throws IOException {
        assert seen == null || seen.pos() == pos && seen.length() <= src.remaining();
        long at = pos;
        while (src.hasRemaining()) {
            Run run = at == pos && seen != null && seen.kind() != Run.Kind.DATA ? seen : meta.lookup(at, src.remaining());
            int n = (int) run.length(); // fits: at most src.remaining()
            ByteBuffer piece = src.slice(src.position(), n);
            if (run.kind() == Run.Kind.DATA) {
                FileIo.writeFully(meta.channel, run.fileOffset(), piece);
            } else {
                writeAllocating(at, piece);
            }
            src.position(src.position() + n);
            at += n;
        }
    }

    /**
     * Writes {@code src} in place when every cluster of the range already holds data (no metadata changes) and
     * returns null. Otherwise writes nothing and returns the run the range starts with, for
     * {@link #write(long, ByteBuffer, Run)}, so that it is not looked up twice. One lookup in the usual case: the
     * range is one run.
     */
    Run writeInPlace(long pos, ByteBuffer src) throws IOException {
        long end = pos + src.remaining();
        Run first = meta.lookup(pos, end - pos);
        if (first.kind() != Run.Kind.DATA) {
            return first;
        }
        if (first.length() == end - pos) {
            FileIo.writeFully(meta.channel, first.fileOffset(), src);
            return null;
        }
        for (long at = pos + first.length(); at < end; ) {
            Run run = meta.lookup(at, end - at);
            if (run.kind() != Run.Kind.DATA) {
                return first;
            }
            at += run.length();
        }
        write(pos, src);
        return null;
    }

    /**
     * Makes {@code [pos, pos+len)} read as zeroes: whole clusters without storing data where possible. A range
     * that reaches the image end covers its last cluster whole: the bytes past the end are never read. That
     * holds only while the size stays, so such a range is zeroed under the allocation lock, which a resize
     * holds while it publishes a new size: a write just past the old end, allowed once the new size is out,
     * then always comes after the zeroing.
     */
    void writeZeroes(long pos, long len) throws IOException {
        if (pos + len < meta.header().imageSize() || meta.geometry.isAligned(pos + len)) {
            zeroRange(pos, len);
            return;
        }
        try (Allocator.Held locked = allocator.hold()) {
            zeroRange(pos, len);
        }
    }

    private void zeroRange(long pos, long len) throws IOException {
        Geometry g = meta.geometry;
        long end = pos + len; // at most the image size
        long alignedStart = pos + Math.min(len, g.padToCluster(pos));
        boolean wholeTail = end >= meta.header().imageSize() && g.isAligned(alignedStart);
        // with wholeTail the last run ends inside the image's last cluster and stands for all of it
        long alignedEnd = Math.max(alignedStart, wholeTail ? end : g.clusterStart(end));
        writeZeroData(pos, alignedStart - pos);
        for (long at = alignedStart; at < alignedEnd; ) {
            Run run = meta.lookup(at, alignedEnd - at);
            switch (run.kind()) {
                case DATA -> host.zeroRange(run.fileOffset(), g.wholeClusters(run.length()));
                case ZERO -> { }
                case UNALLOCATED -> markZero(run);
            }
            at += run.length();
        }
        writeZeroData(alignedEnd, end - alignedEnd);
    }

    /** Writes zeroes into part of a cluster, where it does not read as zeroes already. */
    private void writeZeroData(long pos, long len) throws IOException {
        long end = pos + len;
        for (long at = pos; at < end; ) {
            Run run = meta.lookup(at, end - at);
            if (!readsAsZeroes(run)) {
                for (long done = 0; done < run.length(); ) {
                    int chunk = (int) Math.min(run.length() - done, Buffers.zerosCapacity()); // fits: at most 1 MiB
                    write(at + done, Buffers.zeros(chunk));
                    done += chunk;
                }
            }
            at += run.length();
        }
    }

    private boolean readsAsZeroes(Run run) {
        return run.kind() == Run.Kind.ZERO
                || run.kind() == Run.Kind.UNALLOCATED && (backing == null || run.pos() >= backing.size());
    }

    /**
     * Unallocated clusters become zero clusters, unless there is no backing file to hide. The run starts on a
     * cluster boundary and covers whole clusters, but for the image's last one, which it may end inside.
     */
    private void markZero(Run run) throws IOException {
        if (backing == null) {
            return;
        }
        Geometry g = meta.geometry;
        try (Allocator.Held locked = allocator.hold()) {
            long end = run.pos() + run.length();
            for (long at = run.pos(); at < end; ) {
                Run again = meta.lookup(at, end - at);
                long whole = g.wholeClusters(again.length());
                if (again.kind() == Run.Kind.DATA) {
                    host.zeroRange(again.fileOffset(), whole);
                } else if (again.kind() == Run.Kind.UNALLOCATED) {
                    markDirty();
                    meta.setEntries(at, (int) (whole >> g.clusterBits), TableCodec.ZERO_CLUSTER, 0); // fits: one L2 table
                    lastAllocationNanos = System.nanoTime();
                }
                at += again.length();
            }
        }
    }

    private void writeAllocating(long pos, ByteBuffer piece) throws IOException {
        try (Allocator.Held locked = allocator.hold()) {
            long at = pos;
            while (piece.hasRemaining()) {
                Run run = meta.lookup(at, piece.remaining());
                int n = (int) run.length(); // fits: at most piece.remaining()
                ByteBuffer part = piece.slice(piece.position(), n);
                if (run.kind() == Run.Kind.DATA) {
                    FileIo.writeFully(meta.channel, run.fileOffset(), part);
                } else {
                    allocateAndWrite(run, part);
                }
                piece.position(piece.position() + n);
                at += n;
            }
        }
    }

    // the data covers exactly the run
    private void allocateAndWrite(Run run, ByteBuffer data) throws IOException {
        assert allocator.isHeldByCurrentThread();
        Geometry g = meta.geometry;
        markDirty();
        long first = g.clusterStart(run.pos());
        long head = run.pos() - first;
        long tail = head + run.length(); // where the data ends, from the first cluster's start
        // a length, not an end offset: the image's last cluster may end at 2^63
        long bytes = g.wholeClusters(tail);
        int clusters = (int) (bytes >> g.clusterBits); // fits: within one L2 table
        long fileOffset = allocator.allocate(bytes);
        try {
            // new space past the end of the file, allocated and covered by the file's length, reads as zeroes:
            // then only the data is stored, without filling the clusters around it
            boolean filled = !(fillsWithZeroes(run, first) && freshSpace(fileOffset, bytes));
            if (filled) {
                fill(run.kind(), first, head, fileOffset);
            }
            FileIo.writeFully(meta.channel, fileOffset + head, data);
            if (filled) {
                fill(run.kind(), run.pos() + run.length(), bytes - tail, fileOffset + tail);
            }
            if (backing != null) {
                meta.sync();
            }
        } catch (IOException | RuntimeException e) {
            allocator.release(fileOffset); // no table points here yet (a full disk, say): give the space back
            throw e;
        }
        try {
            meta.setEntries(first, clusters, fileOffset, g.clusterSize);
        } catch (ImageMetadata.NothingRecordedException e) {
            allocator.release(fileOffset);
            throw e.getCause();
        }
        lastAllocationNanos = System.nanoTime();
    }

    /** True when the parts of the new clusters around the data must read as zeroes (not backing data). */
    private boolean fillsWithZeroes(Run run, long clusterStart) {
        return run.kind() == Run.Kind.ZERO || backing == null || clusterStart >= backing.size();
    }

    /**
     * True when {@code [fileOffset, +len)} lay past the end of the image file and is now allocated, the file
     * extended over it (one fallocate): then it reads as zeroes without being written, the file covers every
     * byte the table entry will promise, and later writes into it cannot fail for lack of space (a hole
     * could). Small writes that allocate (a guest file system's 4 KiB blocks in 64 KiB clusters) then store
     * their data, not a cluster of zeroes, and no page of zeroes to mark the cluster's end.
     */
    private boolean freshSpace(long fileOffset, long len) throws IOException {
        return fileOffset >= meta.channel.size() && host.allocate(fileOffset, len);
    }

    /** Copy-on-write fill: backing data for an unallocated cluster, zeroes for a zero cluster (the spec, not QEMU). */
    private void fill(Run.Kind kind, long guestPos, long len, long fileOffset) throws IOException {
        if (len == 0) {
            return;
        }
        int n = (int) len; // fits: less than one cluster
        if (kind == Run.Kind.UNALLOCATED && backing != null && guestPos < backing.size()) {
            ByteBuffer buf = ByteBuffer.allocateDirect(n);
            backing.read(guestPos, buf);
            FileIo.writeFully(meta.channel, fileOffset, buf.flip());
        } else {
            for (long done = 0; done < len; ) {
                int chunk = (int) Math.min(len - done, Buffers.zerosCapacity());
                FileIo.writeFully(meta.channel, fileOffset + done, Buffers.zeros(chunk));
                done += chunk;
            }
        }
    }

    /**
     * Sets NEED_CHECK and syncs it before the first metadata change (QEMU leaves this write unsynced). Setting
     * it counts as a metadata change: an idle image is marked clean again whatever made it dirty. Until that
     * sync has succeeded every metadata change fails here: the header in memory says NEED_CHECK, but the disk
     * may not. Caller holds the allocation lock.
     */
    void markDirty() throws IOException {
        assert allocator.isHeldByCurrentThread();
        if (refusal != null) {
            throw new IOException(refusal);
        }
        QedHeader h = meta.header();
        if (!h.needsCheck() || needCheckUnsynced) {
            if (!h.needsCheck()) {
                lastAllocationNanos = System.nanoTime();
                meta.writeHeader(h.withFeatures(h.features() | QedHeader.F_NEED_CHECK));
            }
            needCheckUnsynced = true;
            meta.sync();
            needCheckUnsynced = false;
        }
    }

    /** Syncs everything and clears NEED_CHECK: the image is consistent on disk. */
    void markClean() throws IOException {
        try (Allocator.Held locked = allocator.hold()) {
            meta.markClean();
        }
    }

    /** From now on every metadata change fails with {@code why}. Caller holds the allocation lock. */
    void refuseChanges(String why) {
        assert allocator.isHeldByCurrentThread();
        refusal = why;
    }

    long lastAllocationNanos() {
        return lastAllocationNanos;
    }
}
