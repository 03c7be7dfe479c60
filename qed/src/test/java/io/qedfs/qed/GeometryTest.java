package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Geometry against arithmetic done without overflow (BigInteger), for every geometry a header may declare:
 * cluster sizes 4 KiB to 64 MiB, table sizes 1 to 16. Every field, the index round trip at the boundaries of
 * clusters, tables and the whole image, and the offset rules an entry from a hostile image must pass (any u64,
 * negative as a long, unaligned, in the header, past the end, a table running past 2^63).
 */
class GeometryTest {
    private static final BigInteger TWO_63 = BigInteger.ONE.shiftLeft(63);

    /** Every valid (cluster_size, table_size). */
    static List<Arguments> everyGeometry() {
        List<Arguments> all = new ArrayList<>();
        for (long cluster = Geometry.MIN_CLUSTER_SIZE; cluster <= Geometry.MAX_CLUSTER_SIZE; cluster <<= 1) {
            for (long table = Geometry.MIN_TABLE_SIZE; table <= Geometry.MAX_TABLE_SIZE; table <<= 1) {
                all.add(Arguments.of(cluster, table));
            }
        }
        return all;
    }

    /** The geometry, with a header area of 3 clusters where they are small, else of 1. */
    private static Geometry geometry(long cluster, long table) {
        return new Geometry(cluster, table, headerClusters(cluster));
    }

    private static long headerClusters(long cluster) {
        return cluster == Geometry.MIN_CLUSTER_SIZE ? 3 : 1;
    }

    @ParameterizedTest(name = "cluster_size {0}, table_size {1}")
    @MethodSource("everyGeometry")
    void everyFieldMatchesTheFormula(long clusterSize, long tableSize) {
        Geometry g = geometry(clusterSize, tableSize);
        BigInteger cluster = BigInteger.valueOf(g.clusterSize);
        BigInteger entries = cluster.multiply(BigInteger.valueOf(g.tableSize)).shiftRight(3);
        assertEquals(g.clusterSize, 1L << g.clusterBits, "clusterBits");
        assertEquals(entries.longValueExact(), g.entriesPerTable, "entriesPerTable");
        assertEquals(g.entriesPerTable, 1 << g.entryBits, "entryBits");
        assertEquals(clusterSize, g.clusterSize, "clusterSize");
        assertEquals(tableSize, g.tableSize, "tableSize");
        assertEquals(headerClusters(clusterSize) * clusterSize, g.headerBytes, "headerBytes");
        assertEquals((long) g.clusterSize * g.tableSize, g.tableBytes, "tableBytes fits in an int");
        assertEquals(g.clusterBits + g.entryBits, g.l1Shift, "l1Shift");
        assertEquals(Math.min(g.tableBytes, Geometry.MAX_SLICE_BYTES), g.sliceBytes, "sliceBytes");
        assertEquals(g.sliceBytes / 8, g.sliceEntries, "sliceEntries");
        assertEquals(0, g.entriesPerTable % g.sliceEntries, "slices divide the table");
        assertEquals(g.tableBytes > Geometry.MAX_SLICE_BYTES, g.sliced(), "sliced");
        long reachable = BigInteger.ONE.shiftLeft(63 - g.l1Shift).min(entries).longValueExact();
        assertEquals(reachable, g.l1Entries, "l1Entries: the L1 entries an offset below 2^63 reaches");

        BigInteger max = entries.multiply(entries).multiply(cluster);
        long expectedMax = max.compareTo(TWO_63) >= 0 ? Long.MAX_VALUE & ~511L : max.longValueExact();
        assertEquals(expectedMax, g.maxImageSize(), "maxImageSize");
        assertEquals(expectedMax, Geometry.maxImageSize(g.clusterSize, g.tableSize), "the static form agrees");
        assertEquals(0, g.maxImageSize() % 512, "a valid image size");
    }

    @Test
    void geometryOfAHeaderIsItsFields() {
        QedHeader h = new QedHeader(1 << 16, 4, 2, 0, 0, 0, 1 << 17, 1L << 30, 0, 0);
        Geometry g = Geometry.of(h);
        assertEquals(65536, g.clusterSize);
        assertEquals(4, g.tableSize);
        assertEquals(2L * 65536, g.headerBytes);
        assertEquals(32768, g.entriesPerTable);
        assertEquals(16 + 15, g.l1Shift);
        assertEquals(64L << 40, g.maxImageSize());
    }

