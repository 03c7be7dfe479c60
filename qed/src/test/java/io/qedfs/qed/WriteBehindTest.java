package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mount's write-behind queue (random reads, writes, zeroing and reopens against a reference run in
 * ModelBasedRandomTest and ConcurrencyTest; this covers what they cannot): a write that fails after it was
 * acknowledged is reported by the next flush, every later write and the close, never silently dropped;
 * queued writes are applied in order and reach the file by the flush; and a caller's buffer that is queued
 * without a copy is applied before it is given back.
 */
class WriteBehindTest {
    private static final int CLUSTER = 4096;

    @TempDir
    Path dir;

    @Test
    void aFailureAfterTheAcknowledgementIsReportedByFlushWritesAndClose() throws Exception {
        Path img = dir.resolve("wb.qed");
        QedImage.create(img, QedCreateOptions.ofSize(1 << 20).withClusterSize(CLUSTER).withTableSize(1));
        SimulatedDisk disk = new SimulatedDisk(Files.readAllBytes(img));
        QedImage image = QedImage.open(img, QedOpenOptions.readWrite().withLock(false).withWriteBehind(true),
                (p, ro) -> disk.channel());
        image.write(0, ByteBuffer.wrap(pattern(CLUSTER, 1)));
        image.flush();
        disk.onIo(d -> {
            throw new IOException("injected: the disk is gone");
        });

        image.write(8 * CLUSTER, ByteBuffer.wrap(pattern(CLUSTER, 2))); // allocating: acknowledged once queued

        IOException flush = assertThrows(IOException.class, image::flush);
        assertTrue(flush.getMessage().contains("acknowledged earlier") && flush.getMessage().contains("injected"),
                flush.getMessage());
        disk.onIo(d -> { });
        assertThrows(IOException.class, () -> image.write(0, ByteBuffer.wrap(pattern(16, 3))),
                "a write after a lost one must fail too");
        assertThrows(IOException.class, image::flush, "the failure stays");
        assertThrows(IOException.class, image::close, "closing reports the lost write");
    }

    @Test
    void queuedWritesAreAppliedInOrderAndDurableAfterFlush() throws Exception {
        int size = 4 << 20;
        Path img = newImage("order.qed", size);
        byte[] model = new byte[size];
        Random rnd = new Random(42);
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite().withWriteBehind(true))) {
            for (int i = 0; i < 2000; i++) {
                // a small region, so that queued allocating writes and later overwrites hit the same clusters
                int len = 1 + rnd.nextInt(3 * CLUSTER);
                int pos = rnd.nextInt(64 * CLUSTER);
                byte[] data = new byte[len];
                rnd.nextBytes(data);
                image.write(pos, ByteBuffer.wrap(data));
                System.arraycopy(data, 0, model, pos, len);
            }
            image.flush();
            try (QedImage reader = QedImage.open(img, QedOpenOptions.readOnlyOptions().withLock(false))) {
                assertArrayEquals(model, readAll(reader, size), "after flush, the file holds every write in order");
            }
        }
        try (QedImage reopened = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            assertEquals(0, reopened.check(RepairMode.NONE).exitCode());
            assertEquals(false, reopened.header().needsCheck());
        }
    }

    /**
     * A kept buffer (the mount keeps FUSE request buffers instead of copying them) is applied from where it
     * is; the caller reuses it, here by scribbling over it, only once its give-back ran, exactly once.
     */
    @Test
    void keptBuffersAreAppliedBeforeTheyAreGivenBack() throws Exception {
        int size = 8 << 20;
        Path img = newImage("kept.qed", size);
        byte[] model = new byte[size];
        Random rnd = new Random(7);
        LinkedBlockingQueue<ByteBuffer> spare = new LinkedBlockingQueue<>();
        AtomicInteger givenBack = new AtomicInteger();
        int kept = 0;
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite().withWriteBehind(true))) {
            for (int i = 0; i < 1000; i++) {
                ByteBuffer buf = spare.poll();
                buf = buf != null ? buf : ByteBuffer.allocateDirect(3 * CLUSTER);
                int len = 1 + rnd.nextInt(3 * CLUSTER);
                int pos = rnd.nextInt(size - len);
                byte[] data = new byte[len];
                rnd.nextBytes(data);
                buf.clear();
                buf.put(data).flip();
                System.arraycopy(data, 0, model, pos, len);
                ByteBuffer mine = buf;
                boolean wasKept = image.writeMayKeep(pos, buf, () -> {
                    scribble(mine);
                    givenBack.incrementAndGet();
                    spare.add(mine);
                });
                if (wasKept) {
                    kept++;
                } else {
                    scribble(buf);
                    spare.add(buf);
                }
            }
            image.flush();
            assertTrue(kept > 100, "most allocating writes are kept: " + kept);
            assertEquals(kept, givenBack.get(), "every kept buffer is given back once");
            assertArrayEquals(model, readAll(image, size), "what was written, not what the buffers held afterwards");
        }
        try (QedImage reopened = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            assertArrayEquals(model, readAll(reopened, size));
            assertEquals(0, reopened.check(RepairMode.NONE).exitCode());
        }
    }

    private Path newImage(String name, int size) throws IOException {
        Path img = dir.resolve(name);
        QedImage.create(img, QedCreateOptions.ofSize(size).withClusterSize(CLUSTER).withTableSize(1));
        return img;
    }

    private static byte[] readAll(QedImage image, int size) throws IOException {
        byte[] b = new byte[size];
        image.read(0, ByteBuffer.wrap(b));
        return b;
    }

    private static void scribble(ByteBuffer b) {
        b.clear();
        for (int i = 0; i < b.capacity(); i++) {
            b.put(i, (byte) 0xEE);
        }
    }

    private static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) seed);
        new Random(seed).nextBytes(b);
        return b;
    }
}
