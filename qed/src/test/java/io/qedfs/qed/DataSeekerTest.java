package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SEEK_DATA / SEEK_HOLE from the tables ({@link QedImage#nextData}, {@link QedImage#nextHole}): the data ranges
 * they describe equal those {@code qemu-img map --output=json} reports as data, on QEMU-made images with data,
 * zero clusters, raw and QED backing files (a sparse raw base's holes included) and sizes off any boundary; no
 * hole ever reads as anything but zeroes; and a write still queued counts as data.
 */
class DataSeekerTest {
    private static final int K = 1024;
    private static final int M = 1024 * 1024;

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"empty-1g.qed", "size0.qed", "odd-size.qed", "c4k-t2.qed", "c64k-t4.qed", "over-raw.qed",
        "chain-mid.qed", "chain-top.qed", "sparse-4t.qed", "dirty.qed"})
    void fixturesSeekAsQemuImgMaps(String name) throws Exception {
        Qemu.assumeAvailable();
        assertSeeksAsQemuMaps(Fixtures.DIR.resolve(name));
    }

    /** Zero clusters over backing data are holes; a sparse raw base's holes show through unallocated clusters. */
    @Test
    void zeroClustersAndASparseRawBase() throws Exception {
        Qemu.assumeAvailable();
        Path base = dir.resolve("base.raw");
        try (var ch = java.nio.channels.FileChannel.open(base, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(random(12 * K, 1)), M); // 1 MiB in, hidden below by a zero cluster
            ch.write(ByteBuffer.wrap(random(10, 2)), 3_000_000); // one host block of data
            ch.write(ByteBuffer.wrap(random(5000, 3)), 5 * M - 5000); // data up to the base's end
        }
        Path img = dir.resolve("over-sparse.qed");
        Qemu.ok("qemu-img", "create", "-q", "-f", "qed", "-b", base.toString(), "-F", "raw", img.toString(), "9M");
        Qemu.io(img, "write -P 1 0 4k", "write -z 1M 64k", "write -P 2 3M 4k", "write -z 8M 64k");
        assertSeeksAsQemuMaps(img);
    }

    /** A QED base under an image of another cluster size, and a raw base whose size is no multiple of 512. */
    @Test
    void qedBaseAndAnUnalignedRawBase() throws Exception {
        Qemu.assumeAvailable();
        Path base = dir.resolve("base.qed");
        Qemu.ok("qemu-img", "create", "-q", "-f", "qed", "-o", "cluster_size=4096", base.toString(), "3M");
        Qemu.io(base, "write -P 7 0 8k", "write -P 8 1M 4k", "write -z 2M 64k", "write -P 9 3068k 4k");
        Path img = dir.resolve("over-qed.qed");
        Qemu.ok("qemu-img", "create", "-q", "-f", "qed", "-b", base.toString(), "-F", "qed", img.toString(), "5000000");
        Qemu.io(img, "write -P 1 64k 64k", "write -z 0 64k", "write -P 3 4M 100");
        assertSeeksAsQemuMaps(img);

        Path odd = dir.resolve("odd.raw");
        Files.write(odd, random(100_000, 4));
        Path over = dir.resolve("over-odd.qed");
        Qemu.ok("qemu-img", "create", "-q", "-f", "qed", "-b", odd.toString(), "-F", "raw", over.toString(), "1000000");
        assertSeeksAsQemuMaps(over);
        try (QedImage image = QedImage.open(over, QedOpenOptions.readOnlyOptions())) {
            assertEquals(100_000, image.nextHole(0, image.size()), "the raw base's data ends at its unaligned end");
            assertEquals(-1, image.nextData(100_000, image.size()));
        }
    }

    /** Offsets inside data and holes, the end of the image, and ranges cut short. */
    @Test
    void lseekSemanticsAtTheEdges() throws Exception {
        Path img = dir.resolve("edges.qed");
        long size = 64L << 30;
        QedTools.create(img, QedCreateOptions.ofSize(size));
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite())) {
            assertEquals(-1, image.nextData(0, size), "an empty image is one hole");
            assertEquals(0, image.nextHole(0, size));
            image.write(5L << 30, ByteBuffer.wrap(random(100, 5)));
            image.write(size - 1, ByteBuffer.wrap(new byte[] {1}));
            assertEquals(5L << 30, image.nextData(0, size), "whole clusters: the data cluster starts on its boundary");
            assertEquals((5L << 30) + 7, image.nextData((5L << 30) + 7, size), "inside data, the offset itself");
            assertEquals((5L << 30) + 64 * K, image.nextHole(5L << 30, size));
            assertEquals(size - 64 * K, image.nextData((5L << 30) + 64 * K, size));
            assertEquals(size, image.nextHole(size - 64 * K, size), "the end of the image is a hole");
            assertEquals(-1, image.nextData(size, size), "at the end: no data (ENXIO)");
            assertEquals(size, image.nextHole(size, size));
            assertEquals(-1, image.nextData(0, 5L << 30), "a range that ends before the data");
            assertEquals(3 * K, image.nextHole(3 * K, 5L << 30));
            assertEquals(size - 1, image.nextData(size - 1, size + 12345), "an end past the image is clipped");
            assertEquals(size, image.nextHole(size - 1, size + 12345));
            assertThrows(IllegalArgumentException.class, () -> image.nextData(-1, size));
        }
    }

    /**
     * Random writes and zero writes over a QED base: the ranges still equal qemu-img map's, and every byte of
     * every hole reads as zeroes (a false hole would lose data in a sparse copy).
     */
    @Test
    void randomImagesHaveNoFalseHoles() throws Exception {
        Qemu.assumeAvailable();
        Path base = dir.resolve("rbase.qed");
        QedTools.create(base, QedCreateOptions.ofSize(16 * M).withClusterSize(4096));
        Path img = dir.resolve("random.qed");
        QedTools.create(img, QedCreateOptions.ofSize(16 * M + 1536).withBacking(base.toString(), "qed"));
        Random rnd = new Random(17);
        try (QedImage b = QedImage.open(base, QedOpenOptions.readWrite())) {
            scribble(b, rnd, 40);
        }
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite())) {
            scribble(image, rnd, 60);
        }
        assertSeeksAsQemuMaps(img);
        try (QedImage image = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            long at = 0;
            for (long[] data : dataRanges(image)) {
                assertReadsZeroes(image, at, data[0] - at);
                at = data[0] + data[1];
            }
            assertReadsZeroes(image, at, image.size() - at);
        }
    }

    /** A write acknowledged into the write-behind queue is data before the queue has applied it. */
    @Test
    void aQueuedWriteCountsAsData() throws Exception {
        Path img = dir.resolve("queued.qed");
        QedTools.create(img, QedCreateOptions.ofSize(64 * M).withClusterSize(4096).withTableSize(1));
        SimulatedDisk disk = new SimulatedDisk(Files.readAllBytes(img));
        CountDownLatch release = new CountDownLatch(1);
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite().withLock(false).withWriteBehind(true),
                (p, ro) -> disk.channel())) {
            image.write(0, ByteBuffer.wrap(random(4096, 6)));
            image.flush();
            disk.onIo(d -> {
                if (Thread.currentThread().getName().equals("qedfs-writer")) {
                    Latches.awaitUninterruptibly(release); // the queue holds the next write until released
                }
            });
            image.write(40 * M, ByteBuffer.wrap(random(4096, 7))); // allocating: acknowledged once queued

            CompletableFuture<Long> data = CompletableFuture.supplyAsync(() -> seekData(image, 4096));
            CompletableFuture<Long> hole = CompletableFuture.supplyAsync(() -> seekHole(image, 40 * M));
            Thread.sleep(200); // a seek that does not wait for the queue answers meanwhile, with a hole
            release.countDown();
            assertEquals(40L * M, data.get(), "SEEK_DATA finds the queued write");
            assertEquals(40L * M + 4096, hole.get(), "SEEK_HOLE does not report the queued write as a hole");
        }
    }

    private static long seekData(QedImage image, long pos) {
        try {
            return image.nextData(pos, image.size());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static long seekHole(QedImage image, long pos) {
        try {
            return image.nextHole(pos, image.size());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }


    /** Writes of 1 byte to 3 clusters, and zero writes, at random places. */
    private static void scribble(QedImage image, Random rnd, int ops) throws IOException {
        long size = image.size();
        for (int i = 0; i < ops; i++) {
            int len = 1 + rnd.nextInt(3 * 64 * K);
            long pos = (long) (rnd.nextDouble() * (size - len));
            if (rnd.nextInt(3) == 0) {
                image.writeZeroes(pos, len);
            } else {
                image.write(pos, ByteBuffer.wrap(random(len, rnd.nextLong())));
            }
        }
    }

    private static void assertSeeksAsQemuMaps(Path img) throws Exception {
        List<long[]> expected = qemuDataRanges(img);
        try (QedImage image = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            assertEquals(describe(expected), describe(dataRanges(image)), img.getFileName() + ": data ranges");
        }
    }

    /** {start, length} of every stretch the walk SEEK_DATA, SEEK_HOLE, SEEK_DATA, ... from 0 finds. */
    static List<long[]> dataRanges(QedImage image) throws IOException {
        List<long[]> out = new ArrayList<>();
        long size = image.size();
        for (long at = 0; ; ) {
            long data = image.nextData(at, size);
            if (data < 0) {
                return out;
            }
            long hole = image.nextHole(data, size);
            out.add(new long[] {data, hole - data});
            at = hole;
        }
    }

    /** The extents qemu-img map reports as data, adjacent ones merged. */
    private static List<long[]> qemuDataRanges(Path img) throws Exception {
        List<long[]> out = new ArrayList<>();
        String json = Qemu.ok("qemu-img", "map", "-f", "qed", "--output=json", img.toString());
        for (Extent e : MapConformanceTest.parse(json)) {
            if (!e.data()) {
                continue;
            }
            long[] last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && last[0] + last[1] == e.start()) {
                last[1] += e.length();
            } else {
                out.add(new long[] {e.start(), e.length()});
            }
        }
        return out;
    }

    private static String describe(List<long[]> ranges) {
        StringBuilder s = new StringBuilder();
        for (long[] r : ranges) {
            s.append(String.format("[0x%x, 0x%x) ", r[0], r[0] + r[1]));
        }
        return s.toString().strip();
    }

    private static void assertReadsZeroes(QedImage image, long pos, long len) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(64 * K);
        for (long done = 0; done < len; ) {
            int n = (int) Math.min(buf.capacity(), len - done);
            buf.clear().limit(n);
            image.read(pos + done, buf);
            for (int i = 0; i < n; i++) {
                if (buf.get(i) != 0) {
                    throw new AssertionError(String.format("the hole at 0x%x holds data at 0x%x", pos, pos + done + i));
                }
            }
            done += n;
        }
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }
}