    @Test
    void theLargestTablesStayWithinAnInt() {
        Geometry g = new Geometry(Geometry.MAX_CLUSTER_SIZE, Geometry.MAX_TABLE_SIZE, 1);
        assertEquals(1 << 30, g.tableBytes);
        assertEquals(1 << 27, g.entriesPerTable);
        assertEquals(53, g.l1Shift);
        assertEquals(1024, g.l1Entries, "images below 2^63 reach 1024 of 2^27 L1 entries");
        assertEquals(Long.MAX_VALUE & ~511L, g.maxImageSize());
    }

    @ParameterizedTest(name = "cluster_size {0}, table_size {1}")
    @MethodSource("everyGeometry")
    void indexesRoundTripAtEveryBoundary(long clusterSize, long tableSize) {
        Geometry g = geometry(clusterSize, tableSize);
        long span = 1L << g.l1Shift;
        long max = g.maxImageSize();
        List<Long> positions = new ArrayList<>(List.of(0L, 1L, (long) g.clusterSize - 1, (long) g.clusterSize,
                span - 1, max - 1, max - g.clusterSize, max - 512));
        if (span < max) {
            positions.addAll(List.of(span, span + 1, 2 * span - 1, max - span, max - span - 1));
        }
        Random random = new Random(g.clusterBits * 31L + g.tableSize);
        for (int i = 0; i < 200; i++) {
            positions.add(Math.floorMod(random.nextLong(), max));
        }
        for (long pos : positions) {
            assertTrue(pos >= 0 && pos < max, "test position " + pos);
            int l1 = g.l1Index(pos);
            int l2 = g.l2Index(pos);
            long inCluster = g.offsetInCluster(pos);
            assertTrue(l1 >= 0 && l1 < g.l1Entries, "l1Index " + l1 + " of " + pos);
            assertTrue(l2 >= 0 && l2 < g.entriesPerTable, "l2Index " + l2 + " of " + pos);
            assertTrue(inCluster >= 0 && inCluster < g.clusterSize, "offsetInCluster of " + pos);
            assertEquals(pos, g.guestOffset(l1, l2) + inCluster, "guestOffset(l1Index, l2Index) + offset, " + pos);
            assertEquals(pos - inCluster, g.clusterStart(pos), "clusterStart of " + pos);
            assertEquals(inCluster == 0 ? 0 : g.clusterSize - inCluster, g.padToCluster(pos), "padToCluster " + pos);
            long toBoundary = g.bytesToL2Boundary(pos);
            assertTrue(toBoundary >= 1 && toBoundary <= span, "bytesToL2Boundary of " + pos);
            BigInteger next = BigInteger.valueOf(pos).add(BigInteger.valueOf(toBoundary));
            assertEquals(BigInteger.ZERO, next.mod(BigInteger.valueOf(span)), "the next L2 range starts there, " + pos);
            if (next.compareTo(TWO_63) < 0) {
                assertEquals(l1 + 1, g.l1Index(next.longValueExact()), "and belongs to the next L1 entry, " + pos);
            }
        }
    }

    @Test
    void theLastClusterOfTheLargestImageEndsAt2To63WithoutOverflow() {
        Geometry g = new Geometry(2 << 20, 16, 1); // 2 MiB clusters: the last cluster starts at 2^63 - 2 MiB
        long last = g.maxImageSize() - 1;
        assertEquals(0x7ffffffffffffe00L, g.maxImageSize());
        long start = g.clusterStart(last);
        assertEquals((1L << 63) - (2 << 20), start);
        assertEquals(512, g.clusterSize - 1 - g.offsetInCluster(last), "the image ends 512 bytes short of it");
        assertEquals(g.clusterSize - g.offsetInCluster(last), g.padToCluster(last), "a length, not an end offset");
        assertTrue(g.padToCluster(last) > 0 && last + g.padToCluster(last) < 0, "the end itself does not fit a long");
        assertEquals(g.clusterSize, g.wholeClusters(g.padToCluster(last) + g.offsetInCluster(last)));
    }

