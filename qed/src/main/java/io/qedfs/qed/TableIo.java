package io.qedfs.qed;

import io.qedfs.qed.host.Buffers;
import io.qedfs.qed.host.FileIo;
import io.qedfs.qed.host.HostFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Reads and writes the image's tables in the file: entries a slice at a time, changed entries a 512-byte
 * sector at a time (as QEMU writes them), and new L2 tables, sparsely when larger than a slice. It keeps no
 * table and takes no lock: {@link ImageMetadata} decides what is written when, and holds the tables in memory.
 */
final class TableIo {
    private final String name;
    private final FileChannel channel;
    private final HostFile host;
    private final Geometry geometry;

    TableIo(String name, FileChannel channel, HostFile host, Geometry geometry) {
        this.name = name;
        this.channel = channel;
        this.host = host;
        this.geometry = geometry;
    }

    /**
     * Reads {@code count} entries at {@code offset}, in pieces of at most one slice. The buffer is on the heap: the
     * JDK reads through a direct buffer it keeps per thread, where one allocated here would stay in native memory
     * until a garbage collection, a slice (up to 1 MiB) per table loaded.
     */
    AtomicLongArray read(long offset, int count) throws IOException {
        AtomicLongArray t = new AtomicLongArray(count);
        ByteBuffer buf = ByteBuffer.allocate(Math.min(count, geometry.sliceEntries) * 8);
        for (int done = 0; done < count; ) {
            int n = Math.min(count - done, buf.capacity() / 8);
            buf.clear().limit(n * 8);
            FileIo.readFully(channel, offset + done * 8L, buf, name);
            TableCodec.decodeInto(buf.flip(), t, done, n);
            done += n;
        }
        return t;
    }

    /** The first {@code entries} entries of the L2 slice at {@code offset}; a slice in a hole of the file is not read. */
    AtomicLongArray readSlice(long offset, int entries) throws IOException {
        if (geometry.sliced() && host.nextData(offset, offset + entries * 8L) < 0) {
            return new AtomicLongArray(entries);
        }
        return read(offset, entries);
    }

    /** Writes {@code table} (the reachable L1 entries, or one slice) at {@code offset}, a slice at a time. */
    void write(long offset, AtomicLongArray table) throws IOException {
        for (int at = 0; at < table.length(); at += geometry.sliceEntries) {
            int n = Math.min(table.length() - at, geometry.sliceEntries);
            FileIo.writeFully(channel, offset + at * 8L, TableCodec.encode(table, at, at + n));
        }
    }

    /**
     * Writes a new L2 table at {@code at}, the end of the file, whose only entries are those of {@code slice}
     * (the slice from entry {@code base}). A table of one slice is written whole. A larger one is written
     * sparsely: that slice, and the file extended over the rest (its last sector written), which then reads
     * as zeroes; bytes an odd-sized file held past its last whole cluster are zeroed first.
     */
    void writeNew(long at, int base, AtomicLongArray slice) throws IOException {
        if (!geometry.sliced()) {
            write(at, slice);
            // the entries past those held in memory (past the image end): zeroes, the file may hold stale bytes there
            for (long from = at + slice.length() * 8L, end = at + geometry.tableBytes; from < end; ) {
                int n = (int) Math.min(end - from, Buffers.zerosCapacity()); // fits: at most zerosCapacity()
                FileIo.writeFully(channel, from, Buffers.zeros(n));
                from += n;
            }
            return;
        }
        long end = at + geometry.tableBytes;
        long length = channel.size();
        if (length > at) {
            host.zeroRange(at, Math.min(length, end) - at);
        }
        write(at + base * 8L, slice);
        if (channel.size() < end) {
            FileIo.writeFully(channel, end - TableCodec.SECTOR, Buffers.zeros(TableCodec.SECTOR));
        }
    }

    /**
     * Writes the 512-byte sectors of {@code table} (the L1 entries in memory, or an L2 slice) that hold entries
     * {@code [from, from+n)}, with those entries set to {@code value}, {@code value + step}, ...; the table in
     * memory is left as it is.
     */
    void writeEntries(long tableOffset, AtomicLongArray table, int from, int n, long value, long step)
            throws IOException {
        int first = from - from % TableCodec.ENTRIES_PER_SECTOR;
        int last = Math.min(table.length(),
                (from + n + TableCodec.ENTRIES_PER_SECTOR - 1) / TableCodec.ENTRIES_PER_SECTOR * TableCodec.ENTRIES_PER_SECTOR);
        ByteBuffer sectors = TableCodec.encode(table, first, last);
        for (int k = 0; k < n; k++) {
            sectors.putLong((from + k - first) * 8, value + k * step);
        }
        FileIo.writeFully(channel, tableOffset + first * 8L, sectors);
    }

    /**
     * Zeroes {@code [offset, offset+len)} of a table on disk: a hole, or zeroes where holes cannot be punched.
     */
    void zero(long offset, long len) throws IOException {
        host.zeroRange(offset, len);
    }
}
