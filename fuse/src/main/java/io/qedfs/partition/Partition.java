package io.qedfs.partition;

/**
 * One partition: its Linux number (MBR primaries 1-4, logicals from 5; GPT entry index + 1), where it lies on
 * the disk in bytes, and its type ({@code 0x83} for MBR, the type GUID for GPT).
 */
public record Partition(int number, long start, long length, String type) {
    public long end() {
        return start + length;
    }

    boolean overlaps(Partition other) {
        return start < other.end() && other.start < end();
    }

    @Override
    public String toString() {
        return "partition " + number + " (type " + type + ", bytes " + start + "-" + (end() - 1) + ")";
    }
}
