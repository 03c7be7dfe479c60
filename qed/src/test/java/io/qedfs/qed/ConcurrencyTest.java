package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Threads writing interleaved 512-byte slots of the same clusters (so they race to allocate the same
 * cluster and L2 table), zeroing and reading, against a reference: no lost update, no torn metadata, no
 * deadlock (bounded by the timeout).
 */
class ConcurrencyTest {
    private static final int THREADS = 8;
    private static final int SLOT = 512;

    @TempDir
    Path dir;

    @Test
    @Timeout(120)
    void interleavedWritersLoseNothing() throws Exception {
        long seed = Long.getLong("qedfs.seed", System.nanoTime());
        int size = 8 << 20;
        Path img = dir.resolve("c.qed");
        QedImage.create(img, QedCreateOptions.ofSize(size).withClusterSize(4096).withTableSize(2));
        byte[] model = new byte[size];
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite())) {
            List<Future<?>> jobs = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                jobs.add(pool.submit(() -> {
                    Random rnd = new Random(seed + thread);
                    byte[] slot = new byte[SLOT];
                    for (int i = 0; i < 3000; i++) {
                        // slots owned by this thread: index % THREADS == thread
                        int index = rnd.nextInt(size / SLOT / THREADS) * THREADS + thread;
                        long pos = (long) index * SLOT;
                        if (rnd.nextInt(10) == 0) {
                            image.writeZeroes(pos, SLOT);
                            synchronized (model) {
                                java.util.Arrays.fill(model, (int) pos, (int) pos + SLOT, (byte) 0);
                            }
                        } else {
                            rnd.nextBytes(slot);
                            image.write(pos, ByteBuffer.wrap(slot));
                            synchronized (model) {
                                System.arraycopy(slot, 0, model, (int) pos, SLOT);
                            }
                        }
                        ByteBuffer back = ByteBuffer.allocate(SLOT);
                        image.read(pos, back);
                        byte[] expect;
                        synchronized (model) {
                            expect = java.util.Arrays.copyOfRange(model, (int) pos, (int) pos + SLOT);
                        }
                        assertArrayEquals(expect, back.array(), "seed " + seed + " thread " + thread + " slot " + index);
                    }
                    return null;
                }));
            }
            for (Future<?> f : jobs) {
                f.get(100, TimeUnit.SECONDS);
            }
            ByteBuffer all = ByteBuffer.allocate(size);
            image.read(0, all);
            assertArrayEquals(model, all.array(), "seed " + seed);
            CheckReport r = image.check(RepairMode.NONE);
            assertEquals(0, r.exitCode(), "seed " + seed + ": " + r);
        } finally {
            pool.shutdownNow();
        }
        if (Qemu.available()) {
            assertEquals(0, Qemu.check(img).exit());
        }
    }
}
