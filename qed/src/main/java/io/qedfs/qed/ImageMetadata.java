package io.qedfs.qed;

import io.qedfs.qed.host.FileIo;
import io.qedfs.qed.host.HostFile;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The metadata of one open image: header, L1 table (always in memory), L2 tables (through the cache), the
 * {@link Allocator} (the allocation lock and pointer), and the cluster lookup; the tables reach the file
 * through {@link TableIo}. Table entries are read lock-free
 * (AtomicLongArray); they are only changed by callers holding the allocation lock, and only once they are in
 * the file: a writer
 * that finds an entry writes into its cluster without a lock, and its write must not depend on a table
 * write that could still fail.
 *
 * <p>Tables larger than {@link Geometry#MAX_SLICE_BYTES} (up to 1 GiB) are never held whole: the cache holds
 * L2 tables slice by slice (keyed by the slice's file offset), a new one is written sparsely (the slice with
 * entries; the rest is hole), and a lookup that reaches the end of an empty slice skips the hole the rest of
 * the table lies in with SEEK_DATA, so that an empty 1 GiB table costs one slice and two system calls.
 */
final class ImageMetadata {
    final String name;
    final FileChannel channel;
    final Geometry geometry;
    /**
     * The L1 entries that map guest bytes below {@link #reach}, in whole sectors (at most {@link Geometry#l1Entries});
     * the on-disk table may hold more. Read without a lock; its entries change, and it is replaced by a longer
     * copy when a resize reaches further, under the allocation lock; a reader that still holds the old one only
     * looks at entries it has.
     */
    volatile AtomicLongArray l1;
    /** Its slices' entries: read without a lock; changed under the allocation lock. */
    final L2Cache l2Cache;
    /** The allocation lock, and the allocation pointer it guards. */
    final Allocator allocator;
    /** Whatever made the image stop holding what callers were told: reported by every later write, fsync and close. */
    final StickyFailure failure;
    /** The tables in the file: read and written through it, never cached there. */
    final TableIo tables;
    private final HostFile host;
    private final L2Cache.Loader sliceLoader; // made once: a lookup allocates nothing for it
    /** Read without a lock; written under the allocation lock (but by the open, before anyone else sees it). */
    private volatile QedHeader header;
    /** Set once a sync failed: every later sync fails too (the kernel may have dropped the pages it could not write). */
    private volatile boolean syncFailed;
    /**
     * Guest bytes the L2 slices loaded from now on cover: the image size, or a resize's new size from before it is
     * published. Read without a lock; written under the allocation lock. A slice holds only the entries below it,
     * in whole sectors: the one L2 table of a 64 MiB image at the defaults is 256 KiB, of which 8 KiB are reachable.
     */
    private volatile long reach;

    ImageMetadata(String name, FileChannel channel, HostFile host, QedHeader header, long fileLength, L2Cache l2Cache)
            throws IOException {
        this.name = name;
        this.channel = channel;
        this.host = host;
        this.header = header;
        this.geometry = Geometry.of(header);
        this.tables = new TableIo(name, channel, host, geometry);
        this.sliceLoader = tables::readSlice;
        this.allocator = new Allocator(channel, fileLength & -(long) geometry.clusterSize);
        this.reach = header.imageSize();
        this.l1 = tables.read(header.l1TableOffset(), l1Length(reach));
        this.l2Cache = l2Cache;
        this.failure = new StickyFailure(name);
    }

    QedHeader header() {
        return header;
    }

    long fileEnd() {
        return allocator.fileEnd();
    }

    /** A failed table update that left nothing on disk pointing at the new clusters: they may be released. */
    static final class NothingRecordedException extends IOException {
        NothingRecordedException(IOException cause) {
            super(cause.getMessage(), cause);
        }

        @Override
        public synchronized IOException getCause() {
            return (IOException) super.getCause();
        }
    }

    void writeHeader(QedHeader h) throws IOException {
        assert allocator.isHeldByCurrentThread();
        FileIo.writeFully(channel, 0, h.encode());
        header = h;
    }

    /**
     * Makes everything durable and clears NEED_CHECK (synced too): the image is consistent on disk. The one way
     * an image is marked clean, after its writes settled or after a check that left nothing to repair.
     */
    void markClean() throws IOException {
        assert allocator.isHeldByCurrentThread();
        sync();
        if (header.needsCheck()) {
            writeHeader(header.withFeatures(header.features() & ~QedHeader.F_NEED_CHECK));
            sync();
        }
    }

    /**
     * Makes everything written durable (fdatasync). Failures are sticky, as in QEMU: after a failed fdatasync
     * the kernel may have dropped the dirty pages it could not write, and the next one would succeed without
     * them.
     */
    void sync() throws IOException {
        if (syncFailed) {
            throw failure.exception();
        }
        try {
            channel.force(false);
        } catch (IOException e) {
            syncFailed = true;
            failure.record(StickyFailure.Kind.FAILED_SYNC, e);
            throw e;
        }
    }

    /**
     * How many entries of the slice holding guest offset {@code pos} are held in memory: those mapping guest bytes
     * below {@link #reach}, rounded up to whole sectors (table entries are written a sector at a time).
     */
    int sliceLength(long pos) {
        long sliceStart = pos & -((long) geometry.sliceEntries << geometry.clusterBits);
        long needed = Math.max(1, (reach - sliceStart + geometry.clusterSize - 1) >> geometry.clusterBits);
        long sectors = (needed + TableCodec.ENTRIES_PER_SECTOR - 1) / TableCodec.ENTRIES_PER_SECTOR;
        // fits in int: at most sliceEntries
        return (int) Math.min(geometry.sliceEntries, sectors * TableCodec.ENTRIES_PER_SECTOR);
    }

    /**
     * Lets the slices reach {@code newSize} before a resize publishes it: every cached slice is dropped, and those
     * loaded from now on hold the grown range too. Caller holds the allocation lock, so no table changes meanwhile;
     * readers holding an old slice pinned only look at entries it has.
     */
    void reachTo(long newSize) throws IOException {
        assert allocator.isHeldByCurrentThread();
        if (newSize <= reach) {
            return;
        }
        AtomicLongArray held = l1;
        int length = l1Length(newSize);
        if (length > held.length()) {
            AtomicLongArray grown = new AtomicLongArray(length);
            for (int i = 0; i < held.length(); i++) {
                grown.set(i, held.get(i));
            }
            AtomicLongArray more = tables.read(header.l1TableOffset() + held.length() * 8L, length - held.length());
            for (int i = 0; i < more.length(); i++) {
                grown.set(held.length() + i, more.get(i));
            }
            l1 = grown;
        }
        reach = newSize;
        l2Cache.dropAll();
    }

    /** L1 entries mapping guest bytes below {@code size}, in whole sectors, at most the reachable ones. */
    private int l1Length(long size) {
        long tableSpan = (long) geometry.entriesPerTable << geometry.clusterBits; // at most 2^53
        long needed = Math.max(1, size / tableSpan + (size % tableSpan == 0 ? 0 : 1)); // size may be near 2^63
        long sectors = (needed + TableCodec.ENTRIES_PER_SECTOR - 1) / TableCodec.ENTRIES_PER_SECTOR;
        // fits in int: at most l1Entries
        return (int) Math.min(geometry.l1Entries, sectors * TableCodec.ENTRIES_PER_SECTOR);
    }

    /**
     * Makes the on-disk L1 table all zeroes and the entries in memory too (the table may be larger than what
     * is in memory: the rest becomes a hole, or zeroes where holes cannot be punched).
     */
    void clearL1() throws IOException {
        assert allocator.isHeldByCurrentThread();
        AtomicLongArray l1 = this.l1;
        for (int i = 0; i < l1.length(); i++) {
            l1.set(i, 0);
        }
        long offset = header.l1TableOffset();
        tables.write(offset, l1);
        long held = l1.length() * 8L;
        if (held < geometry.tableBytes) {
            tables.zero(offset + held, geometry.tableBytes - held);
        }
    }

    /** The pinned slice of the L2 table at {@code tableOffset} that holds entry {@code index}, the one for guest {@code pos}. */
    L2Cache.Ref l2(long tableOffset, int index, long pos) throws IOException {
        return l2Cache.acquire(tableOffset + geometry.sliceStart(index) * 8L, sliceLength(pos), sliceLoader);
    }

    /** The L2 table offset for {@code pos}, 0 if there is none; fails on an invalid L1 entry. */
    long l2Offset(long pos) throws QedCorruptionException {
        int i = geometry.l1Index(pos);
        long entry = l1.get(i);
        long fileEnd = fileEnd();
        if (entry != 0 && !geometry.isValidTableOffset(entry, fileEnd)) {
            throw new QedCorruptionException(String.format(
                    "%s: L1 entry %d (0x%x) is not a valid L2 table offset (file end 0x%x); run check -r all",
                    name, i, entry, fileEnd));
        }
        return entry;
    }

    /**
     * Translates {@code [pos, pos+len)} into the longest run of one kind starting at {@code pos}, cut at the
     * L2 boundary. {@code len} must be positive.
     */
    Run lookup(long pos, long len) throws IOException {
        long max = Math.min(len, geometry.bytesToL2Boundary(pos));
        long tableOffset = l2Offset(pos);
        if (tableOffset == 0) {
            return Run.unallocated(pos, max);
        }
        int i = geometry.l2Index(pos);
        int base = geometry.sliceStart(i);
        long first;
        Run.Kind kind;
        long covered = geometry.clusterSize - geometry.offsetInCluster(pos);
        int j = i - base + 1;
        try (L2Cache.Ref ref = l2(tableOffset, i, pos)) {
            AtomicLongArray t = ref.table();
            first = t.get(i - base);
            kind = kindOf(first, i, pos);
            for (int held = t.length(); covered < max && j < held; j++) {
                long e = t.get(j);
                if (kindOf(e, base + j, pos) != kind
                        || (kind == Run.Kind.DATA && e != first + (long) (j - i + base) * geometry.clusterSize)) {
                    break;
                }
                covered += geometry.clusterSize;
            }
        }
        if (kind == Run.Kind.UNALLOCATED && covered < max && j == geometry.sliceEntries) {
            covered += holeAfter(tableOffset, base + j, max - covered);
        }
        long fileOffset = kind == Run.Kind.DATA ? first + geometry.offsetInCluster(pos) : -1;
        return new Run(kind, pos, Math.min(covered, max), fileOffset);
    }

    /**
     * Guest bytes, up to {@code limit}, mapped by the entries from {@code index} on that lie in a hole of the
     * file: they are zero (unallocated) without being read. Entries change in memory only after they are in
     * the file, so a hole on disk never hides an entry in memory. 0 for a table of one slice, which the
     * lookup has already read whole.
     */
    private long holeAfter(long tableOffset, int index, long limit) {
        if (!geometry.sliced() || index >= geometry.entriesPerTable) {
            return 0;
        }
        long from = tableOffset + index * 8L;
        long end = tableOffset + geometry.tableBytes;
        long data = host.nextData(from, end);
        long zeroEntries = ((data < 0 ? end : data) - from) >>> 3; // at most 2^27: no overflow below
        return Math.min(limit, zeroEntries << geometry.clusterBits);
    }

    private Run.Kind kindOf(long entry, int l2Index, long pos) throws QedCorruptionException {
        if (entry == 0) {
            return Run.Kind.UNALLOCATED;
        }
        if (entry == TableCodec.ZERO_CLUSTER) {
            return Run.Kind.ZERO;
        }
        long fileEnd = fileEnd();
        if (!geometry.isValidClusterOffset(entry, fileEnd)) {
            throw new QedCorruptionException(String.format(
                    "%s: L2 entry %d for guest offset 0x%x (0x%x) is not a valid cluster offset (file end 0x%x); run check -r all",
                    name, l2Index, geometry.clusterStart(pos), entry, fileEnd));
        }
        return Run.Kind.DATA;
    }

    /**
     * Points {@code n} consecutive L2 entries for the clusters from {@code pos} at {@code value},
     * {@code value + step}, ... creating the L2 table (written, sparsely if larger than a slice, and synced
     * before the L1 entry) when the L1 entry is empty. The entries change in memory only after their table write
     * succeeded (see the class comment). Caller holds the allocation lock; the clusters lie in one L2 table.
     */
    void setEntries(long pos, int n, long value, long step) throws IOException {
        assert allocator.isHeldByCurrentThread();
        int from = geometry.l2Index(pos);
        int inSlice = Math.min(n, geometry.sliceEntries - (from - geometry.sliceStart(from)));
        setEntriesInSlice(pos, inSlice, value, step);
        if (inSlice < n) { // lookups never return a run across slices; this serves any other caller
            setEntries(pos + ((long) inSlice << geometry.clusterBits), n - inSlice, value + inSlice * step, step);
        }
    }

    // expects the allocation lock; the n entries lie in one slice
    private void setEntriesInSlice(long pos, int n, long value, long step) throws IOException {
        int l1Index = geometry.l1Index(pos);
        int index = geometry.l2Index(pos);
        int base = geometry.sliceStart(index);
        int from = index - base;
        long tableOffset = l2Offset(pos);
        if (tableOffset == 0) {
            AtomicLongArray t = new AtomicLongArray(sliceLength(pos));
            fill(t, from, n, value, step);
            long at = allocator.allocate(geometry.tableBytes);
            try {
                tables.writeNew(at, base, t);
                sync();
            } catch (IOException e) {
                allocator.release(at);
                throw new NothingRecordedException(e);
            }
            // a failed L1 write leaves the table a leak (its sector may have reached the disk: it is not released)
            tables.writeEntries(header.l1TableOffset(), l1, l1Index, 1, at, 0);
            l2Cache.insert(at + base * 8L, t).close(); // before the L1 entry: a lookup through it must find this copy
            l1.set(l1Index, at);
            return;
        }
        try (L2Cache.Ref ref = l2(tableOffset, index, pos)) {
            AtomicLongArray t = ref.table();
            tables.writeEntries(tableOffset + base * 8L, t, from, n, value, step);
            fill(t, from, n, value, step);
        }
    }

    private static void fill(AtomicLongArray t, int from, int n, long value, long step) {
        for (int k = 0; k < n; k++) {
            t.set(from + k, value + k * step);
        }
    }
}
