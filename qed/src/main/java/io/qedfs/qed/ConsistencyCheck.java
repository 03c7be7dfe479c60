package io.qedfs.qed;

import io.qedfs.qed.host.FileIo;
import io.qedfs.qed.host.HostFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The QED consistency check (docs/format.md, section 8), with correct cluster arithmetic (QEMU divides by
 * cluster_size - 1 and reports leaks that are not there).
 *
 * <p>{@link #run} is four steps, as in QEMU's check: the L1 table, each L2 table, the leaks, then the repair
 * ({@link CheckRepair}), which marks the image clean when nothing is left. The first three are the {@link #scan}:
 * it reads the L1 table and every L2 table and changes nothing, collecting in {@link CheckFindings} what a
 * repair must do. Tables are marked before data, so a data entry pointing into the L1 table or an L2 table is
 * the one found at fault, not the table. Repair clears invalid L1/L2 offsets (as QEMU does) and L1 entries whose
 * table overlaps another table. Unlike QEMU, which leaves them, repair gives each extra reference to a shared
 * data cluster a copy of its own, so every guest read returns what it returned before and no two owners share a
 * cluster again. Repair also reclaims leaked clusters: trailing ones by truncating the file, interior ones by
 * punching holes (they stay unreferenced, but use no space, and are then no longer counted as leaks). Runs
 * under the image's allocation lock.
 *
 * <p>Between scan and repair, with nothing changing the tables, writes into referenced clusters may go on: a
 * background check ({@link DeferredCheck}) lets them, keeping what they overwrite in {@link PreImages} so that
 * the repair copies what the scan saw.
 */
final class ConsistencyCheck {
    private final ImageMetadata meta;
    private final HostFile host;
    private final boolean fix;
    private final ProgressListener progress;
    private final Geometry g;
    private final CheckFindings found = new CheckFindings();
    /** The slice of the L2 table being checked (the whole table up to 1 MiB), as read from the file, and its entries. */
    private final ByteBuffer tableBuf;
    private final LongBuffer tableEntries;
    /** All zeroes: what runs of empty entries are compared with. */
    private final ByteBuffer zeroes;
    /** The last data cluster seen in the table being checked, 0 at its start (fragmentation). */
    private long lastCluster;

    ConsistencyCheck(ImageMetadata meta, HostFile host, RepairMode mode, ProgressListener progress) {
        this.meta = meta;
        this.progress = progress;
        this.host = host;
        this.fix = mode != RepairMode.NONE;
        this.g = meta.geometry;
        this.tableBuf = ByteBuffer.allocateDirect(g.sliceBytes).order(ByteOrder.LITTLE_ENDIAN);
        this.tableEntries = tableBuf.asLongBuffer();
        this.zeroes = ByteBuffer.allocateDirect(Math.min(g.sliceBytes, 1 << 16));
    }

    /** An L2 table the scan checks: the L1 entry that points at it, and its offset. */
    private record L2Table(int l1Index, long offset) {
    }

    /** Where the tables are, once the pass over L1 is done: what in-place writes during the scan must not touch. */
    record TableMap(long[] tableStarts, int tableBytes, BitSet badL1) {
        /** True when the file cluster at {@code offset} belongs to the L1 table or to an L2 table the scan checks. */
        boolean isTableCluster(long offset) {
            int i = Arrays.binarySearch(tableStarts, offset);
            int at = i >= 0 ? i : -i - 2; // the last start at or before offset
            return at >= 0 && offset - tableStarts[at] < tableBytes;
        }
    }

    /** The scan was asked to stop (between tables); nothing was changed. */
    static final class StoppedException extends Exception {
        StoppedException() {
            super("the check was stopped", null, false, false);
        }
    }

    /** The foreground check of {@code meta}'s image, run under the allocation lock it takes. */
    static CheckReport runLocked(ImageMetadata meta, HostFile host, RepairMode mode, ProgressListener progress)
            throws IOException {
        try (Allocator.Held locked = meta.allocator.hold()) {
            return new ConsistencyCheck(meta, host, mode, progress).run();
        }
    }

    /** Scans and, in a repair mode, repairs at once: the foreground check. Caller holds the allocation lock. */
    CheckReport run() throws IOException {
        try {
            scan(() -> false, t -> { });
        } catch (StoppedException e) {
            throw new IllegalStateException("a check nobody can stop stopped", e);
        }
        return repair(PreImages.NONE);
    }

    /**
     * Reads L1 and every L2 table and changes nothing; hands the table map to {@code tablesKnown} once the pass
     * over L1 is done; stops between tables when {@code stop} says so. Caller holds the allocation lock, so that no
     * table changes meanwhile (writes into referenced clusters may).
     */
    void scan(BooleanSupplier stop, Consumer<TableMap> tablesKnown) throws IOException, StoppedException {
        assert meta.allocator.isHeldByCurrentThread();
        found.fileSize = meta.fileEnd();
        found.used = new ClusterBitmap(found.fileSize >>> g.clusterBits);
        BitSet badL1 = new BitSet();
        List<L2Table> tables = checkL1(badL1);
        tablesKnown.accept(tableMap(tables, badL1));
        checkL2Tables(tables, stop);
        countLeaks();
    }

    /**
     * Makes what the scan found true on disk (in a repair mode; without one, only reports), and returns the report
     * (see {@link CheckRepair}). Caller holds the allocation lock, and nothing reads or writes the image meanwhile.
     */
    CheckReport repair(PreImages saved) throws IOException {
        return new CheckRepair(meta, host, found, fix).run(saved);
    }

    /** Step 1: the L1 table's own clusters, then its entries, reachable and not; returns the tables to check. */
    private List<L2Table> checkL1(BitSet badL1) {
        ClusterBitmap used = found.used;
        long l1Offset = meta.header().l1TableOffset();
        int overlap = used.mark(l1Offset >>> g.clusterBits, g.tableSize);
        if (overlap > 0) {
            found.corruptions(overlap, new CheckProblem.L1TableOverlap(l1Offset), false);
        }
        List<L2Table> tables = new ArrayList<>();
        for (int i = 0; i < meta.l1.length(); i++) {
            long entry = meta.l1.get(i);
            if (entry == 0) {
                continue;
            }
            CheckProblem what = l1Problem(i, entry);
            if (what == null) {
                tables.add(new L2Table(i, entry));
                continue;
            }
            badL1.set(i);
            if (fix) {
                found.l1Clears.add(i);
            }
            found.corruption(what, fix);
        }
        checkUnreachableL1(l1Offset, tables);
        return tables;
    }

    private TableMap tableMap(List<L2Table> tables, BitSet badL1) {
        long[] starts = new long[tables.size() + 1];
        starts[0] = meta.header().l1TableOffset();
        for (int n = 0; n < tables.size(); n++) {
            starts[n + 1] = tables.get(n).offset();
        }
        Arrays.sort(starts);
        return new TableMap(starts, g.tableBytes, badL1);
    }

    /** Step 2: each L2 table, telling {@code progress}; stops between tables when asked. */
    private void checkL2Tables(List<L2Table> tables, BooleanSupplier stop) throws StoppedException {
        progress.progress(0, tables.size());
        for (int n = 0; n < tables.size(); n++) {
            if (stop.getAsBoolean()) {
                throw new StoppedException();
            }
            checkL2(tables.get(n).l1Index(), tables.get(n).offset());
            progress.progress(n + 1, tables.size());
        }
        long copies = found.entryFixes.stream().filter(f -> f.cluster() != 0).count();
        found.copiesEnd = copies == 0 ? 0 : found.fileSize + (copies << g.clusterBits); // where the repair's copies will end
    }

    /** Step 3: the clusters nothing references, when every table could be read. */
    private void countLeaks() throws IOException {
        if (found.checkErrors == 0) {
            found.leaked = leakedRanges(g.headerBytes >>> g.clusterBits, found.fileSize >>> g.clusterBits);
            for (ClusterRange r : found.leaked) {
                found.leaks += r.count();
            }
        }
    }

    /** Why L1 entry {@code i} (not 0) cannot be checked as a table, or null; marks the table's clusters used. */
    private CheckProblem l1Problem(int i, long entry) {
        if (!g.isValidTableOffset(entry, found.fileSize)) {
            return new CheckProblem.InvalidL2TableOffset(i, entry, found.fileSize, fix);
        }
        if (!found.used.markIfFree(entry >>> g.clusterBits, g.tableSize)) {
            // left unmarked, as QEMU does: the clusters stay with their first owner
            return new CheckProblem.OverlappingL2Table(i, entry, fix);
        }
        return null;
    }

    /**
     * The L1 entries beyond those in memory (ImageMetadata holds only the ones the image size reaches): read from
     * the file slice by slice, skipping holes, and checked like the others, so that their tables count as used; a
     * repair clears the bad ones in the file. No guest request reaches them while the check runs: a resize, the
     * only thing that reads them in, waits for it.
     */
    private void checkUnreachableL1(long l1Offset, List<L2Table> tables) {
        long end = l1Offset + g.tableBytes;
        long at = l1Offset + meta.l1.length() * 8L;
        while (at < end) {
            long from = host.nextData(at, end);
            if (from < 0) {
                return; // the rest is hole: empty entries
            }
            int n = (int) Math.min(g.sliceBytes, end - from); // fits: at most one slice
            try {
                tableBuf.clear().limit(n);
                FileIo.readFully(meta.channel, from, tableBuf, meta.name);
                for (int k = 0; k < n / 8; k++) {
                    long entry = tableBuf.getLong(k * 8);
                    if (entry == 0) {
                        continue;
                    }
                    int i = (int) ((from - l1Offset) >>> 3) + k; // fits: an L1 index
                    CheckProblem what = l1Problem(i, entry);
                    if (what == null) {
                        tables.add(new L2Table(i, entry));
                        continue;
                    }
                    if (fix) {
                        found.unreachableL1Clears.add(from + k * 8L);
                    }
                    found.corruption(what, fix);
                }
            } catch (IOException e) {
                found.checkError(new CheckProblem.UnreadableL1Table(l1Offset, from, e.getMessage()));
                return;
            }
            at = from + n;
        }
    }

    /**
     * One L2 table. A table that cannot be read is a check error, and the others go on. Tables are read straight into one reused buffer, not through the L2 cache: the check visits each once,
     * and decoding hundreds of them into cached arrays would cost more than checking them. A table larger than
     * one slice is read slice by slice, and the slices that lie in holes of the file (empty entries) are not
     * read at all.
     */
    private void checkL2(int l1Index, long tableOffset) {
        lastCluster = 0;
        long end = tableOffset + g.tableBytes;
        int base = 0;
        while (base < g.entriesPerTable) {
            long sliceAt = tableOffset + base * 8L;
            if (g.sliced()) {
                long data = host.nextData(sliceAt, end);
                if (data < 0) {
                    return;
                }
                int next = g.sliceStart((int) ((data - tableOffset) >>> 3)); // fits: an entry index
                if (next > base) {
                    base = next;
                    continue;
                }
            }
            tableBuf.clear();
            try {
                FileIo.readFully(meta.channel, sliceAt, tableBuf, meta.name);
            } catch (IOException e) {
                found.checkError(new CheckProblem.UnreadableL2Table(l1Index, tableOffset, e.getMessage()));
                return;
            }
            checkEntries(l1Index, base, tableOffset);
            base += g.sliceEntries;
        }
    }

    /**
     * Checks the entries of the slice in {@link #tableBuf}, entries {@code base} on of the table; with repair,
     * notes how each bad one is to change.
     */
    private void checkEntries(int l1Index, int base, long tableOffset) {
        long fileSize = found.fileSize;
        LongBuffer t = tableEntries;
        for (int k = nextNonZero(0); k < g.sliceEntries; k = nextNonZero(k + 1)) {
            long e = t.get(k);
            int j = base + k;
            if (e == TableCodec.ZERO_CLUSTER) {
                continue;
            }
            found.allocated++;
            if (lastCluster != 0 && lastCluster + g.clusterSize != e) {
                found.fragmented++;
            }
            lastCluster = e;
            if (!g.isValidClusterOffset(e, fileSize)) {
                if (fix) {
                    found.entryFixes.add(new CheckFindings.EntryFix(l1Index, tableOffset, tableOffset + j * 8L, 0, 0));
                }
                found.corruption(new CheckProblem.InvalidClusterOffset(tableOffset, j, g.guestOffset(l1Index, j), e,
                        whyInvalid(e, fileSize), fix), fix);
                continue;
            }
            if (found.used.mark(e >>> g.clusterBits, 1) > 0) {
                if (fix) {
                    found.entryFixes.add(new CheckFindings.EntryFix(l1Index, tableOffset, tableOffset + j * 8L, e,
                            g.guestOffset(l1Index, j) >>> g.clusterBits));
                }
                found.corruption(new CheckProblem.SharedCluster(tableOffset, j, g.guestOffset(l1Index, j), e, fix), fix);
            }
        }
    }

    /**
     * The index of the first entry of the slice from {@code from} on that is not 0, or sliceEntries. Most
     * tables are mostly empty; a vectorized compare with zeroes skips the empty runs many entries at a time.
     */
    private int nextNonZero(int from) {
        for (int pos = from << 3; pos < g.sliceBytes; pos += zeroes.capacity()) {
            int n = Math.min(zeroes.capacity(), g.sliceBytes - pos);
            tableBuf.limit(pos + n).position(pos);
            zeroes.limit(n).position(0);
            int at = tableBuf.mismatch(zeroes);
            if (at >= 0) {
                return (pos + at) >>> 3;
            }
        }
        return g.sliceEntries;
    }

    private String whyInvalid(long offset, long fileSize) {
        if (!g.isAligned(offset)) {
            return "not cluster-aligned";
        }
        if (offset < g.headerBytes) {
            return "inside the header";
        }
        return String.format("past the end of the file at 0x%x", fileSize);
    }

    /**
     * Runs of unmarked clusters past the header. Interior ones leave out what is already a
     * hole (a reclaimed leak). Trailing ones count whole, holes too: qemu-img counts every cluster up to the
     * file's end, and the truncation that reclaims them takes the holes with them.
     */
    private List<ClusterRange> leakedRanges(long from, long to) throws IOException {
        ClusterBitmap used = found.used;
        long keptEnd = Math.max(used.highestMarked() + 1, found.copiesEnd >>> g.clusterBits); // where repair cuts the file
        List<ClusterRange> out = new ArrayList<>();
        long c = from;
        while (c < to) {
            if (used.isMarked(c)) {
                c++;
                continue;
            }
            long start = c;
            while (c < to && !used.isMarked(c)) {
                c++;
            }
            if (start >= keptEnd) {
                out.add(new ClusterRange(start, c - start));
            } else {
                addStoredParts(out, start, c);
            }
        }
        return out;
    }

    /** Adds the parts of leaked clusters [start, end) that hold space; reclaimed holes are not leaks any more. */
    private void addStoredParts(List<ClusterRange> out, long start, long end) throws IOException {
        long c = start;
        while (c < end) {
            long data = host.nextData(c << g.clusterBits, end << g.clusterBits);
            if (data < 0) {
                return;
            }
            long first = Math.max(c, data >>> g.clusterBits);
            long hole = host.nextHole(first << g.clusterBits, end << g.clusterBits);
            long stop = Math.min(end, (hole + g.clusterSize - 1) >>> g.clusterBits);
            if (stop <= first) {
                stop = first + 1;
            }
            out.add(new ClusterRange(first, stop - first));
            c = stop;
        }
    }
}
