package io.qedfs.qed;

import io.qedfs.qed.host.FileIo;
import io.qedfs.qed.host.HostFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The repair half of a consistency check: makes what the scan found true on disk, in an order a crash cannot
 * turn into lost data, as a short list of steps: the L2 entries (copies of shared clusters, a sync, the entries),
 * the L1 table, the clusters restored after a sync, the leaks, then the image marked clean (or only synced, when
 * something is left). Without a repair mode it only reports. Runs to its end once started.
 */
final class CheckRepair {
    private final ImageMetadata meta;
    private final HostFile host;
    private final Geometry g;
    private final CheckFindings found;
    private final boolean fix;

    CheckRepair(ImageMetadata meta, HostFile host, CheckFindings found, boolean fix) {
        this.meta = meta;
        this.host = host;
        this.g = meta.geometry;
        this.found = found;
        this.fix = fix;
    }

    /**
     * Repairs (in a repair mode) and returns the report. {@code saved}: what writes into referenced clusters
     * overwrote since the scan began, so that each copy holds what the scan saw. Caller holds the allocation
     * lock, and nothing reads or writes the image meanwhile.
     */
    CheckReport run(PreImages saved) throws IOException {
        assert meta.allocator.isHeldByCurrentThread();
        if (fix) {
            List<Long> restore = repairL2Entries(saved);
            repairL1();
            restoreClusters(restore, saved);
        }
        long leaksFixed = settleLeaks();
        if (fix) {
            markCleanOrSync();
        }
        return report(leaksFixed);
    }

    /**
     * Table by table, in the order the scan met them: the copies of shared clusters, a sync, then the changed
     * entries (a table must never point at a copy that is not written yet). A table whose repair cannot be
     * written is a check error, and the others go on. Returns the shared clusters to restore from {@code saved}:
     * those that a write through a later reference changed during the scan, whose new bytes went to that
     * reference's copy.
     */
    private List<Long> repairL2Entries(PreImages saved) {
        List<CheckFindings.EntryFix> entryFixes = found.entryFixes;
        List<Long> restore = new ArrayList<>();
        for (int from = 0; from < entryFixes.size(); ) {
            long table = entryFixes.get(from).table();
            int to = from;
            while (to < entryFixes.size() && entryFixes.get(to).table() == table) {
                to++;
            }
            List<CheckFindings.EntryFix> fixes = entryFixes.subList(from, to);
            try {
                long[] values = new long[fixes.size()];
                List<Long> restoreHere = new ArrayList<>();
                boolean copied = false;
                for (int k = 0; k < values.length; k++) {
                    CheckFindings.EntryFix f = fixes.get(k);
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
                found.checkError(new CheckProblem.UnwritableL2Repair(table, e.getMessage()));
            }
            from = to;
        }
        return restore;
    }

    /** Writes each fix's new value into its table, a 512-byte sector at a time (read, patched, written). */
    private void writeEntries(List<CheckFindings.EntryFix> fixes, long[] values) throws IOException {
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

    /** Clears the bad L1 entries: the reachable ones in memory and in the file, the unreachable ones in the file. */
    private void repairL1() throws IOException {
        if (!found.l1Clears.isEmpty()) {
            for (int i : found.l1Clears) {
                meta.l1.set(i, 0);
            }
            meta.tables.write(meta.header().l1TableOffset(), meta.l1);
        }
        for (long at : found.unreachableL1Clears) {
            try {
                FileIo.writeFully(meta.channel, at, ByteBuffer.allocate(8));
            } catch (IOException e) {
                found.checkError(new CheckProblem.UnwritableL1Repair(at, e.getMessage()));
            }
        }
    }

    /** Puts back what the scan saw into shared clusters written through a later reference, once the entries are durable. */
    private void restoreClusters(List<Long> restore, PreImages saved) throws IOException {
        if (!restore.isEmpty()) {
            meta.sync(); // the entries that point at their copies first: a crash now keeps what they hold
            for (long cluster : restore) {
                saved.restore(cluster, meta.channel);
            }
        }
    }

    /**
     * Leaks count only when every table was read and every repair written. A repair reclaims them; without one
     * they are reported. Returns the clusters reclaimed.
     */
    private long settleLeaks() throws IOException {
        if (found.checkErrors > 0) {
            found.leaks = 0;
            return 0;
        }
        if (found.leaks == 0) {
            return 0;
        }
        if (!fix) {
            found.problem(new CheckProblem.Leaks(found.leaks, found.leaks << g.clusterBits, found.leaked.size()));
            return 0;
        }
        long reclaimed = reclaim();
        found.leaks -= reclaimed;
        return reclaimed;
    }

    /** Truncates trailing leaks, punches interior ones; returns the clusters reclaimed. */
    private long reclaim() throws IOException {
        long reclaimed = 0;
        long trailing = 0;
        // copies made by this repair lie past the old end: leaks before them are interior now
        long usedEnd = Math.max((found.used.highestMarked() + 1) << g.clusterBits, found.copiesEnd);
        for (ClusterRange r : found.leaked) {
            long start = r.first() << g.clusterBits;
            if (start >= usedEnd) {
                trailing += r.count(); // the truncation below takes it
                continue;
            }
            host.zeroRange(start, r.count() << g.clusterBits);
            found.problem(new CheckProblem.LeaksPunched(r.count(), start));
            reclaimed += r.count();
        }
        if (meta.channel.size() > usedEnd) {
            meta.channel.truncate(usedEnd);
            meta.allocator.truncatedTo(usedEnd);
            if (trailing > 0) {
                found.problem(new CheckProblem.LeaksTruncated(trailing, usedEnd));
            }
            reclaimed += trailing;
        }
        return reclaimed;
    }

    /** NEED_CHECK is cleared only when nothing is left to repair; the tables changed under the cache's feet. */
    private void markCleanOrSync() throws IOException {
        if (found.corruptions == 0 && found.checkErrors == 0) {
            meta.markClean();
        } else {
            meta.sync();
        }
        meta.l2Cache.clear();
    }

    private CheckReport report(long leaksFixed) {
        long imageEnd = Math.max((found.used.highestMarked() + 1) << g.clusterBits, found.copiesEnd);
        long size = meta.header().imageSize();
        long total = (size >>> g.clusterBits) + ((size & (g.clusterSize - 1)) != 0 ? 1 : 0);
        return new CheckReport(total, found.allocated, found.fragmented, found.corruptions, found.corruptionsFixed,
                found.leaks, leaksFixed, found.checkErrors, imageEnd, found.problems());
    }
}