    @ParameterizedTest(name = "cluster_size {0}, table_size {1}")
    @MethodSource("everyGeometry")
    void wholeClustersRoundsLengthsUpWithinOneTable(long clusterSize, long tableSize) {
        Geometry g = geometry(clusterSize, tableSize);
        long span = 1L << g.l1Shift;
        long cluster = g.clusterSize;
        assertEquals(0, g.wholeClusters(0));
        assertEquals(cluster, g.wholeClusters(1));
        assertEquals(cluster, g.wholeClusters(cluster));
        assertEquals(2 * cluster, g.wholeClusters(cluster + 1));
        assertEquals(span, g.wholeClusters(span - 1));
        assertEquals(span, g.wholeClusters(span));
        assertEquals(g.entriesPerTable, g.wholeClusters(span) >> g.clusterBits);
    }

    @ParameterizedTest(name = "cluster_size {0}, table_size {1}")
    @MethodSource("everyGeometry")
    void sliceStartIsTheFirstEntryOfItsSlice(long clusterSize, long tableSize) {
        Geometry g = geometry(clusterSize, tableSize);
        int last = g.entriesPerTable - 1;
        for (int index : new int[] {0, 1, g.sliceEntries - 1, last, last - g.sliceEntries + 1, last / 2}) {
            int start = g.sliceStart(index);
            assertEquals(0, start % g.sliceEntries, "aligned, " + index);
            assertTrue(start <= index && index < start + g.sliceEntries, "holds " + index);
        }
    }

    @ParameterizedTest(name = "cluster_size {0}, table_size {1}")
    @MethodSource("everyGeometry")
    void clusterOffsetsFromAHostileImageAreCheckedWithoutOverflow(long clusterSize, long tableSize) {
        Geometry g = geometry(clusterSize, tableSize);
        long c = g.clusterSize;
        long header = g.headerBytes;
        long file = header + 10 * c;
        assertTrue(g.isValidClusterOffset(header, file), "the first cluster after the header");
        assertTrue(g.isValidClusterOffset(file - c, file), "the last cluster of the file");
        assertFalse(g.isValidClusterOffset(file, file), "the end of the file");
        assertFalse(g.isValidClusterOffset(header - c, file), "inside the header");
        assertFalse(g.isValidClusterOffset(0, file), "the header itself");
        assertFalse(g.isValidClusterOffset(header + 512, file), "unaligned");
        assertFalse(g.isValidClusterOffset(header + c - 1, file), "unaligned");
        assertFalse(g.isValidClusterOffset(TableCodec.ZERO_CLUSTER, file), "the zero-cluster marker is no offset");
        for (long hostile : new long[] {-1, Long.MIN_VALUE, -c, 0x8000000000010000L, Long.MAX_VALUE & -c,
            Long.MAX_VALUE, 0xfffffffffffffe00L}) {
            assertFalse(g.isValidClusterOffset(hostile, file), Long.toHexString(hostile));
            assertFalse(g.isValidClusterOffset(hostile, Long.MAX_VALUE & -c),
                    Long.toHexString(hostile) + " in the largest file");
            assertFalse(g.isValidTableOffset(hostile, file), "table at " + Long.toHexString(hostile));
        }
    }

    @ParameterizedTest(name = "cluster_size {0}, table_size {1}")
    @MethodSource("everyGeometry")
    void aTableMustLieWhollyInsideTheFile(long clusterSize, long tableSize) {
        Geometry g = geometry(clusterSize, tableSize);
        long c = g.clusterSize;
        long header = g.headerBytes;
        long file = header + 2L * g.tableBytes;
        assertTrue(g.isValidTableOffset(header, file));
        assertTrue(g.isValidTableOffset(file - g.tableBytes, file), "ends at the end of the file");
        assertFalse(g.isValidTableOffset(file - g.tableBytes + c, file), "its last cluster past the end");
        assertEquals(g.tableSize == 1, g.isValidTableOffset(file - c, file), "only its first cluster in the file");
        assertFalse(g.isValidTableOffset(header - c, file), "starts in the header");
        assertFalse(g.isValidTableOffset(header + 512, file), "unaligned");
        long top = Long.MAX_VALUE & -c;
        assertEquals(g.tableSize == 1, g.isValidTableOffset(top, Long.MAX_VALUE),
                "a table whose end would pass 2^63 is refused, not wrapped around");
    }

    @Test
    void tableSizeOneIsAcceptedUnlikeQemu() {
        Geometry g = new Geometry(4096, 1, 1);
        assertEquals(512, g.entriesPerTable);
        assertTrue(g.isValidTableOffset(4096, 8192));
        assertEquals(1L << 30, g.maxImageSize());
    }
}
