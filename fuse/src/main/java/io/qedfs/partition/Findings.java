package io.qedfs.partition;

import java.util.ArrayList;
import java.util.List;

/**
 * Collects the partitions a table describes, keeping only those that lie on the disk and overlap none kept
 * before them; everything skipped becomes a warning, so a bad entry never hides the good ones.
 */
final class Findings {
    private final Disk disk;
    private final List<Partition> partitions = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();

    Findings(Disk disk) {
        this.disk = disk;
    }

    void warn(String warning) {
        warnings.add(warning);
    }

    /** Keeps the partition unless it is out of range or overlaps one kept earlier (then a warning says why). */
    void offer(int number, long firstLba, long sectors, String type) {
        String what = "partition " + number + " (type " + type + ", sectors " + Long.toUnsignedString(firstLba)
                + "+" + Long.toUnsignedString(sectors) + ")";
        if (sectors <= 0 || firstLba <= 0) {
            warn(what + " skipped: " + (sectors <= 0 ? "empty or negative length" : "starts at sector 0, over the table"));
            return;
        }
        if (!disk.holds(firstLba, sectors)) {
            warn(what + " skipped: it ends past the end of the disk (" + disk.sectors() + " sectors)");
            return;
        }
        Partition p = new Partition(number, firstLba * Disk.SECTOR, sectors * Disk.SECTOR, type);
        for (Partition kept : partitions) {
            if (kept.overlaps(p)) {
                warn(what + " skipped: it overlaps partition " + kept.number());
                return;
            }
        }
        partitions.add(p);
    }

    PartitionTable finish(PartitionTable.Scheme scheme) {
        return new PartitionTable(scheme, partitions, warnings);
    }
}
