package io.qedfs.partition;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * A GPT: the primary header at sector 1, or the backup at the last sector when the primary (or its entry array)
 * fails a check. Entries are numbered by index + 1, as Linux does; empty entries (type GUID zero) are skipped.
 *
 * <pre>
 * header  0 "EFI PART" | 8 revision | 12 header size | 16 header CRC32 | 24 my LBA | 32 alternate LBA
 *        40 first usable LBA | 48 last usable LBA | 56 disk GUID | 72 entries LBA | 80 entry count
 *        84 entry size | 88 entries CRC32
 * entry   0 type GUID | 16 unique GUID | 32 first LBA | 40 last LBA (inclusive) | 48 attributes | 56 name
 * </pre>
 */
final class GptReader {
    private static final byte[] SIGNATURE = "EFI PART".getBytes(StandardCharsets.US_ASCII);
    private static final int MIN_HEADER_SIZE = 92;
    private static final int MIN_ENTRY_SIZE = 128;
    private static final long MAX_ENTRY_BYTES = 4 << 20; // the usual array is 16 KiB; more is garbage

    /** A header that passed every check, with its entry array (checked against its CRC too). */
    private record Header(long firstUsable, long lastUsable, int entryCount, int entrySize, ByteBuffer entries) {
    }

    /** Why a header was rejected. */
    private static final class BadHeader extends Exception {
        BadHeader(String message) {
            super(message, null, false, false);
        }
    }

    private final Disk disk;
    private final Findings findings;

    GptReader(Disk disk, Findings findings) {
        this.disk = disk;
        this.findings = findings;
    }

    void read() throws IOException {
        long backupLba = disk.sectors() - 1;
        Header header;
        try {
            header = header(1);
        } catch (BadHeader primary) {
            try {
                header = header(backupLba);
                findings.warn("primary GPT header at sector 1 is bad (" + primary.getMessage()
                        + "); using the backup at sector " + backupLba);
            } catch (BadHeader backup) {
                findings.warn("no usable GPT: primary header at sector 1: " + primary.getMessage()
                        + "; backup header at sector " + backupLba + ": " + backup.getMessage());
                return;
            }
        }
        readEntries(header);
    }

    private void readEntries(Header h) {
        for (int i = 0; i < h.entryCount(); i++) {
            ByteBuffer e = h.entries().slice(i * h.entrySize(), h.entrySize()).order(h.entries().order());
            if (e.getLong(0) == 0 && e.getLong(8) == 0) {
                continue; // type GUID zero: an unused entry
            }
            long first = e.getLong(32);
            long last = e.getLong(40);
            String type = guid(e, 0);
            if (Long.compareUnsigned(first, h.firstUsable()) < 0 || Long.compareUnsigned(last, h.lastUsable()) > 0
                    || Long.compareUnsigned(first, last) > 0) {
                findings.warn("partition " + (i + 1) + " (type " + type + ", sectors " + Long.toUnsignedString(first) + "-"
                        + Long.toUnsignedString(last) + ") skipped: outside the usable sectors " + h.firstUsable() + "-"
                        + h.lastUsable() + " or ending before it starts");
                continue;
            }
            findings.offer(i + 1, first, last - first + 1, type);
        }
    }

    private Header header(long lba) throws IOException, BadHeader {
        ByteBuffer b = disk.read(lba, 1);
        if (!b.slice(0, SIGNATURE.length).equals(ByteBuffer.wrap(SIGNATURE))) {
            throw new BadHeader("no \"EFI PART\" signature");
        }
        int size = b.getInt(12);
        if (size < MIN_HEADER_SIZE || size > Disk.SECTOR) {
            throw new BadHeader("header size " + Integer.toUnsignedString(size) + " is not in " + MIN_HEADER_SIZE + "-" + Disk.SECTOR);
        }
        int stored = b.getInt(16);
        b.putInt(16, 0);
        if (crc(b.slice(0, size)) != stored) {
            throw new BadHeader("header CRC32 mismatch");
        }
        if (b.getLong(24) != lba) {
            throw new BadHeader("it says it lies at sector " + Long.toUnsignedString(b.getLong(24)));
        }
        long firstUsable = b.getLong(40);
        long lastUsable = b.getLong(48);
        if (!disk.holds(firstUsable, 1) || !disk.holds(lastUsable, 1) || firstUsable > lastUsable) {
            throw new BadHeader("usable sectors " + Long.toUnsignedString(firstUsable) + "-" + Long.toUnsignedString(lastUsable)
                    + " do not fit the disk (" + disk.sectors() + " sectors)");
        }
        return new Header(firstUsable, lastUsable, b.getInt(80), b.getInt(84), entries(b));
    }

    private ByteBuffer entries(ByteBuffer header) throws IOException, BadHeader {
        long lba = header.getLong(72);
        long count = Integer.toUnsignedLong(header.getInt(80));
        long size = Integer.toUnsignedLong(header.getInt(84));
        if (size < MIN_ENTRY_SIZE || size % 8 != 0 || count * size > MAX_ENTRY_BYTES) {
            throw new BadHeader(count + " entries of " + size + " bytes: not an entry array (entries of at least "
                    + MIN_ENTRY_SIZE + " bytes, " + MAX_ENTRY_BYTES + " bytes in all at most)");
        }
        int sectors = (int) ((count * size + Disk.SECTOR - 1) / Disk.SECTOR); // fits: at most MAX_ENTRY_BYTES / 512
        if (!disk.holds(lba, sectors)) {
            throw new BadHeader("the entry array at sector " + Long.toUnsignedString(lba) + " lies past the end of the disk");
        }
        ByteBuffer entries = disk.read(lba, sectors);
        if (crc(entries.slice(0, (int) (count * size))) != header.getInt(88)) { // fits: at most MAX_ENTRY_BYTES
            throw new BadHeader("entry array CRC32 mismatch");
        }
        return entries;
    }

    private static int crc(ByteBuffer bytes) {
        CRC32 crc = new CRC32();
        crc.update(bytes);
        return (int) crc.getValue();
    }

    /** A GUID as text: the first three fields are stored little-endian, the last two as bytes. */
    private static String guid(ByteBuffer b, int at) {
        StringBuilder s = new StringBuilder(String.format("%08x-%04x-%04x-", b.getInt(at), b.getShort(at + 4), b.getShort(at + 6)));
        for (int i = 8; i < 16; i++) {
            s.append(String.format("%02x", b.get(at + i))).append(i == 9 ? "-" : "");
        }
        return s.toString();
    }
}
