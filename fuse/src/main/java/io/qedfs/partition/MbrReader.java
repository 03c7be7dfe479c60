package io.qedfs.partition;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * MBR primaries (numbers 1-4, by slot) and the logical partitions of an extended partition (numbers from 5, in
 * chain order). Each extended boot record (EBR) holds a logical partition, relative to the EBR itself, and a
 * link to the next EBR, relative to the start of the extended partition. The extended partition itself is not
 * a partition to serve: it is a container.
 */
final class MbrReader {
    private static final int ENTRIES_AT = 446;
    private static final int ENTRY_SIZE = 16;
    private static final int PROTECTIVE = 0xEE;
    private static final int MAX_LOGICALS = 256; // a chain longer than this is a loop or garbage

    /** One 16-byte entry: boot flag, type, first sector and sector count (the CHS fields are obsolete). */
    record Entry(int bootFlag, int type, long firstLba, long sectors) {
        static Entry at(ByteBuffer sector, int slot) {
            int at = ENTRIES_AT + slot * ENTRY_SIZE;
            return new Entry(sector.get(at) & 0xff, sector.get(at + 4) & 0xff,
                    Integer.toUnsignedLong(sector.getInt(at + 8)), Integer.toUnsignedLong(sector.getInt(at + 12)));
        }

        boolean isEmpty() {
            return type == 0 || sectors == 0;
        }

        boolean isExtended() {
            return type == 0x05 || type == 0x0F || type == 0x85;
        }

        boolean isProtective() {
            return type == PROTECTIVE;
        }

        boolean hasValidBootFlag() {
            return bootFlag == 0x00 || bootFlag == 0x80;
        }

        String typeName() {
            return String.format("0x%02x", type);
        }
    }

    private final Disk disk;
    private final Findings findings;

    MbrReader(Disk disk, Findings findings) {
        this.disk = disk;
        this.findings = findings;
    }

    static boolean hasBootSignature(ByteBuffer sector) {
        return (sector.get(510) & 0xff) == 0x55 && (sector.get(511) & 0xff) == 0xAA;
    }

    static List<Entry> entries(ByteBuffer sector) {
        List<Entry> entries = new ArrayList<>(4);
        for (int slot = 0; slot < 4; slot++) {
            entries.add(Entry.at(sector, slot));
        }
        return entries;
    }

    void read(List<Entry> primaries) throws IOException {
        Entry extended = null;
        for (int slot = 0; slot < 4; slot++) {
            Entry e = primaries.get(slot);
            if (e.isEmpty()) {
                continue;
            }
            if (!e.isExtended()) {
                findings.offer(slot + 1, e.firstLba(), e.sectors(), e.typeName());
            } else if (extended != null) {
                findings.warn("extended partition " + (slot + 1) + " skipped: a disk has one extended partition at most");
            } else if (!disk.holds(e.firstLba(), e.sectors())) {
                findings.warn("extended partition " + (slot + 1) + " skipped with its logical partitions: it ends past"
                        + " the end of the disk (" + disk.sectors() + " sectors)");
            } else {
                extended = e;
            }
        }
        if (extended != null) {
            readLogicals(extended);
        }
    }

    /** Follows the EBR chain; stops (with a warning) at a link that leaves the extended partition or loops. */
    private void readLogicals(Entry extended) throws IOException {
        long base = extended.firstLba();
        long limit = base + extended.sectors();
        Set<Long> visited = new HashSet<>();
        int number = 5;
        long ebr = base;
        while (number < 5 + MAX_LOGICALS) {
            if (ebr < base || ebr >= limit || !visited.add(ebr)) {
                findings.warn("the chain of logical partitions stops at a link to sector " + ebr
                        + (ebr >= base && ebr < limit ? ", visited before (a loop)" : ", outside the extended partition"));
                return;
            }
            ByteBuffer sector = disk.read(ebr, 1);
            if (!hasBootSignature(sector)) {
                findings.warn("the chain of logical partitions stops at sector " + ebr + ": no boot signature there");
                return;
            }
            Entry next = null;
            for (Entry e : entries(sector)) {
                if (e.isEmpty()) {
                    continue;
                }
                if (e.isExtended()) {
                    next = next == null ? e : next;
                    continue;
                }
                long first = ebr + e.firstLba();
                if (first + e.sectors() > limit) {
                    findings.warn("logical partition " + number + " skipped: it ends past the end of the extended partition");
                } else {
                    findings.offer(number, first, e.sectors(), e.typeName());
                }
                number++;
            }
            if (next == null) {
                return;
            }
            ebr = base + next.firstLba();
        }
        findings.warn("more than " + MAX_LOGICALS + " logical partitions: the rest are skipped");
    }
}
