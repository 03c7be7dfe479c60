package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many images on one small {@link MemoryBudget}, as a mount of a directory opens them: threads write, zero and
 * read several images each at once while every image's tables keep evicting the others', and queued writes
 * compete for a few write-behind buffers. Every read, and each image's final content, must match a byte-array
 * model; the cache stays within its budget whenever nothing is pinned; closing gives everything back; the
 * images check clean (ours, and qemu-img's). Reproduce with -Dqedfs.seed=N.
 */
class SharedMemoryBudgetTest {
    private static final int IMAGES = 12;
    private static final int THREADS = 4;
    private static final int SIZE = 8 << 20;
    private static final int CLUSTER = 4096;

    @TempDir
    Path dir;

    @Test
    @Timeout(300)
    void imagesSharingASmallBudgetReadWhatWasWritten() throws Exception {
        long seed = Long.getLong("qedfs.seed", System.nanoTime());
        try {
            run(seed);
        } catch (Throwable t) {
            throw new AssertionError("failed with -Dqedfs.seed=" + seed + ": " + t, t);
        }
    }

    private void run(long seed) throws Exception {
        // tables of 8 KiB (two clusters: 4 MiB of guest each, two per image); three of the 24 fit in the budget
        MemoryBudget budget = new MemoryBudget(3 * 2 * CLUSTER, 3L << 20);
        QedOpenOptions options = QedOpenOptions.readWrite().withWriteBehind(true).withMemory(budget);
        List<Path> paths = new ArrayList<>();
        List<byte[]> models = new ArrayList<>();
        List<QedImage> images = new ArrayList<>();
        for (int i = 0; i < IMAGES; i++) {
            Path p = dir.resolve("img" + i + ".qed");
            QedTools.create(p, QedCreateOptions.ofSize(SIZE).withClusterSize(CLUSTER).withTableSize(2));
            paths.add(p);
            models.add(new byte[SIZE]);
            images.add(QedImage.open(p, options));
        }
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            for (int round = 0; round < 3; round++) {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    int thread = t;
                    long threadSeed = seed + round * THREADS + t;
                    done.add(pool.submit(() -> {
                        operate(images, models, thread, new Random(threadSeed));
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
                assertTrue(budget.cachedL2Bytes() <= budget.l2CacheBytes(),
                        "nothing pinned: the cache is within its budget: " + budget.cachedL2Bytes());
                // reopen a third of the images between rounds: their slices go, others' stay
                for (int i = round; i < IMAGES; i += 3) {
                    images.get(i).close();
                    images.set(i, QedImage.open(paths.get(i), options));
                }
            }
        } finally {
            pool.shutdownNow();
            for (QedImage image : images) {
                image.close();
            }
        }
        assertEquals(0, budget.cachedL2Bytes(), "every image closed: every slice given back");
        assertEquals(0, budget.queuedWriteBytes(), "and every write-behind buffer");
        for (int i = 0; i < IMAGES; i++) {
            try (QedImage image = QedImage.open(paths.get(i), QedOpenOptions.readOnlyOptions().withMemory(budget))) {
                ByteBuffer all = ByteBuffer.allocate(SIZE);
                image.read(0, all);
                assertArrayEquals(models.get(i), all.array(), "content of image " + i + " after reopening");
                assertEquals(0, image.check(RepairMode.NONE).exitCode(), "image " + i + " checks clean");
            }
            if (Qemu.available()) {
                Qemu.Result check = Qemu.check(paths.get(i));
                assertEquals(0, check.exit(), "qemu-img check of image " + i + ": " + check.out());
                assertArrayEquals(models.get(i), Qemu.toRaw(paths.get(i), Files.createTempDirectory(dir, "raw")),
                        "qemu-img reads image " + i + " as the model");
            }
        }
    }

    /** Random operations on the images {@code thread} owns (every THREADS-th), each checked against its model. */
    private static void operate(List<QedImage> images, List<byte[]> models, int thread, Random rnd) throws Exception {
        for (int op = 0; op < 150; op++) {
            int i = thread + THREADS * rnd.nextInt(IMAGES / THREADS);
            QedImage image = images.get(i);
            byte[] model = models.get(i);
            int len = 1 + rnd.nextInt(rnd.nextBoolean() ? 600 : 200_000);
            int pos = rnd.nextInt(SIZE - len);
            int kind = rnd.nextInt(10);
            if (kind < 5) {
                byte[] data = new byte[len];
                rnd.nextBytes(data);
                image.write(pos, ByteBuffer.wrap(data));
                System.arraycopy(data, 0, model, pos, len);
            } else if (kind < 6) {
                image.writeZeroes(pos, len);
                java.util.Arrays.fill(model, pos, pos + len, (byte) 0);
            } else {
                ByteBuffer got = ByteBuffer.allocate(len);
                image.read(pos, got);
                byte[] want = java.util.Arrays.copyOfRange(model, pos, pos + len);
                assertArrayEquals(want, got.array(), "image " + i + " read at " + pos + " (" + len + " bytes), op " + op);
            }
        }
    }
}
