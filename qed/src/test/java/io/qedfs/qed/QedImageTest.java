package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The write path, zero clusters, NEED_CHECK lifecycle, resize, locks and backing chains of one image. */
class QedImageTest {
    @TempDir
    Path dir;

    private Path create(String name, long size) throws Exception {
        Path p = dir.resolve(name);
        QedTools.create(p, QedCreateOptions.ofSize(size));
        return p;
    }

    private static ByteBuffer filled(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return ByteBuffer.wrap(b);
    }

    private static byte[] read(QedImage q, long pos, int n) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(n);
        q.read(pos, b);
        return b.array();
    }

    @Test
    void createLaysOutLikeQemu() throws Exception {
        Path p = create("a.qed", 1L << 30);
        assertEquals(327680, Files.size(p));
        Path odd = create("odd.qed", 1234);
        try (QedImage q = QedImage.open(odd, QedOpenOptions.readOnlyOptions())) {
            assertEquals(1536, q.size(), "sizes round up to 512 as qemu-img create does");
        }
    }

    @Test
    void firstWritePutsDataThenTheNewL2TableAtTheEnd() throws Exception {
        Path p = create("a.qed", 1L << 30);
        try (QedImage q = QedImage.open(p, QedOpenOptions.readWrite())) {
            q.write(0, filled(65536, 0xab));
            assertTrue(q.header().needsCheck(), "NEED_CHECK is set before the first allocation");
            List<Extent> map = q.map();
            assertEquals(new Extent(0, 65536, 0, true, false, true, 0x50000), map.get(0));
        }
        assertEquals(655360, Files.size(p), "data at 0x50000, L2 at 0x60000, as QEMU lays it out");
        try (QedImage q = QedImage.open(p, QedOpenOptions.readOnlyOptions())) {
            assertFalse(q.header().needsCheck(), "a clean close clears NEED_CHECK");
        }
    }

    @Test
    void partialWriteFillsTheRestOfTheClusterWithZeroes() throws Exception {
        Path p = create("a.qed", 1 << 20);
        try (QedImage q = QedImage.open(p, QedOpenOptions.readWrite())) {
            q.write(4096 + 7, filled(100, 0x5a));
            byte[] cluster = read(q, 0, 65536);
            for (int i = 0; i < cluster.length; i++) {
                assertEquals(i >= 4103 && i < 4203 ? 0x5a : 0, cluster[i] & 0xff, "byte " + i);
            }
        }
    }

    @Test
    void alignedZeroWritesOverBackingBecomeZeroClustersAndPartialOnesZeroFill() throws Exception {
        byte[] base = new byte[1 << 20];
        Arrays.fill(base, (byte) 0x55);
        Files.write(dir.resolve("base.raw"), base);
        Path p = dir.resolve("o.qed");
        QedTools.create(p, QedCreateOptions.ofSize(1 << 20).withBacking("base.raw", "raw"));
        try (QedImage q = QedImage.open(p, QedOpenOptions.readWrite())) {
            long before = Files.size(p);
            q.writeZeroes(0, 131072);
            assertEquals(before + 4 * 65536, Files.size(p), "only an L2 table was allocated, no data");
            assertEquals(new Extent(0, 131072, 0, true, true, false, -1), q.map().get(0));
            q.write(4096, filled(4096, 0xaa));
            byte[] c = read(q, 0, 65536);
            for (int i = 0; i < c.length; i++) {
                assertEquals(i >= 4096 && i < 8192 ? 0xaa : 0, c[i] & 0xff,
                        "a partial write into a zero cluster zero-fills (the spec; QEMU copies backing data), byte " + i);
            }
            assertEquals(0x55, read(q, 131072, 1)[0] & 0xff, "the rest still reads from the backing file");
        }
    }

    @Test
    void discardOfAllocatedClustersGivesSpaceBackAndReadsZero() throws Exception {
        Path p = create("a.qed", 64 << 20);
        try (QedImage q = QedImage.open(p, QedOpenOptions.readWrite())) {
            q.write(0, filled(8 << 20, 0x77));
            q.flush();
            long used = allocatedBytes(p);
            q.discard(65536, 4 << 20);
            assertEquals(0, read(q, 65536, 1)[0]);
            assertEquals(0x77, read(q, 65535, 1)[0] & 0xff);
            assertEquals(0x77, read(q, 65536 + (4 << 20), 1)[0] & 0xff);
            // the host may spend a block on the file's own extent tree when the hole splits an extent
            long fsMetadataSlack = 64 << 10;
            assertTrue(allocatedBytes(p) <= used - (4 << 20) + fsMetadataSlack,
                    "holes were punched: " + allocatedBytes(p) + " vs " + used);
            assertEquals(allocatedBytes(p), q.hostAllocatedBytes(), "fstat agrees with stat(1)");
            assertEquals(8 << 20, q.allocatedDataBytes(), "punched clusters stay referenced");
        }
        Qemu.assumeAvailable(); // the rest asks the oracle
        Qemu.Result check = Qemu.check(p);
        assertEquals(0, check.exit(), "qemu-img check: punched clusters stay referenced, so no leaks: " + check.out());
    }

    @Test
    void growingHidesBackingDataPastTheOldEnd() throws Exception {
        byte[] base = new byte[4 << 20];
        Arrays.fill(base, (byte) 0x66);
        Files.write(dir.resolve("base.raw"), base);
        Path p = dir.resolve("o.qed");
        QedTools.create(p, QedCreateOptions.ofSize((1 << 20) + 512).withClusterSize(4096).withBacking("base.raw", "raw"));
        try (QedImage q = QedImage.open(p, QedOpenOptions.readWrite())) {
            assertEquals(0x66, read(q, 1 << 20, 1)[0] & 0xff);
            q.resize(3 << 20);
            assertEquals(3 << 20, q.size());
            assertEquals(0x66, read(q, (1 << 20) + 511, 1)[0] & 0xff, "old contents stay");
            byte[] grown = read(q, (1 << 20) + 512, (2 << 20) - 512);
            for (byte b : grown) {
                assertEquals(0, b, "the new range reads as zeroes, not as the backing file");
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> q.resize(1 << 20));
            assertTrue(e.getMessage().contains("shrinking is not supported"), e.getMessage());
            assertThrows(OutOfRangeException.class, () -> q.write(3 << 20, filled(1, 1)));
        }
    }

    @Test
    void secondWriterIsRefusedAndReadersWaitForTheWriter() throws Exception {
        Path p = create("a.qed", 1 << 20);
        try (QedImage q = QedImage.open(p, QedOpenOptions.readWrite())) {
            ImageLockedException e = assertThrows(ImageLockedException.class, () -> QedImage.open(p, QedOpenOptions.readWrite()));
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
            if (Qemu.available()) {
                Qemu.Result r = Qemu.run("qemu-io", "-f", "qed", "-c", "write 0 4k", p.toString());
                assertTrue(r.out().contains("lock"), "QEMU sees our lock: " + r.out());
            }
        }
        try (QedImage r1 = QedImage.open(p, QedOpenOptions.readOnlyOptions())) {
            assertThrows(ImageLockedException.class, () -> QedImage.open(p, QedOpenOptions.readWrite()));
        }
    }

    @Test
    void readersAreRefusedWhileQemuWrites() throws Exception {
        Qemu.assumeAvailable();
        Path p = create("a.qed", 1 << 20);
        // QEMU's writers take their lock bytes shared: a reader must test for them, as QEMU's own readers do
        Process qemu = new ProcessBuilder("qemu-io", "-f", "qed", p.toString()).redirectErrorStream(true).start();
        try {
            StringBuilder seen = new StringBuilder();
            for (int c; !seen.toString().contains("qemu-io>") && (c = qemu.getInputStream().read()) >= 0; ) {
                seen.append((char) c); // the prompt: the image is open and locked
            }
            ImageLockedException e = assertThrows(ImageLockedException.class,
                    () -> QedImage.open(p, QedOpenOptions.readOnlyOptions()));
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
        } finally {
            qemu.getOutputStream().write("quit\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            qemu.getOutputStream().close();
            assertTrue(qemu.waitFor(30, java.util.concurrent.TimeUnit.SECONDS));
        }
        QedImage.open(p, QedOpenOptions.readOnlyOptions()).close(); // and welcome once it has gone
    }

    @Test
    void backingChainLoopsAndMissingFilesAreRefused() throws Exception {
        Path a = create("a.qed", 1 << 20);
        Path b = dir.resolve("b.qed");
        QedTools.create(b, QedCreateOptions.ofSize(1 << 20).withBacking("a.qed", "qed"));
        Path c = dir.resolve("c.qed");
        QedTools.create(c, QedCreateOptions.ofSize(1 << 20).withBacking("b.qed", "qed"));
        // point a at b: c -> b -> a -> b
        rewriteBacking(a, "b.qed");
        QedFormatException loop = assertThrows(QedFormatException.class, () -> QedImage.open(c, QedOpenOptions.readOnlyOptions()));
        assertTrue(loop.getMessage().contains("backing chain loops: c.qed -> b.qed -> a.qed -> b.qed"), loop.getMessage());
        Files.delete(b);
        NoSuchFileException missing = assertThrows(NoSuchFileException.class, () -> QedImage.open(c, QedOpenOptions.readOnlyOptions()));
        assertTrue(missing.getMessage().contains("backing file b.qed does not exist"), missing.getMessage());
    }

    @Test
    void tableSizeOneImagesWork() throws Exception {
        Path p = dir.resolve("t1.qed");
        QedTools.create(p, QedCreateOptions.ofSize(1 << 30).withClusterSize(4096).withTableSize(1));
        try (QedImage q = QedImage.open(p, QedOpenOptions.readWrite())) {
            q.write((1 << 30) - 4096, filled(4096, 9));
            q.write(2 << 20, filled(10000, 8));
        }
        try (QedImage q = QedImage.open(p, QedOpenOptions.readOnlyOptions())) {
            assertEquals(9, read(q, (1 << 30) - 1, 1)[0]);
            assertEquals(0, q.check(RepairMode.NONE).exitCode());
        }
    }

    private void rewriteBacking(Path image, String name) throws Exception {
        try (var ch = java.nio.channels.FileChannel.open(image, java.nio.file.StandardOpenOption.READ,
                java.nio.file.StandardOpenOption.WRITE)) {
            QedHeader h = QedHeader.read(ch, image.toString(), ch.size());
            byte[] n = name.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            ch.write(h.withBacking(QedHeader.F_BACKING_FILE, 64, n.length).encode(), 0);
            ch.write(ByteBuffer.wrap(n), 64);
        }
    }

    private static long allocatedBytes(Path p) throws Exception {
        Qemu.Result r = Qemu.run("stat", "-c", "%b %B", p.toString());
        String[] f = r.out().trim().split(" ");
        return Long.parseLong(f[0]) * Long.parseLong(f[1]);
    }
}
