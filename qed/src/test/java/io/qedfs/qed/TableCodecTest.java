package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The table codec on bytes: entries are little-endian u64 whatever the buffer's order says, every 64-bit value
 * survives a round trip (an entry read from a hostile image is any value), decoding reads exactly the entries
 * asked for and moves nothing, and a table QEMU wrote decodes to the offsets QEMU reports.
 */
class TableCodecTest {
    /** Values a table on disk may hold: empty, the zero cluster, offsets, and what only a hostile image holds. */
    private static final long[] HOSTILE = {0, TableCodec.ZERO_CLUSTER, 0x10000, 0x0102030405060708L, -1,
        Long.MIN_VALUE, Long.MAX_VALUE, 0x8000000000010000L, 0xfffffffffffffe00L, 511, 0x7ffffffffffffe00L};

    @TempDir
    Path dir;

    @Test
    void anEntryIsEightLittleEndianBytes() {
        String onDisk = "0807060504030201" + "feffffffffffffff";
        assertEquals(onDisk, hex(TableCodec.encode(new AtomicLongArray(new long[] {0x0102030405060708L, -2}), 0, 2)));
        AtomicLongArray t = new AtomicLongArray(2);
        TableCodec.decodeInto(ByteBuffer.wrap(HexFormat.of().parseHex(onDisk)), t, 0, 2);
        assertEquals(0x0102030405060708L, t.get(0));
        assertEquals(-2, t.get(1));
    }

    @Test
    void everyValueSurvivesARoundTrip() {
        long[] values = new long[HOSTILE.length + 1000];
        System.arraycopy(HOSTILE, 0, values, 0, HOSTILE.length);
        Random random = new Random(19);
        for (int i = HOSTILE.length; i < values.length; i++) {
            values[i] = random.nextLong();
        }
        AtomicLongArray table = new AtomicLongArray(values);
        ByteBuffer encoded = TableCodec.encode(table, 0, values.length);
        AtomicLongArray back = new AtomicLongArray(values.length);
        TableCodec.decodeInto(encoded, back, 0, values.length);
        for (int i = 0; i < values.length; i++) {
            assertEquals(values[i], back.get(i), "entry " + i);
        }
    }

    @Test
    void encodeWritesOnlyTheRangeAskedForReadyToBeWritten() {
        AtomicLongArray t = new AtomicLongArray(HOSTILE);
        ByteBuffer b = TableCodec.encode(t, 3, 7);
        assertEquals(0, b.position());
        assertEquals(4 * 8, b.limit());
        assertEquals(ByteOrder.LITTLE_ENDIAN, b.order());
        for (int i = 3; i < 7; i++) {
            assertEquals(HOSTILE[i], b.getLong((i - 3) * 8), "entry " + i);
        }
        assertEquals(0, TableCodec.encode(t, 5, 5).remaining(), "an empty range encodes to nothing");
    }

    @Test
    void encodeOfOneSectorIsOneSector() {
        AtomicLongArray t = new AtomicLongArray(3 * TableCodec.ENTRIES_PER_SECTOR);
        int from = TableCodec.ENTRIES_PER_SECTOR;
        assertEquals(TableCodec.SECTOR, TableCodec.encode(t, from, from + TableCodec.ENTRIES_PER_SECTOR).remaining());
    }

    @Test
    void decodeReadsLittleEndianFromThePositionWhateverTheBufferSays() {
        ByteBuffer b = ByteBuffer.allocate(5 + 3 * 8).order(ByteOrder.BIG_ENDIAN);
        b.position(5);
        ByteBuffer le = b.slice().order(ByteOrder.LITTLE_ENDIAN);
        le.putLong(HOSTILE[3]).putLong(HOSTILE[4]).putLong(HOSTILE[5]);
        AtomicLongArray t = new AtomicLongArray(new long[] {42, 42, 42, 42, 42});
        TableCodec.decodeInto(b, t, 1, 3);
        assertEquals(42, t.get(0), "entries before the range are left alone");
        assertEquals(HOSTILE[3], t.get(1));
        assertEquals(HOSTILE[4], t.get(2));
        assertEquals(HOSTILE[5], t.get(3));
        assertEquals(42, t.get(4), "entries after the range are left alone");
        assertEquals(5, b.position(), "the caller's buffer keeps its position");
        assertEquals(ByteOrder.BIG_ENDIAN, b.order(), "and its order");
    }

