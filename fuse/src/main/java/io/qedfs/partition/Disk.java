package io.qedfs.partition;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** A disk seen as 512-byte sectors (the unit of both MBR and GPT addresses, whatever the guest's block size). */
final class Disk {
    static final int SECTOR = 512;

    private final DiskReader reader;
    private final long sectors; // whole sectors only: a tail shorter than 512 bytes holds no partition

    Disk(DiskReader reader, long size) {
        this.reader = reader;
        this.sectors = size / SECTOR;
    }

    long sectors() {
        return sectors;
    }

    /** True when {@code count} sectors from {@code lba} all lie on the disk (false for negative inputs too). */
    boolean holds(long lba, long count) {
        return lba >= 0 && count >= 0 && lba <= sectors && count <= sectors - lba;
    }

    /** {@code count} sectors from {@code lba}, little-endian; the caller has checked {@link #holds}. */
    ByteBuffer read(long lba, int count) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(count * SECTOR).order(ByteOrder.LITTLE_ENDIAN); // fits: count is small
        reader.read(lba * SECTOR, b);
        return b.flip();
    }
}
