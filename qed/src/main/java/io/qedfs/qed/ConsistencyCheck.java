package io.qedfs.qed;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The QED consistency check (docs/format.md, section 8), with correct cluster arithmetic (QEMU divides by
 * cluster_size - 1 and reports leaks that are not there).
 *
 * <p>Tables are marked before data, so a data entry pointing into the L1 table or an L2 table is the one
 * found at fault, not the table. Repair clears invalid L1/L2 offsets (as QEMU does) and L1 entries whose table
 * overlaps another table. Unlike QEMU, which leaves them, repair gives each extra reference to a shared data
 * cluster a copy of its own, so every guest read returns what it returned before and no two owners share a
 * cluster again. Repair also reclaims leaked clusters: trailing ones by truncating the file, interior ones by
 * punching holes (they stay unreferenced, but use no space, and are then no longer counted as leaks). Runs
 * under the image's allocation lock.
 *
 * <p>Two steps: {@link #scan} reads the L1 table and every L2 table and changes nothing, collecting what a repair
 * must do; {@link #repair} then does it, in an order a crash cannot turn into lost data (copies, a sync, the
 * entries; the L1 table; restored clusters after a sync; leaks; a sync; NEED_CHECK cleared; a sync). Between the
 * two, with nothing changing the tables, writes into referenced clusters may go on: a background check
 * ({@link DeferredCheck}) lets them, keeping what they overwrite in {@link PreImages} so that the repair copies
 * what the scan saw.
 */
final class ConsistencyCheck {
    private static final int MAX_PROBLEM_LINES = 1000;

    private final ImageMetadata meta;
    private final HostFile host;
    private final boolean fix;
    private final ProgressListener progress;
    private final Geometry g;
    private final List<String> problems = new ArrayList<>();
    private long allocated;
    private long fragmented;
    private long corruptions;
    private long corruptionsFixed;
    private long checkErrors;
    /** End of the last cluster copied by repair (past the checked file end), 0 if none. */
    private long copiesEnd;
    /** The file end the scan saw; the repair's copies go after it. */
    private long fileSize;
    private ClusterBitmap used;
    /** L1 entries in memory a repair clears, and the file offsets of those beyond it that it zeroes. */
    private final List<Integer> l1Clears = new ArrayList<>();
    private final List<Long> unreachableL1Clears = new ArrayList<>();
    /** L2 entries a repair changes, in the order the scan met them (the copies are allocated in that order). */
    private final List<EntryFix> entryFixes = new ArrayList<>();
    /** Leaked clusters as {first, count}, found after the scan (null when not counted: there were check errors). */
    private List<long[]> leaked;
    private long leaks;
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

    /** One L2 entry a repair changes: cleared ({@code cluster} 0), or given a copy of {@code cluster}. */
    private record EntryFix(int l1Index, long table, long slot, long cluster, long guestCluster) {
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

    /** Scans and, in a repair mode, repairs at once: the foreground check. Caller holds the allocation lock. */
    CheckReport run() throws IOException {
        assert meta.allocator.isHeldByCurrentThread();
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
    void scan(BooleanSupplier stop, java.util.function.Consumer<TableMap> tablesKnown) throws IOException, StoppedException {
        assert meta.allocator.isHeldByCurrentThread();
        fileSize = meta.fileEnd();
        long nclusters = fileSize >>> g.clusterBits;
        used = new ClusterBitmap(nclusters);
        long l1Offset = meta.header().l1TableOffset();
        int overlap = used.mark(l1Offset >>> g.clusterBits, g.tableSize);
        if (overlap > 0) {
            corruption(overlap, String.format("L1 table at 0x%x overlaps itself", l1Offset), false);
        }
        BitSet badL1 = new BitSet();
        List<long[]> tables = new ArrayList<>(); // {L1 index, L2 table offset}
        for (int i = 0; i < meta.l1.length(); i++) {
            long entry = meta.l1.get(i);
            if (entry == 0) {
                continue;
            }
            String what = l1Problem(i, entry, fileSize, used);
            if (what == null) {
                tables.add(new long[] {i, entry});
                continue;
            }
            badL1.set(i);
            if (fix) {
                l1Clears.add(i);
            }
            corruption(1, what, fix);
        }
        checkUnreachableL1(l1Offset, fileSize, used, tables);
        long[] starts = new long[tables.size() + 1];
        starts[0] = l1Offset;
        for (int n = 0; n < tables.size(); n++) {
            starts[n + 1] = tables.get(n)[1];
        }
        Arrays.sort(starts);
        tablesKnown.accept(new TableMap(starts, g.tableBytes, badL1));
        progress.progress(0, tables.size());
        for (int n = 0; n < tables.size(); n++) {
            if (stop.getAsBoolean()) {
                throw new StoppedException();
            }
            // fits in int: an L1 index
            checkL2((int) tables.get(n)[0], tables.get(n)[1], fileSize, used);
            progress.progress(n + 1, tables.size());
        }
        long copies = entryFixes.stream().filter(f -> f.cluster() != 0).count();
        copiesEnd = copies == 0 ? 0 : fileSize + (copies << g.clusterBits); // where the repair's copies will end
        if (checkErrors == 0) {
            leaked = leakedRanges(used, g.headerBytes >>> g.clusterBits, nclusters);
            for (long[] r : leaked) {
                leaks += r[1];
            }
        }
    }

    /**
     * Makes what the scan found true on disk (in a repair mode; without one, only reports), and returns the report.
     * Runs to its end once started. {@code saved}: what writes into referenced clusters overwrote since the scan
     * began, so that each copy holds what the scan saw. Caller holds the allocation lock, and nothing reads or
     * writes the image meanwhile.
     */
    CheckReport repair(PreImages saved) throws IOException {
        assert meta.allocator.isHeldByCurrentThread();
        long leaksFixed = 0;
        if (fix) {
            List<Long> restore = repairEntries(saved);
            if (!l1Clears.isEmpty()) {
                for (int i : l1Clears) {
                    meta.l1.set(i, 0);
                }
                meta.writeTable(meta.header().l1TableOffset(), meta.l1);
            }
            for (long at : unreachableL1Clears) {
                try {
                    FileIo.writeFully(meta.channel, at, ByteBuffer.allocate(8));
                } catch (IOException e) {
                    checkErrors++;
                    problem(String.format("L1 table: the repair could not be written at 0x%x: %s", at, e.getMessage()));
                }
            }
            if (!restore.isEmpty()) {
                meta.sync(); // the entries that point at their copies first: a crash now keeps what they hold
                for (long cluster : restore) {
                    saved.restore(cluster, meta.channel);
                }
            }
        }
        if (checkErrors > 0) {
            leaks = 0; // counted only when every table was read and every repair written
        } else if (leaks > 0) {
            if (fix && checkErrors == 0) {
                leaksFixed = reclaim(leaked, used);
                leaks -= leaksFixed;
            } else {
                problems.add(String.format("%d leaked clusters (%d bytes) in %d ranges", leaks, leaks << g.clusterBits, leaked.size()));
            }
        }
        if (fix) {
            if (corruptions == 0 && checkErrors == 0) {
                meta.markClean();
            } else {
                meta.sync();
            }
            meta.l2Cache.clear();
        }
        long imageEnd = Math.max((used.highestMarked() + 1) << g.clusterBits, copiesEnd);
        long size = meta.header().imageSize();
        long total = (size >>> g.clusterBits) + ((size & (g.clusterSize - 1)) != 0 ? 1 : 0);
        return new CheckReport(total, allocated, fragmented, corruptions, corruptionsFixed, leaks, leaksFixed,
                checkErrors, imageEnd, List.copyOf(problems));
    }

    /**
     * Table by table, in the order the scan met them: the copies of shared clusters, a sync, then the changed
     * entries (a table must never point at a copy that is not written yet). A table whose repair cannot be
     * written is a check error, and the others go on. Returns the shared clusters to restore from {@code saved}:
     * those that a write through a later reference changed during the scan, whose new bytes went to that
     * reference's copy.
     */
    private List<Long> repairEntries(PreImages saved) {
        List<Long> restore = new ArrayList<>();
        for (int from = 0; from < entryFixes.size(); ) {
            long table = entryFixes.get(from).table();
            int to = from;
            while (to < entryFixes.size() && entryFixes.get(to).table() == table) {
                to++;
            }
            List<EntryFix> fixes = entryFixes.subList(from, to);
            try {
                long[] values = new long[fixes.size()];
                List<Long> restoreHere = new ArrayList<>();
                boolean copied = false;
                for (int k = 0; k < values.length; k++) {
                    EntryFix f = fixes.get(k);
                    if (f.cluster() != 0) {
                        values[k] = copyOfCluster(f.cluster(), f.guestCluster(), saved, restoreHere);
                        copied = true;
                    }
                }
                if (copied) {
                    meta.sync(); // copies first: the table must not point at a cluster that is not written yet
                }
                writeEntries(fixes, values);
                restore.addAll(restoreHere);
            } catch (IOException e) {
                checkErrors++;
                problem(String.format("L2 table at 0x%x: the repair could not be written: %s", table, e.getMessage()));
            }
            from = to;
        }
        return restore;
    }

    /** Writes each fix's new value into its table, a 512-byte sector at a time (read, patched, written). */
    private void writeEntries(List<EntryFix> fixes, long[] values) throws IOException {
        ByteBuffer sector = ByteBuffer.allocate(TableCodec.SECTOR).order(ByteOrder.LITTLE_ENDIAN);
        for (int k = 0; k < fixes.size(); ) {
            long sectorAt = fixes.get(k).slot() & -(long) TableCodec.SECTOR;
            sector.clear();
            FileIo.readFully(meta.channel, sectorAt, sector, meta.name);
            for (; k < fixes.size() && (fixes.get(k).slot() & -(long) TableCodec.SECTOR) == sectorAt; k++) {
                sector.putLong((int) (fixes.get(k).slot() - sectorAt), values[k]); // fits: within the sector
            }
            FileIo.writeFully(meta.channel, sectorAt, sector.clear());
        }
    }

    /** Why L1 entry {@code i} (not 0) cannot be checked as a table, or null; marks the table's clusters used. */
    private String l1Problem(int i, long entry, long fileSize, ClusterBitmap used) {
        if (!g.isValidTableOffset(entry, fileSize)) {
            return String.format("L1 entry %d: L2 table offset 0x%x is invalid (file end 0x%x)", i, entry, fileSize);
        }
        if (!used.markIfFree(entry >>> g.clusterBits, g.tableSize)) {
            // left unmarked, as QEMU does: the clusters stay with their first owner
            return String.format("L1 entry %d: L2 table at 0x%x overlaps the L1 table or another L2 table", i, entry);
        }
        return null;
    }

    /**
     * The L1 entries beyond those in memory (ImageMetadata holds only the ones the image size reaches): read from
     * the file slice by slice, skipping holes, and checked like the others, so that their tables count as used; a
     * repair clears the bad ones in the file. No guest request reaches them while the check runs: a resize, the
     * only thing that reads them in, waits for it.
     */
    private void checkUnreachableL1(long l1Offset, long fileSize, ClusterBitmap used, List<long[]> tables) {
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
                    String what = l1Problem(i, entry, fileSize, used);
                    if (what == null) {
                        tables.add(new long[] {i, entry});
                        continue;
                    }
                    if (fix) {
                        unreachableL1Clears.add(from + k * 8L);
                    }
                    corruption(1, what, fix);
                }
            } catch (IOException e) {
                checkErrors++;
                problem(String.format("L1 table at 0x%x: cannot read it at 0x%x: %s", l1Offset, from, e.getMessage()));
                return;
            }
            at = from + n;
        }
    }

    /**
     * A table that cannot be read, or whose repair cannot be written, is a check error, each said as it is.
     * Tables are read straight into one reused buffer, not through the L2 cache: the check visits each once,
     * and decoding hundreds of them into cached arrays would cost more than checking them. A table larger than
     * one slice is read slice by slice, and the slices that lie in holes of the file (empty entries) are not
     * read at all.
     */
    private void checkL2(int l1Index, long tableOffset, long fileSize, ClusterBitmap used) {
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
                checkErrors++;
                problem(String.format("L1 entry %d: cannot read L2 table at 0x%x: %s", l1Index, tableOffset, e.getMessage()));
                return;
            }
            checkEntries(l1Index, base, tableOffset, fileSize, used);
            base += g.sliceEntries;
        }
    }

    /**
     * Checks the entries of the slice in {@link #tableBuf}, entries {@code base} on of the table; with repair,
     * notes how each bad one is to change.
     */
    private void checkEntries(int l1Index, int base, long tableOffset, long fileSize, ClusterBitmap used) {
        LongBuffer t = tableEntries;
        for (int k = nextNonZero(0); k < g.sliceEntries; k = nextNonZero(k + 1)) {
            long e = t.get(k);
            int j = base + k;
            if (e == TableCodec.ZERO_CLUSTER) {
                continue;
            }
            allocated++;
            if (lastCluster != 0 && lastCluster + g.clusterSize != e) {
                fragmented++;
            }
            lastCluster = e;
            if (!g.isValidClusterOffset(e, fileSize)) {
                String what = String.format("L2 table 0x%x entry %d (guest 0x%x): cluster offset 0x%x is invalid (%s)",
                        tableOffset, j, g.guestOffset(l1Index, j), e, whyInvalid(e, fileSize));
                if (fix) {
                    entryFixes.add(new EntryFix(l1Index, tableOffset, tableOffset + j * 8L, 0, 0));
                }
                corruption(1, what, fix);
                continue;
            }
            if (used.mark(e >>> g.clusterBits, 1) > 0) {
                String what = String.format("L2 table 0x%x entry %d (guest 0x%x): cluster 0x%x is referenced twice",
                        tableOffset, j, g.guestOffset(l1Index, j), e);
                if (fix) {
                    entryFixes.add(new EntryFix(l1Index, tableOffset, tableOffset + j * 8L, e,
                            g.guestOffset(l1Index, j) >>> g.clusterBits));
                    what += "; this reference now has a copy of its own";
                }
                corruption(1, what, fix);
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

    /**
     * Appends a copy of the shared cluster at {@code offset} for the reference of guest cluster {@code guestCluster}
     * to the file; returns where it went. The copy holds what the scan saw ({@code saved} puts back what writes
     * overwrote since), unless those writes came through this very reference: then they are this reference's, the
     * copy keeps them, and the cluster goes into {@code restore} to get back what the scan saw.
     */
    private long copyOfCluster(long offset, long guestCluster, PreImages saved, List<Long> restore) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(g.clusterSize);
        FileIo.readFully(meta.channel, offset, buf, meta.name);
        if (saved.writerOf(offset) == guestCluster) {
            restore.add(offset);
        } else {
            saved.putBack(offset, buf);
        }
        long at = meta.allocator.allocate(g.clusterSize);
        FileIo.writeFully(meta.channel, at, buf.flip());
        return at;
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

    private void corruption(int n, String what, boolean fixed) {
        if (fixed) {
            corruptionsFixed += n;
            problem("repaired: " + what);
        } else {
            corruptions += n;
            problem(what);
        }
    }

    private void problem(String line) {
        if (problems.size() < MAX_PROBLEM_LINES) {
            problems.add(line);
        }
    }

    /**
     * Runs of unmarked clusters past the header, as {first, count}. Interior ones leave out what is already a
     * hole (a reclaimed leak). Trailing ones count whole, holes too: qemu-img counts every cluster up to the
     * file's end, and the truncation that reclaims them takes the holes with them.
     */
    private List<long[]> leakedRanges(ClusterBitmap used, long from, long to) throws IOException {
        long keptEnd = Math.max(used.highestMarked() + 1, copiesEnd >>> g.clusterBits); // where repair cuts the file
        List<long[]> out = new ArrayList<>();
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
                out.add(new long[] {start, c - start});
            } else {
                addStoredParts(out, start, c);
            }
        }
        return out;
    }

    /** Adds the parts of leaked clusters [start, end) that hold space; reclaimed holes are not leaks any more. */
    private void addStoredParts(List<long[]> out, long start, long end) throws IOException {
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
            out.add(new long[] {first, stop - first});
            c = stop;
        }
    }

    /** Truncates trailing leaks, punches interior ones; returns the clusters reclaimed. */
    private long reclaim(List<long[]> leaked, ClusterBitmap used) throws IOException {
        long reclaimed = 0;
        long trailing = 0;
        // copies made by this repair lie past the old end: leaks before them are interior now
        long usedEnd = Math.max((used.highestMarked() + 1) << g.clusterBits, copiesEnd);
        for (long[] r : leaked) {
            long start = r[0] << g.clusterBits;
            long len = r[1] << g.clusterBits;
            if (start >= usedEnd) {
                trailing += r[1]; // the truncation below takes it
                continue;
            }
            host.zeroRange(start, len);
            problems.add(String.format("repaired: %d leaked clusters at 0x%x returned to the host file system", r[1], start));
            reclaimed += r[1];
        }
        if (meta.channel.size() > usedEnd) {
            meta.channel.truncate(usedEnd);
            meta.allocator.truncatedTo(usedEnd);
            if (trailing > 0) {
                problems.add(String.format("repaired: %d leaked clusters at the end; file truncated to 0x%x", trailing, usedEnd));
            }
            reclaimed += trailing;
        }
        return reclaimed;
    }
}