    @Test
    void decodeOfATruncatedTableFailsInsteadOfReadingPastIt() {
        ByteBuffer shortTable = ByteBuffer.allocate(3 * 8 + 7); // three entries and a torn fourth
        AtomicLongArray t = new AtomicLongArray(4);
        assertThrows(IndexOutOfBoundsException.class, () -> TableCodec.decodeInto(shortTable, t, 0, 4));
        ByteBuffer limited = ByteBuffer.allocate(64).limit(16);
        assertThrows(IndexOutOfBoundsException.class, () -> TableCodec.decodeInto(limited, t, 0, 3),
                "the limit bounds what is read, not the capacity");
    }

    @Test
    void decodeIntoATableTooSmallFails() {
        ByteBuffer b = ByteBuffer.allocate(4 * 8);
        assertThrows(IndexOutOfBoundsException.class, () -> TableCodec.decodeInto(b, new AtomicLongArray(3), 0, 4));
        assertThrows(IndexOutOfBoundsException.class, () -> TableCodec.decodeInto(b, new AtomicLongArray(4), 1, 4));
    }

    /** QEMU's tables, decoded: the L1 entry points at an L2 table whose entries are where qemu-img map puts the data. */
    @Test
    void tablesQemuWroteDecodeToTheOffsetsQemuReports() throws Exception {
        Qemu.assumeAvailable();
        Path img = dir.resolve("q.qed");
        Qemu.ok("qemu-img", "create", "-q", "-f", "qed", "-o", "cluster_size=4096,table_size=2", img.toString(), "8M");
        Qemu.io(img, "write -P 0x11 0 4k", "write -P 0x22 12k 8k", "write -z 32k 4k");
        int entries = 2 * 4096 / 8;
        AtomicLongArray l1 = new AtomicLongArray(entries);
        AtomicLongArray l2 = new AtomicLongArray(entries);
        try (FileChannel ch = FileChannel.open(img)) {
            QedHeader header = QedHeader.decode(read(ch, 0, QedHeader.SIZE));
            TableCodec.decodeInto(read(ch, header.l1TableOffset(), entries * 8), l1, 0, entries);
            assertTrue(l1.get(0) != 0 && l1.get(0) % 4096 == 0, "L1[0] points at an L2 table: " + l1.get(0));
            TableCodec.decodeInto(read(ch, l1.get(0), entries * 8), l2, 0, entries);
        }
        String map = Qemu.ok("qemu-img", "map", "-f", "qed", "--output=json", img.toString());
        for (int cluster : new int[] {0, 3, 4}) {
            assertEquals(fileOffset(map, cluster * 4096L), l2.get(cluster), "L2 entry of guest cluster " + cluster + ": " + map);
        }
        assertEquals(TableCodec.ZERO_CLUSTER, l2.get(8), "qemu-io's zero write is a zero cluster");
        assertEquals(0, l2.get(1), "an unwritten cluster has no entry");
        for (int i = 1; i < entries; i++) {
            assertEquals(0, l1.get(i), "L1 entry " + i + " of an image whose data lies in the first L2 table's range");
        }
    }

    /** Where qemu-img map's JSON says the data of guest offset {@code pos} lies in the file. */
    private static long fileOffset(String map, long pos) {
        Matcher m = Pattern.compile("\\{ ?\"start\": (\\d+), \"length\": (\\d+),[^}]*\"data\": true, \"offset\": (\\d+)")
                .matcher(map);
        while (m.find()) {
            long start = Long.parseLong(m.group(1));
            if (pos >= start && pos < start + Long.parseLong(m.group(2))) {
                return Long.parseLong(m.group(3)) + pos - start;
            }
        }
        throw new AssertionError("no data extent at " + pos + " in " + map);
    }

    private static ByteBuffer read(FileChannel ch, long at, int len) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(len);
        while (b.hasRemaining()) {
            if (ch.read(b, at + b.position()) < 0) {
                throw new AssertionError("the table at " + at + " ends past the file");
            }
        }
        return b.flip();
    }

    private static String hex(ByteBuffer b) {
        byte[] bytes = new byte[b.remaining()];
        b.duplicate().get(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
