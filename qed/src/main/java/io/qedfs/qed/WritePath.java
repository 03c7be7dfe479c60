package io.qedfs.qed;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Writes, zero writes and the NEED_CHECK lifecycle.
 *
 * <p>Writes to allocated clusters go straight to the file, in parallel, without a lock. Everything that
 * changes metadata (allocating writes, zero clusters, the header) holds {@link #allocLock}, and looks the
 * range up again under it: another writer may have allocated the cluster since the unlocked lookup, and
 * allocating it twice would leak one copy and lose the other's data.
 *
 * <p>Ordering (DESIGN.md, durability): NEED_CHECK is set and synced before the first allocation; then data
 * and copy-on-write fill, a sync if there is a backing file (so an entry never points at a half-filled
 * cluster whose backing data was lost), then L2 entries (a new table is written whole and synced), then L1.
 */
final class WritePath {
    final ReentrantLock allocLock = new ReentrantLock();
    private final ImageMetadata meta;
    private final Backing backing; // null when the image has none
    private final HostFile host;
    private volatile long lastAllocationNanos;

    WritePath(ImageMetadata meta, Backing backing, HostFile host) {
        this.meta = meta;
        this.backing = backing;
        this.host = host;
    }

    void write(long pos, ByteBuffer src) throws IOException {
        long at = pos;
        while (src.hasRemaining()) {
            Run run = meta.lookup(at, src.remaining());
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
     * Writes {@code src} in place when every cluster of the range already holds data (no metadata changes);
     * returns false, having written nothing, otherwise. One lookup in the usual case: the range is one run.
     */
    boolean writeInPlace(long pos, ByteBuffer src) throws IOException {
        long end = pos + src.remaining();
        Run first = meta.lookup(pos, end - pos);
        if (first.kind() != Run.Kind.DATA) {
            return false;
        }
        if (first.length() == end - pos) {
            FileIo.writeFully(meta.channel, first.fileOffset(), src);
            return true;
        }
        for (long at = pos + first.length(); at < end; ) {
            Run run = meta.lookup(at, end - at);
            if (run.kind() != Run.Kind.DATA) {
                return false;
            }
            at += run.length();
        }
        write(pos, src);
        return true;
    }

    /**
     * Makes {@code [pos, pos+len)} read as zeroes: whole clusters without storing data where possible. A range
     * that reaches the image end covers its last cluster whole: the bytes past the end are never read.
     */
    void writeZeroes(long pos, long len) throws IOException {
        long end = pos + len;
        long alignedStart = Math.min(meta.geometry.roundUp(pos), end);
        boolean wholeTail = end >= meta.header().imageSize() && meta.geometry.offsetInCluster(alignedStart) == 0;
        long wholeEnd = wholeTail ? meta.geometry.roundUp(end) : meta.geometry.clusterStart(end);
        long alignedEnd = Math.max(alignedStart, wholeEnd);
        writeZeroData(pos, alignedStart - pos);
        for (long at = alignedStart; at < alignedEnd; ) {
            Run run = meta.lookup(at, alignedEnd - at);
            switch (run.kind()) {
                case DATA -> host.zeroRange(run.fileOffset(), run.length());
                case ZERO -> { }
                case UNALLOCATED -> markZero(run);
            }
            at += run.length();
        }
        writeZeroData(alignedEnd, Math.max(0, end - alignedEnd));
    }

    private void writeZeroData(long pos, long len) throws IOException {
        for (long done = 0; done < len; ) {
            int chunk = (int) Math.min(len - done, Buffers.zerosCapacity()); // fits: at most 1 MiB
            write(pos + done, Buffers.zeros(chunk));
            done += chunk;
        }
    }

    /** Unallocated clusters become zero clusters, unless there is no backing file to hide. */
    private void markZero(Run run) throws IOException {
        if (backing == null) {
            return;
        }
        allocLock.lock();
        try {
            for (long at = run.pos(); at < run.pos() + run.length(); ) {
                Run again = meta.lookup(at, run.pos() + run.length() - at);
                if (again.kind() == Run.Kind.DATA) {
                    host.zeroRange(again.fileOffset(), again.length());
                } else if (again.kind() == Run.Kind.UNALLOCATED) {
                    markDirty();
                    meta.setEntries(at, (int) (again.length() >> meta.geometry.clusterBits), TableCodec.ZERO_CLUSTER, 0);
                    lastAllocationNanos = System.nanoTime();
                }
                at += again.length();
            }
        } finally {
            allocLock.unlock();
        }
    }

    private void writeAllocating(long pos, ByteBuffer piece) throws IOException {
        allocLock.lock();
        try {
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
        } finally {
            allocLock.unlock();
        }
    }

    // expects allocLock; the data covers exactly the run
    private void allocateAndWrite(Run run, ByteBuffer data) throws IOException {
        Geometry g = meta.geometry;
        markDirty();
        long first = g.clusterStart(run.pos());
        long end = g.roundUp(run.pos() + run.length());
        int clusters = (int) ((end - first) >> g.clusterBits); // fits: within one L2 table
        long fileOffset = meta.allocate(end - first);
        try {
            // new space past the end of the file, allocated and covered by the file's length, reads as zeroes:
            // then only the data is stored, without filling the clusters around it
            boolean filled = !(fillsWithZeroes(run, first) && freshSpace(fileOffset, end - first));
            if (filled) {
                fill(run.kind(), first, run.pos() - first, fileOffset);
            }
            FileIo.writeFully(meta.channel, fileOffset + (run.pos() - first), data);
            if (filled) {
                long dataEnd = run.pos() + run.length();
                fill(run.kind(), dataEnd, end - dataEnd, fileOffset + (dataEnd - first));
            }
            if (backing != null) {
                meta.sync();
            }
        } catch (IOException | RuntimeException e) {
            meta.release(fileOffset); // no table points here yet (a full disk, say): give the space back
            throw e;
        }
        try {
            meta.setEntries(first, clusters, fileOffset, g.clusterSize);
        } catch (ImageMetadata.NothingRecordedException e) {
            meta.release(fileOffset);
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

    /** Sets NEED_CHECK and syncs it before the first metadata change (QEMU leaves this write unsynced). */
    void markDirty() throws IOException {
        QedHeader h = meta.header();
        if (!h.needsCheck()) {
            meta.writeHeader(h.withFeatures(h.features() | QedHeader.F_NEED_CHECK));
            meta.sync();
        }
    }

    /** Syncs everything and clears NEED_CHECK: the image is consistent on disk. */
    void markClean() throws IOException {
        allocLock.lock();
        try {
            meta.sync();
            QedHeader h = meta.header();
            if (h.needsCheck()) {
                meta.writeHeader(h.withFeatures(h.features() & ~QedHeader.F_NEED_CHECK));
                meta.sync();
            }
        } finally {
            allocLock.unlock();
        }
    }

    /** Returns once every allocation that started before this call has written its metadata. */
    void awaitAllocations() {
        allocLock.lock();
        allocLock.unlock();
    }

    long lastAllocationNanos() {
        return lastAllocationNanos;
    }
}
