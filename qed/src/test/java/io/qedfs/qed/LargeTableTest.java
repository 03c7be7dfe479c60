package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qedfs.qed.host.SparseFiles;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Tables larger than one slice (1 MiB): read, cached, checked and created slice by slice. QEMU makes such
 * images with 1 MiB clusters and table_size 16, or 4 MiB and 2 (beyond, its size arithmetic overflows and it
 * refuses them); on them qemu-io and qemu-img check are the oracle both ways, with data in many slices, across
 * a slice boundary and in a second table. (qemu-img map and convert abort on these geometries in QEMU 7.2:
 * an assertion on the length of an unallocated run.) 64 MiB clusters with table_size 16, 1 GiB tables, are
 * made and checked by qedfs alone: the file stays sparse and the data reads back.
 */
class LargeTableTest {
    /** Geometry.MAX_SLICE_BYTES, spelled out so that this test also runs against an engine without slices. */
    private static final int SLICE_BYTES = 1 << 20;
    private static final Pattern ALLOCATED = Pattern.compile("(\\d+)/\\d+ = [0-9.]+% allocated");

    @TempDir
    Path dir;

    /** One guest range and the byte it holds. */
    record Piece(long pos, int len, int pattern) {
    }

    @ParameterizedTest(name = "cluster {0} table_size {1}")
    @CsvSource({"1048576, 16", "4194304, 2"})
    void qemuAndQedfsAgreeOnSlicedTables(int cluster, int tableSize) throws Exception {
        Qemu.assumeAvailable();
        long tableBytes = (long) cluster * tableSize;
        long entries = tableBytes / 8;
        long tableSpan = entries * cluster;                       // guest bytes one L2 table maps
        long sliceSpan = (SLICE_BYTES / 8L) * cluster; // guest bytes one slice of it maps
        long size = 3 * tableSpan;
        Path img = dir.resolve("big.qed");
        Qemu.ok("qemu-img", "create", "-q", "-f", "qed", "-o", "cluster_size=" + cluster + ",table_size=" + tableSize,
                img.toString(), Long.toString(size));
        List<Piece> qemu = List.of(
                new Piece(0, 4096, 0x11),                                  // table 0, slice 0
                new Piece(sliceSpan + 3L * cluster + 512, 8192, 0x22),     // slice 1
                new Piece(3 * sliceSpan - 4096, 8192, 0x33),               // across the end of slice 2
                new Piece(7 * sliceSpan + 5L * cluster, 65536, 0x44),      // slice 7
                new Piece(2 * tableSpan + 2 * sliceSpan, 4096, 0x55),      // table 2, slice 2
                new Piece(size - 4096, 4096, 0x66));                       // the last cluster
        List<String> ops = new ArrayList<>();
        for (Piece p : qemu) {
            ops.add(String.format("write -P 0x%x %d %d", p.pattern(), p.pos(), p.len()));
        }
        ops.add("write -z " + (5 * sliceSpan) + " " + cluster); // a zero cluster in slice 5
        Qemu.io(img, ops.toArray(String[]::new));

        try (QedImage image = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            assertMapHoldsExactly(image, qemu, 5 * sliceSpan, cluster);
            CheckReport r = image.check(RepairMode.NONE);
            assertTrue(r.isClean(), r.problems().toString());
            assertEquals(qemuAllocated(img), r.allocatedClusters(), "allocated clusters as qemu-img check counts them");
            for (Piece p : qemu) {
                assertPiece(image, p);
            }
            assertZero(image, 5 * sliceSpan, 4096);
            assertZero(image, 9 * sliceSpan, 4096);
        }

        List<Piece> ours = List.of(
                new Piece(tableSpan + 9 * sliceSpan + 17L * cluster, 4096, 0x77), // table 1, new, slice 9
                new Piece(11 * sliceSpan + 100, 5000, 0x88),                     // a new slice of table 0
                new Piece(13 * sliceSpan - 2048, 4096, 0x99));                   // allocating across slices 12/13
        long before = SparseFiles.allocatedBytes(img);
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite())) {
            image.write(ours.get(0).pos(), fill(ours.get(0)));
            long grown = SparseFiles.allocatedBytes(img) - before;
            // the data cluster, the new table's slice with the entry and its last sector: never the whole table
            assertTrue(grown <= cluster + SLICE_BYTES + 65536,
                    "a new " + tableBytes + "-byte table is sparse: the file grew by " + grown);
            for (Piece p : ours.subList(1, ours.size())) {
                image.write(p.pos(), fill(p));
            }
        }
        assertEquals(0, Qemu.check(img).exit(), "qemu-img check of what qedfs wrote: " + Qemu.check(img).out());
        List<String> reads = new ArrayList<>();
        for (Piece p : concat(qemu, ours)) {
            reads.add(String.format("read -P 0x%x %d %d", p.pattern(), p.pos(), p.len()));
        }
        String out = Qemu.io(img, reads.toArray(String[]::new));
        assertFalse(out.contains("failed"), "qemu-io reads every piece back: " + out);
        try (QedImage image = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            assertMapHoldsExactly(image, concat(qemu, ours), 5 * sliceSpan, cluster);
            assertEquals(qemuAllocated(img), image.check(RepairMode.NONE).allocatedClusters());
        }
    }

    /** 1 GiB tables, as a hostile header may claim and as qedfs create makes them: sparse, and exact. */
    @Test
    void gigabyteTablesCostOnlyWhatTheyHold() throws Exception {
        int cluster = 64 << 20;
        Path img = dir.resolve("huge.qed");
        long size = 1L << 45;
        QedTools.create(img, QedCreateOptions.ofSize(size).withClusterSize(cluster).withTableSize(16));
        assertTrue(SparseFiles.allocatedBytes(img) < (1 << 20),
                "create writes no 1 GiB L1 table of zeroes: " + SparseFiles.allocatedBytes(img) + " bytes on disk");
        long tableSpan = (1L << 27) * cluster;
        List<Piece> pieces = List.of(
                new Piece(0, 4096, 0x1a),
                new Piece(5L * cluster - 2048, 4096, 0x2b),                            // across two clusters
                new Piece((SLICE_BYTES / 8L) * 3 * cluster + 512, 1 << 20, 0x3c), // slice 3 of table 0
                new Piece(size - 4096, 4096, 0x4d));                                   // the last cluster
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite())) {
            for (Piece p : pieces) {
                image.write(p.pos(), fill(p));
            }
        }
        assertTrue(tableSpan > size, "one L2 table maps the whole image");
        // five data clusters, each allocated whole (fallocate), and one L2 table of which only three slices and
        // its last sector hold anything
        long onDisk = SparseFiles.allocatedBytes(img);
        assertTrue(onDisk <= 5L * cluster + 4 * SLICE_BYTES + (1 << 20), "on disk: " + onDisk);
        try (QedImage image = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            for (Piece p : pieces) {
                assertPiece(image, p);
            }
            assertZero(image, 1L << 44, 4096);
            CheckReport r = image.check(RepairMode.NONE);
            assertTrue(r.isClean(), r.problems().toString());
            assertEquals(5, r.allocatedClusters());
            List<Extent> data = image.map().stream().filter(Extent::data).toList();
            assertEquals(4, data.size(), data.toString()); // clusters 4 and 5 lie next to each other in the file
            assertEquals(0, data.get(0).start());
            assertEquals(4L * cluster, data.get(1).start());
            assertEquals(2L * cluster, data.get(1).length());
        }
    }

    /**
     * The map's data extents are exactly the clusters the pieces touch, and its one zero cluster the one at
     * {@code zeroAt}; everything else is unallocated (qemu-img map cannot say so for these geometries).
     */
    private static void assertMapHoldsExactly(QedImage image, List<Piece> pieces, long zeroAt, int cluster) throws Exception {
        java.util.TreeSet<Long> want = new java.util.TreeSet<>();
        for (Piece p : pieces) {
            for (long c = p.pos() / cluster; c <= (p.pos() + p.len() - 1) / cluster; c++) {
                want.add(c);
            }
        }
        java.util.TreeSet<Long> got = new java.util.TreeSet<>();
        long covered = 0;
        for (Extent e : image.map()) {
            assertEquals(covered, e.start(), "extents follow each other");
            covered += e.length();
            if (e.data()) {
                for (long c = e.start() / cluster; c < (e.start() + e.length()) / cluster; c++) {
                    got.add(c);
                }
            } else if (e.present()) {
                assertEquals(zeroAt, e.start(), "the zero cluster");
                assertEquals(cluster, e.length());
            }
        }
        assertEquals(image.size(), covered, "the map covers the image");
        assertEquals(want, got, "data clusters");
    }

    private static long qemuAllocated(Path img) throws Exception {
        Qemu.Result r = Qemu.check(img);
        assertEquals(0, r.exit(), r.out());
        Matcher m = ALLOCATED.matcher(r.out());
        assertTrue(m.find(), r.out());
        return Long.parseLong(m.group(1));
    }

    private static ByteBuffer fill(Piece p) {
        byte[] b = new byte[p.len()];
        java.util.Arrays.fill(b, (byte) p.pattern());
        return ByteBuffer.wrap(b);
    }

    private static void assertPiece(QedImage image, Piece p) throws Exception {
        ByteBuffer got = ByteBuffer.allocate(p.len());
        image.read(p.pos(), got);
        assertArrayEquals(fill(p).array(), got.array(), "guest bytes at 0x" + Long.toHexString(p.pos()));
    }

    private static void assertZero(QedImage image, long pos, int len) throws Exception {
        ByteBuffer got = ByteBuffer.allocate(len);
        image.read(pos, got);
        assertArrayEquals(new byte[len], got.array(), "zeroes at 0x" + Long.toHexString(pos));
    }

    private static List<Piece> concat(List<Piece> a, List<Piece> b) {
        List<Piece> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
