package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * QEMU as the oracle, both ways: images written by qemu-io read byte-identically to qemu-img convert -O raw,
 * and the same images, written further by qedfs, pass qemu-img check and convert to what our model says.
 */
class QemuConformanceTest {
    @TempDir
    Path dir;

    @BeforeEach
    void needQemu() {
        Qemu.assumeAvailable();
    }

    static Stream<Arguments> geometries() {
        return Stream.of(
                Arguments.of(4096, 2), Arguments.of(4096, 16), Arguments.of(16384, 4), Arguments.of(65536, 2),
                Arguments.of(65536, 4), Arguments.of(65536, 16), Arguments.of(262144, 4), Arguments.of(1 << 20, 2));
    }

    @ParameterizedTest(name = "cluster {0} table {1}")
    @MethodSource("geometries")
    void qemuWritesQedfsReadsAndBack(int cluster, int table) throws Exception {
        long seed = cluster * 31L + table;
        Random rnd = new Random(seed);
        long size = 24L * 1024 * 1024 + 1536; // not a cluster multiple
        Path img = dir.resolve("q.qed");
        Qemu.ok("qemu-img", "create", "-q", "-f", "qed", "-o", "cluster_size=" + cluster + ",table_size=" + table,
                img.toString(), Long.toString(size));
        Qemu.io(img, qemuOps(rnd, size, cluster, false).toArray(String[]::new));
        assertReadsLikeQemu(img);

        byte[] model = Qemu.toRaw(img, dir);
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite())) {
            for (int i = 0; i < 40; i++) {
                long pos = rnd.nextLong(size);
                int len = (int) Math.min(size - pos, 1 + rnd.nextInt(3 * cluster));
                if (rnd.nextInt(4) == 0) {
                    image.writeZeroes(pos, len);
                    java.util.Arrays.fill(model, (int) pos, (int) pos + len, (byte) 0);
                } else {
                    byte[] data = new byte[len];
                    rnd.nextBytes(data);
                    image.write(pos, ByteBuffer.wrap(data));
                    System.arraycopy(data, 0, model, (int) pos, len);
                }
            }
        }
        Qemu.Result check = Qemu.check(img);
        assertEquals(0, check.exit(), check.out());
        assertArrayEquals(model, Qemu.toRaw(img, dir), "qemu-img convert of what qedfs wrote");
        Path raw = dir.resolve("model.raw");
        Files.write(raw, model);
        Qemu.ok("qemu-img", "compare", "-f", "qed", "-F", "raw", img.toString(), raw.toString());
    }

    @Test
    void rawBackingShorterThanTheImage() throws Exception {
        Random rnd = new Random(7);
        byte[] base = new byte[3 << 20];
        rnd.nextBytes(base);
        Files.write(dir.resolve("base.raw"), base);
        Path img = dir.resolve("over.qed");
        Qemu.ok("qemu-img", "create", "-q", "-f", "qed", "-o", "cluster_size=4096,table_size=2",
                "-b", "base.raw", "-F", "raw", img.toString(), "8M");
        Qemu.io(img, qemuOps(rnd, 8 << 20, 4096, true).toArray(String[]::new));
        assertReadsLikeQemu(img);
    }

    @Test
    void threeDeepQedChain() throws Exception {
        Random rnd = new Random(11);
        Path a = dir.resolve("a.qed");
        Qemu.ok("qemu-img", "create", "-q", "-f", "qed", "-o", "cluster_size=4096", a.toString(), "6M");
        Qemu.io(a, qemuOps(rnd, 6 << 20, 4096, false).toArray(String[]::new));
        Path b = dir.resolve("b.qed");
        Qemu.ok("qemu-img", "create", "-q", "-f", "qed", "-o", "cluster_size=8192", "-b", "a.qed", "-F", "qed", b.toString(), "8M");
        Qemu.io(b, qemuOps(rnd, 8 << 20, 8192, true).toArray(String[]::new));
        Files.createDirectory(dir.resolve("sub"));
        Path c = dir.resolve("sub/c.qed");
        Qemu.ok("qemu-img", "create", "-q", "-f", "qed", "-b", "../b.qed", "-F", "qed", c.toString(), "10M");
        Qemu.io(c, qemuOps(rnd, 10 << 20, 65536, true).toArray(String[]::new));
        assertReadsLikeQemu(c);
    }

    @Test
    void sizeZeroAndMultiTerabyteSparse() throws Exception {
        Path zero = dir.resolve("zero.qed");
        Qemu.ok("qemu-img", "create", "-q", "-f", "qed", zero.toString(), "0");
        assertReadsLikeQemu(zero);
        Path big = dir.resolve("big.qed");
        Qemu.ok("qemu-img", "create", "-q", "-f", "qed", big.toString(), "16T");
        Qemu.io(big, "write -P 0x11 0 64k", "write -P 0x22 14T 100k", "write -P 0x33 16383G 1M");
        try (QedImage image = QedImage.open(big, QedOpenOptions.readOnlyOptions())) {
            assertEquals(16L << 40, image.size());
            for (long[] r : new long[][] {{0, 64 << 10, 0x11}, {14L << 40, 100 << 10, 0x22}, {16383L << 30, 1 << 20, 0x33}}) {
                ByteBuffer got = ByteBuffer.allocate((int) r[1] + 4096);
                image.read(r[0], got);
                for (int i = 0; i < got.capacity(); i++) {
                    assertEquals(i < r[1] ? (byte) r[2] : 0, got.get(i), "byte " + (r[0] + i));
                }
            }
            assertEquals(3, image.map().stream().filter(Extent::data).count());
        }
        String qemuRead = Qemu.io(big, "read -P 0x22 14T 100k");
        org.junit.jupiter.api.Assertions.assertTrue(qemuRead.contains("read 102400/102400"), qemuRead);
    }

    /** Unaligned pattern writes and zero writes, as qemu-io -c commands. */
    private static List<String> qemuOps(Random rnd, long size, int cluster, boolean backing) {
        List<String> ops = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            long pos = rnd.nextLong(size / 512) * 512 + (rnd.nextBoolean() ? rnd.nextInt(512) : 0);
            long len = Math.min(size - pos, 1 + rnd.nextInt(3 * cluster));
            if (rnd.nextInt(5) == 0 && !backing) {
                ops.add("write -z " + pos + " " + len);
            } else if (rnd.nextInt(6) == 0) {
                long c = rnd.nextLong(size / cluster) * cluster;
                ops.add("write -z " + c + " " + Math.min(cluster * (1 + rnd.nextInt(3)), size - c));
            } else {
                ops.add("write -P 0x" + Integer.toHexString(1 + rnd.nextInt(255)) + " " + pos + " " + len);
            }
        }
        return ops;
    }

    private void assertReadsLikeQemu(Path img) throws Exception {
        byte[] expected = Qemu.toRaw(img, dir);
        try (QedImage image = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            assertEquals(expected.length, image.size());
            ByteBuffer all = ByteBuffer.allocate(expected.length);
            image.read(0, all);
            assertArrayEquals(expected, all.array(), img + " reads as qemu-img convert says");
        }
    }
}
