package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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

    @ParameterizedTest(name = "write-behind {0}")
    @ValueSource(booleans = {false, true})
    @Timeout(120)
    void interleavedWritersLoseNothing(boolean writeBehind) throws Exception {
        long seed = Long.getLong("qedfs.seed", System.nanoTime());
        int size = 8 << 20;
        Path img = dir.resolve("c.qed");
        QedImage.create(img, QedCreateOptions.ofSize(size).withClusterSize(4096).withTableSize(2));
        byte[] model = new byte[size];
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite().withWriteBehind(writeBehind))) {
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
    /**
     * Threads owning alternate clusters (so every L2 table is updated by all of them at once) write partial and
     * whole clusters, zero and discard them, while another thread grows the image, another flushes and another
     * reads anywhere; the L2 cache holds only a few tables, so tables are evicted and reloaded under the race.
     * Each thread checks its own clusters after every step; at the end the whole image, the check, a reopen
     * and qemu-img agree with the reference.
     */
    @ParameterizedTest(name = "write-behind {0}")
    @ValueSource(booleans = {false, true})
    @Timeout(120)
    void neighbouringClustersWithZeroingDiscardsResizesAndFlushes(boolean writeBehind) throws Exception {
        long seed = Long.getLong("qedfs.seed", System.nanoTime());
        int cluster = 4096;
        int start = 6 << 20;
        int max = 14 << 20;
        Path img = dir.resolve("n.qed");
        QedImage.create(img, QedCreateOptions.ofSize(start).withClusterSize(cluster).withTableSize(2));
        byte[] model = new byte[max];
        AtomicBoolean writersDone = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(THREADS + 3);
        QedOpenOptions smallCache = QedOpenOptions.readWrite().withL2CacheBytes(4L * cluster).withWriteBehind(writeBehind);
        try (QedImage image = QedImage.open(img, smallCache)) {
            List<Future<?>> writers = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                writers.add(pool.submit(() -> {
                    Random rnd = new Random(seed * 7 + thread);
                    for (int i = 0; i < 1500; i++) {
                        long clusters = image.size() / cluster;
                        long c = rnd.nextLong(clusters / THREADS) * THREADS + thread;
                        int base = (int) (c * cluster); // fits: below max
                        int off = rnd.nextInt(cluster);
                        int len = 1 + rnd.nextInt(cluster - off);
                        int zeroFrom = base;
                        int zeroLen = cluster;
                        switch (rnd.nextInt(6)) {
                            case 0 -> image.writeZeroes(base, cluster);
                            case 1 -> image.discard(base, cluster);
                            case 2 -> {
                                image.writeZeroes(base + off, len);
                                zeroFrom = base + off;
                                zeroLen = len;
                            }
                            default -> {
                                byte[] data = new byte[len];
                                rnd.nextBytes(data);
                                image.write(base + off, ByteBuffer.wrap(data));
                                synchronized (model) {
                                    System.arraycopy(data, 0, model, base + off, len);
                                }
                                zeroLen = 0;
                            }
                        }
                        synchronized (model) {
                            Arrays.fill(model, zeroFrom, zeroFrom + zeroLen, (byte) 0);
                        }
                        ByteBuffer back = ByteBuffer.allocate(cluster);
                        image.read(base, back);
                        byte[] expect;
                        synchronized (model) {
                            expect = Arrays.copyOfRange(model, base, base + cluster);
                        }
                        assertArrayEquals(expect, back.array(), "seed " + seed + " thread " + thread + " cluster " + c);
                    }
                    return null;
                }));
            }
            Future<?> grower = pool.submit(() -> {
                while (!writersDone.get() && image.size() < max) {
                    image.resize(image.size() + (512 << 10));
                    Thread.sleep(20);
                }
                return null;
            });
            Future<?> flusher = pool.submit(() -> {
                while (!writersDone.get()) {
                    image.flush();
                    Thread.sleep(5);
                }
                return null;
            });
            Future<?> reader = pool.submit(() -> {
                Random rnd = new Random(seed);
                ByteBuffer b = ByteBuffer.allocate(3 * cluster);
                while (!writersDone.get()) {
                    b.clear();
                    image.read(rnd.nextLong(image.size() - b.capacity()), b);
                }
                return null;
            });
            try {
                for (Future<?> f : writers) {
                    f.get(100, TimeUnit.SECONDS);
                }
            } finally {
                writersDone.set(true);
            }
            grower.get(10, TimeUnit.SECONDS);
            flusher.get(10, TimeUnit.SECONDS);
            reader.get(10, TimeUnit.SECONDS);
            assertWholeImage(image, model, "seed " + seed);
            CheckReport r = image.check(RepairMode.NONE);
            assertEquals(0, r.exitCode(), "seed " + seed + ": " + r);
        } finally {
            pool.shutdownNow();
        }
        try (QedImage image = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            assertWholeImage(image, model, "seed " + seed + " after reopen");
        }
        if (Qemu.available()) {
            Qemu.Result q = Qemu.check(img);
            assertEquals(0, q.exit(), "seed " + seed + ": " + q.out());
        }
        System.out.printf("concurrency seed %d: %d writer threads, 1500 steps each, resizes, flushes, reads%n", seed, THREADS);
    }

    private static void assertWholeImage(QedImage image, byte[] model, String ctx) throws Exception {
        ByteBuffer all = ByteBuffer.allocate((int) image.size()); // fits: at most 14 MiB
        image.read(0, all);
        assertArrayEquals(Arrays.copyOf(model, (int) image.size()), all.array(), ctx);
    }
}
