package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The largest image QED allows with 2 MiB clusters and table_size 8: image_size 0x7ffffffffffffe00, whose last
 * cluster ends at 2^63, one past Long.MAX_VALUE. Writes, zero writes, discards and a resize in that last
 * cluster must do exactly what they do anywhere else: no arithmetic may overflow on the way. qemu-img cannot
 * serve as the oracle here: it refuses images larger than 2^63 - 1 GiB ("File too large"); the engine's own
 * check and read-back do.
 */
class TopOfRangeTest {
    private static final int CLUSTER = 2 << 20;
    private static final int TABLE = 8;
    private static final long TOP = Long.MAX_VALUE & ~511L; // 0x7ffffffffffffe00, the largest size allowed
    private static final long LAST_CLUSTER = TOP & -(long) CLUSTER;

    @TempDir
    Path dir;

    @Test
    void theLargestSizeIsAllowedAndItsLastClusterEndsPastLongMaxValue() {
        assertEquals(TOP, Geometry.maxImageSize(CLUSTER, TABLE));
        assertTrue(LAST_CLUSTER + CLUSTER < 0, "the last cluster's end does not fit in a long");
    }

    @Test
    void discardingTheLastMegabyteStoresNothing() throws Exception {
        Path img = create("d.qed", TOP, null);
        long fileBefore = Files.size(img);
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite())) {
            image.discard(TOP - (1 << 20), 1 << 20);
            image.writeZeroes(TOP - 4096, 4096);
            assertEquals(0, image.allocatedDataBytes(), "a discard of unallocated space allocates nothing");
            assertEquals(fileBefore, image.fileLength(), "nothing was written to the file");
            assertZeroes(image, TOP - (1 << 20), 1 << 20);
            assertClean(image);
        }
    }

    @Test
    void writesAndDiscardsInTheLastClusterReadBackExactly() throws Exception {
        Path img = create("w.qed", TOP, null);
        byte[] model = new byte[CLUSTER];
        Random rnd = new Random(17);
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite())) {
            byte[] tail = new byte[64 << 10];
            rnd.nextBytes(tail);
            long at = TOP - tail.length;
            image.write(at, ByteBuffer.wrap(tail));
            System.arraycopy(tail, 0, model, (int) (at - LAST_CLUSTER), tail.length); // fits: within one cluster
            assertEquals(TOP - LAST_CLUSTER, image.allocatedDataBytes(), "one data cluster, the last one");
            assertTrue(image.fileLength() <= 2L * CLUSTER * (1 + TABLE) + CLUSTER, "file " + image.fileLength());
            assertLastCluster(image, model);

            image.writeZeroes(TOP - 1000, 600); // unaligned, inside the last cluster
            java.util.Arrays.fill(model, (int) (TOP - 1000 - LAST_CLUSTER), (int) (TOP - 400 - LAST_CLUSTER), (byte) 0);
            assertLastCluster(image, model);

            image.discard(TOP - (1 << 20), 1 << 20); // up to the end: covers the rest of the last cluster
            java.util.Arrays.fill(model, (int) (TOP - (1 << 20) - LAST_CLUSTER), model.length, (byte) 0);
            assertLastCluster(image, model);

            image.discard(LAST_CLUSTER, TOP - LAST_CLUSTER); // the whole (partial) last cluster
            assertZeroes(image, LAST_CLUSTER, (int) (TOP - LAST_CLUSTER)); // fits: less than a cluster
            assertClean(image);
        }
    }

    @Test
    void zeroWritesOverABackingFileHideItUpToTheEnd() throws Exception {
        Path base = create("base.qed", TOP, null);
        byte[] data = new byte[CLUSTER];
        new Random(5).nextBytes(data);
        try (QedImage b = QedImage.open(base, QedOpenOptions.readWrite())) {
            b.write(LAST_CLUSTER, ByteBuffer.wrap(data, 0, (int) (TOP - LAST_CLUSTER))); // fits: less than a cluster
            b.write(LAST_CLUSTER - CLUSTER, ByteBuffer.wrap(data));
        }
        Path top = create("top.qed", TOP, "base.qed");
        try (QedImage image = QedImage.open(top, QedOpenOptions.readWrite())) {
            image.discard(TOP - (1 << 20), 1 << 20);
            assertZeroes(image, TOP - (1 << 20), 1 << 20);
            ByteBuffer head = ByteBuffer.allocate((int) (TOP - (1 << 20) - LAST_CLUSTER)); // fits: < a cluster
            image.read(LAST_CLUSTER, head);
            assertArrayEquals(java.util.Arrays.copyOf(data, head.capacity()), head.array(), "the backing data before the discard");
            image.discard(LAST_CLUSTER - CLUSTER, TOP - (LAST_CLUSTER - CLUSTER)); // whole clusters to the end
            assertZeroes(image, LAST_CLUSTER - CLUSTER, (int) (TOP - LAST_CLUSTER + CLUSTER)); // fits: < 2 clusters
            assertClean(image);
        }
    }

    @Test
    void growingIntoTheLastClusterZeroesItsStaleTail() throws Exception {
        byte[] backingData = new byte[CLUSTER];
        new Random(3).nextBytes(backingData);
        Path base = create("base.qed", TOP, null);
        try (QedImage b = QedImage.open(base, QedOpenOptions.readWrite())) {
            b.write(LAST_CLUSTER, ByteBuffer.wrap(backingData, 0, (int) (TOP - LAST_CLUSTER))); // fits: < a cluster
        }
        long old = TOP - 8192;
        Path img = create("r.qed", old, "base.qed");
        byte[] data = new byte[4096];
        new Random(9).nextBytes(data);
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite())) {
            // copy-on-write: the new cluster's tail past the old end holds the backing file's bytes
            image.write(old - data.length, ByteBuffer.wrap(data));
            image.resize(TOP);
            assertEquals(TOP, image.size());
            ByteBuffer back = ByteBuffer.allocate(data.length);
            image.read(old - data.length, back);
            assertArrayEquals(data, back.array());
            assertZeroes(image, old, (int) (TOP - old)); // fits: 8 KiB
            assertClean(image);
        }
    }

    private Path create(String name, long size, String backing) throws Exception {
        Path img = dir.resolve(name);
        QedCreateOptions o = QedCreateOptions.ofSize(size).withClusterSize(CLUSTER).withTableSize(TABLE);
        QedTools.create(img, backing == null ? o : o.withBacking(backing, "qed"));
        return img;
    }

    private static void assertLastCluster(QedImage image, byte[] model) throws Exception {
        int n = (int) (TOP - LAST_CLUSTER); // fits: less than a cluster
        ByteBuffer back = ByteBuffer.allocate(n);
        image.read(LAST_CLUSTER, back);
        assertArrayEquals(java.util.Arrays.copyOf(model, n), back.array());
    }

    private static void assertZeroes(QedImage image, long pos, int len) throws Exception {
        ByteBuffer back = ByteBuffer.allocate(len);
        image.read(pos, back);
        assertArrayEquals(new byte[len], back.array(), "zeroes at 0x" + Long.toHexString(pos));
    }

    private static void assertClean(QedImage image) throws Exception {
        CheckReport r = image.check(RepairMode.NONE);
        assertEquals(0, r.exitCode(), r.toString());
    }
}
