package io.qedfs.qed;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The metadata of one open image: header, L1 table (always in memory), L2 tables (through the cache), the
 * allocation pointer, and the cluster lookup. Table entries are read lock-free (AtomicLongArray); they are
 * only changed by callers holding the image's allocation lock, and only once they are in the file: a writer
 * that finds an entry writes into its cluster without a lock, and its write must not depend on a table
 * write that could still fail.
 */
final class ImageMetadata {
    final String name;
    final FileChannel channel;
    final Geometry geometry;
    final AtomicLongArray l1;
    final L2Cache l2Cache;
    /** Whatever made the image stop holding what callers were told: reported by every later write, fsync and close. */
    final StickyFailure failure;
    private final L2Cache.Loader tableLoader = this::readTable; // made once: a lookup allocates nothing for it
    private volatile QedHeader header;
    /** End of the cluster-rounded file: where the next cluster goes. Written under the allocation lock. */
    private volatile long fileEnd;
    /** Set once a sync failed: every later sync fails too (the kernel may have dropped the pages it could not write). */
    private volatile boolean syncFailed;

    ImageMetadata(String name, FileChannel channel, QedHeader header, long fileLength, int l2CacheTables)
            throws IOException {
        this.name = name;
        this.channel = channel;
        this.header = header;
        this.geometry = Geometry.of(header);
        this.fileEnd = fileLength & -(long) geometry.clusterSize;
        this.l1 = readTable(header.l1TableOffset());
        this.l2Cache = new L2Cache(l2CacheTables);
        this.failure = new StickyFailure(name);
    }

    QedHeader header() {
        return header;
    }

    long fileEnd() {
        return fileEnd;
    }

    /** Reserves {@code bytes} (a cluster multiple) at the end of the file. Caller holds the allocation lock. */
    long allocate(long bytes) {
        long at = fileEnd;
        fileEnd = at + bytes;
        return at;
    }

    /**
     * Gives back everything allocated from {@code from} on, after a failed allocation that no table references
     * (a full disk, say): the pointer moves back and the file is cut there. Caller holds the allocation lock; no
     * unlocked write can be past {@code from}, since only referenced clusters are written without the lock.
     */
    void release(long from) {
        fileEnd = from;
        try {
            channel.truncate(from);
        } catch (IOException e) {
            // the bytes stay past the pointer; the next allocation overwrites them
        }
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

    /** Moves the allocation pointer back after the file was truncated by a repair. */
    void setFileEnd(long end) {
        fileEnd = end;
    }

    void writeHeader(QedHeader h) throws IOException {
        FileIo.writeFully(channel, 0, h.encode());
        header = h;
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

    AtomicLongArray readTable(long offset) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(geometry.tableBytes);
        FileIo.readFully(channel, offset, buf, name);
        return TableCodec.decode(buf.flip(), geometry.entriesPerTable);
    }

    void writeTable(long offset, AtomicLongArray table) throws IOException {
        FileIo.writeFully(channel, offset, TableCodec.encode(table, 0, geometry.entriesPerTable));
    }

    L2Cache.Ref l2(long tableOffset) throws IOException {
        return l2Cache.acquire(tableOffset, tableLoader);
    }

    /** The L2 table offset for {@code pos}, 0 if there is none; fails on an invalid L1 entry. */
    long l2Offset(long pos) throws QedCorruptionException {
        int i = geometry.l1Index(pos);
        long entry = l1.get(i);
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
        try (L2Cache.Ref ref = l2(tableOffset)) {
            AtomicLongArray t = ref.table();
            int i = geometry.l2Index(pos);
            long first = t.get(i);
            Run.Kind kind = kindOf(first, i, pos);
            long covered = geometry.clusterSize - geometry.offsetInCluster(pos);
            for (int j = i + 1; covered < max && j < geometry.entriesPerTable; j++) {
                long e = t.get(j);
                if (kindOf(e, j, pos) != kind
                        || (kind == Run.Kind.DATA && e != first + (long) (j - i) * geometry.clusterSize)) {
                    break;
                }
                covered += geometry.clusterSize;
            }
            long fileOffset = kind == Run.Kind.DATA ? first + geometry.offsetInCluster(pos) : -1;
            return new Run(kind, pos, Math.min(covered, max), fileOffset);
        }
    }

    private Run.Kind kindOf(long entry, int l2Index, long pos) throws QedCorruptionException {
        if (entry == 0) {
            return Run.Kind.UNALLOCATED;
        }
        if (entry == TableCodec.ZERO_CLUSTER) {
            return Run.Kind.ZERO;
        }
        if (!geometry.isValidClusterOffset(entry, fileEnd)) {
            throw new QedCorruptionException(String.format(
                    "%s: L2 entry %d for guest offset 0x%x (0x%x) is not a valid cluster offset (file end 0x%x); run check -r all",
                    name, l2Index, geometry.clusterStart(pos), entry, fileEnd));
        }
        return Run.Kind.DATA;
    }

    /**
     * Points {@code n} consecutive L2 entries for the clusters from {@code pos} at {@code value},
     * {@code value + step}, ... creating the L2 table (written whole and synced before the L1 entry) when the
     * L1 entry is empty. The entries change in memory only after their table write succeeded (see the class
     * comment). Caller holds the allocation lock; the clusters lie in one L2 table.
     */
    void setEntries(long pos, int n, long value, long step) throws IOException {
        int l1Index = geometry.l1Index(pos);
        int from = geometry.l2Index(pos);
        long tableOffset = l2Offset(pos);
        if (tableOffset == 0) {
            AtomicLongArray t = new AtomicLongArray(geometry.entriesPerTable);
            fill(t, from, n, value, step);
            long at = allocate((long) geometry.tableBytes);
            try {
                writeTable(at, t);
                sync();
            } catch (IOException e) {
                release(at);
                throw new NothingRecordedException(e);
            }
            // a failed L1 write leaves the table a leak (its sector may have reached the disk: it is not released)
            writeEntries(header.l1TableOffset(), l1, l1Index, 1, at, 0);
            l2Cache.insert(at, t).close(); // before the L1 entry: a lookup through it must find this copy
            l1.set(l1Index, at);
            return;
        }
        try (L2Cache.Ref ref = l2(tableOffset)) {
            AtomicLongArray t = ref.table();
            writeEntries(tableOffset, t, from, n, value, step);
            fill(t, from, n, value, step);
        }
    }

    /**
     * Writes the 512-byte sectors (as QEMU does) of {@code table} that hold entries {@code [from, from+n)}, with those entries set to
     * {@code value}, {@code value + step}, ...; the table in memory is left as it is.
     */
    private void writeEntries(long tableOffset, AtomicLongArray table, int from, int n, long value, long step)
            throws IOException {
        int first = from - from % TableCodec.ENTRIES_PER_SECTOR;
        int last = Math.min(geometry.entriesPerTable,
                (from + n + TableCodec.ENTRIES_PER_SECTOR - 1) / TableCodec.ENTRIES_PER_SECTOR * TableCodec.ENTRIES_PER_SECTOR);
        ByteBuffer sectors = TableCodec.encode(table, first, last);
        for (int k = 0; k < n; k++) {
            sectors.putLong((from + k - first) * 8, value + k * step);
        }
        FileIo.writeFully(channel, tableOffset + first * 8L, sectors);
    }

    private static void fill(AtomicLongArray t, int from, int n, long value, long step) {
        for (int k = 0; k < n; k++) {
            t.set(from + k, value + k * step);
        }
    }
}
