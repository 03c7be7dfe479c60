package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
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
import java.util.concurrent.atomic.AtomicLong;
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
        QedTools.create(img, QedCreateOptions.ofSize(size).withClusterSize(4096).withTableSize(2));
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
     * The image has a backing file longer than it will ever be, and grows to sizes that are not cluster
     * multiples, so every resize zeroes (the tail of the last cluster, the backing data past the old end) while
     * the writers already use the clusters just past the old end. Each thread checks its own clusters after
     * every step; at the end the whole image, the check, a reopen and qemu-img agree with the reference.
     */
    @ParameterizedTest(name = "write-behind {0}")
    @ValueSource(booleans = {false, true})
    @Timeout(120)
    void neighbouringClustersWithZeroingDiscardsResizesAndFlushes(boolean writeBehind) throws Exception {
        long seed = Long.getLong("qedfs.seed", System.nanoTime());
        int cluster = 4096;
        int start = (6 << 20) + 1536;
        int max = 14 << 20;
        byte[] model = new byte[max];
        byte[] base = new byte[max + cluster];
        new Random(seed).nextBytes(base);
        Files.write(dir.resolve("base.raw"), base);
        System.arraycopy(base, 0, model, 0, start); // past the image end the model holds zeroes: resize hides the rest
        Path img = dir.resolve("n.qed");
        QedTools.create(img, QedCreateOptions.ofSize(start).withClusterSize(cluster).withTableSize(2).withBacking("base.raw", "raw"));
        AtomicBoolean writersDone = new AtomicBoolean();
        AtomicLong grows = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(THREADS + 3);
        QedOpenOptions smallCache = QedOpenOptions.readWrite().withL2CacheBytes(4L * cluster).withWriteBehind(writeBehind);
        try (QedImage image = QedImage.open(img, smallCache)) {
            List<Future<?>> writers = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                writers.add(pool.submit(() -> {
                    Random rnd = new Random(seed * 7 + thread);
                    for (int i = 0; i < 1500; i++) {
                        long size = image.size();
                        long clusters = (size + cluster - 1) / cluster; // the last one may be partial
                        long c = rnd.nextLong((clusters - thread + THREADS - 1) / THREADS) * THREADS + thread;
                        int from = (int) (c * cluster); // fits: below max
                        int limit = (int) Math.min(cluster, size - from); // fits: at most a cluster
                        int off = rnd.nextInt(limit);
                        int len = 1 + rnd.nextInt(limit - off);
                        int zeroFrom = from;
                        int zeroLen = limit;
                        switch (rnd.nextInt(6)) {
                            case 0 -> image.writeZeroes(from, limit);
                            case 1 -> image.discard(from, limit);
                            case 2 -> {
                                image.writeZeroes(from + off, len);
                                zeroFrom = from + off;
                                zeroLen = len;
                            }
                            default -> {
                                byte[] data = new byte[len];
                                rnd.nextBytes(data);
                                image.write(from + off, ByteBuffer.wrap(data));
                                synchronized (model) {
                                    System.arraycopy(data, 0, model, from + off, len);
                                }
                                zeroLen = 0;
                            }
                        }
                        synchronized (model) {
                            Arrays.fill(model, zeroFrom, zeroFrom + zeroLen, (byte) 0);
                        }
                        ByteBuffer back = ByteBuffer.allocate(limit);
                        image.read(from, back);
                        byte[] expect;
                        synchronized (model) {
                            expect = Arrays.copyOfRange(model, from, from + limit);
                        }
                        assertArrayEquals(expect, back.array(), "seed " + seed + " thread " + thread + " cluster " + c);
                    }
                    return null;
                }));
            }
            Future<?> grower = pool.submit(() -> {
                Random rnd = new Random(seed + 1);
                while (!writersDone.get()) {
                    long next = image.size() + (512 << 10) + 512L * (1 + rnd.nextInt(7)); // never a cluster multiple
                    if (next > max) {
                        break;
                    }
                    image.resize(next);
                    grows.incrementAndGet();
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
        assertTrue(grows.get() > 0, "the image never grew");
        System.out.printf("concurrency seed %d: %d writer threads, 1500 steps each, %d resizes, flushes, reads%n",
                seed, THREADS, grows.get());
    }

    private static void assertWholeImage(QedImage image, byte[] model, String ctx) throws Exception {
        ByteBuffer all = ByteBuffer.allocate((int) image.size()); // fits: at most 14 MiB
        image.read(0, all);
        assertArrayEquals(Arrays.copyOf(model, (int) image.size()), all.array(), ctx);
    }
}
