package io.qedfs.partition;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The partitions of a guest disk, as Linux would number them, with a warning for every entry that was skipped
 * (out of range, overlapping, malformed). Reading never fails on a bad table: it finds what it can.
 *
 * <pre>
 * sector 0     MBR: boot code | 4 entries of 16 bytes at 446 | 0x55 0xAA at 510
 *              an entry of type 0xEE (protective) means the disk is GPT:
 * sector 1     GPT header "EFI PART" (CRC32) -> entry array (usually sectors 2-33, CRC32)
 * last sector  backup GPT header -> backup entry array just before it
 * </pre>
 */
public record PartitionTable(Scheme scheme, List<Partition> partitions, List<String> warnings) {
    /** What was found in sector 0. */
    public enum Scheme {
        /** No partition table: no boot signature, or one whose entries are not a partition table. */
        NONE,
        MBR,
        GPT
    }

    public PartitionTable {
        partitions = List.copyOf(partitions);
        warnings = List.copyOf(warnings);
    }

    /** Reads the table of the disk of {@code size} bytes that {@code reader} reads. */
    public static PartitionTable read(DiskReader reader, long size) throws IOException {
        Disk disk = new Disk(reader, size);
        Findings findings = new Findings(disk);
        if (disk.sectors() < 2) {
            findings.warn("the disk is smaller than two sectors");
            return findings.finish(Scheme.NONE);
        }
        ByteBuffer sector0 = disk.read(0, 1);
        if (!MbrReader.hasBootSignature(sector0)) {
            findings.warn("sector 0 has no boot signature (0x55 0xAA)");
            return findings.finish(Scheme.NONE);
        }
        List<MbrReader.Entry> entries = MbrReader.entries(sector0);
        if (!entries.stream().allMatch(MbrReader.Entry::hasValidBootFlag)) {
            findings.warn("sector 0 has a boot signature but its entries are not a partition table (boot flags other"
                    + " than 0x00/0x80): a file system boot sector, perhaps");
            return findings.finish(Scheme.NONE);
        }
        if (entries.stream().anyMatch(MbrReader.Entry::isProtective)) {
            new GptReader(disk, findings).read();
            return findings.finish(Scheme.GPT);
        }
        new MbrReader(disk, findings).read(entries);
        return findings.finish(Scheme.MBR);
    }
}
