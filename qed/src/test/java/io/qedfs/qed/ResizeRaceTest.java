package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A resize over a backing file that reaches past the old end, while others read and write the range it
 * grows into. Nothing in the grown range may ever read as backing data, and a write there, allowed once the
 * new size is out, must never be zeroed by the resize.
 */
class ResizeRaceTest {
    private static final int CLUSTER = 64 << 10;
    private static final long OLD = (1 << 20) + 1536; // not a cluster multiple: the last cluster has a tail
    private static final long NEW = (3 << 20) + 512;
    private static final int BACKING = 4 << 20;    // longer than the grown image

    @TempDir
    Path dir;

    /**
     * Deterministic: the resize is stopped at the sync that makes its new header durable, the moment the new
     * size is visible; meanwhile the grown range is read and written just past the old end (in place, in the
     * old last cluster, so the write does not wait for the allocation lock the resize holds).
     */
    @Test
    @Timeout(60)
    void whileTheNewSizeIsSyncedTheGrownRangeReadsAsZeroesAndKeepsWhatIsWrittenThere() throws Exception {
        byte[] base = backingFile(1);
        Path img = image();
        byte[] head = new byte[512];
        new Random(2).nextBytes(head);
        HookedChannel[] channel = new HookedChannel[1];
        QedImage.ChannelOpener opener = (p, ro) -> channel[0] = new HookedChannel(
                FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE));
        ExecutorService pool = Executors.newSingleThreadExecutor();
        CountDownLatch newSizeSyncing = new CountDownLatch(1);
        CountDownLatch goOn = new CountDownLatch(1);
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite(), opener)) {
            image.write(OLD - head.length, ByteBuffer.wrap(head)); // the last cluster holds data, its tail backing data
            image.flush();
            channel[0].beforeSync(file -> {
                if (newSizeSyncing.getCount() > 0 && headerOnDisk(file).imageSize() == NEW) {
                    newSizeSyncing.countDown();
                    await(goOn);
                }
            });
            Future<?> resize = pool.submit(() -> {
                image.resize(NEW);
                return null;
            });
            byte[] seen;
            byte[] justPast = new byte[1024];
            new Random(3).nextBytes(justPast);
            try {
                await(newSizeSyncing);
                assertEquals(NEW, image.size(), "the new size is visible while its header is being synced");
                seen = read(image, OLD, (int) (NEW - OLD));
                image.write(OLD, ByteBuffer.wrap(justPast));
            } finally {
                goOn.countDown(); // a failed step must not leave the resize (and the close) waiting
            }
            resize.get(30, TimeUnit.SECONDS);
            byte[] after = read(image, OLD, justPast.length);
            assertAll(
                    () -> assertArrayEquals(new byte[seen.length], seen, "the grown range while the resize syncs its header: "
                            + "first backing byte at +" + Arrays.mismatch(seen, new byte[seen.length])),
                    () -> assertArrayEquals(justPast, after, "the write just past the old end"));
            byte[] rest = read(image, OLD + justPast.length, (int) (NEW - OLD - justPast.length));
            assertArrayEquals(new byte[rest.length], rest, "the rest of the grown range");
            assertArrayEquals(Arrays.copyOfRange(base, 0, (int) OLD - head.length), read(image, 0, (int) OLD - head.length));
            assertArrayEquals(head, read(image, OLD - head.length, head.length));
            assertEquals(0, image.check(RepairMode.NONE).exitCode());
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Many rounds, no stops: one thread grows the image while another writes the first bytes past the old
     * end as soon as the new size shows, and a third reads the grown range as soon as it shows. The reader
     * may see zeroes or the writer's bytes, never backing data; the write must survive the resize.
     */
    @Test
    @Timeout(120)
    void writersAndReadersRacingResizesNeverSeeBackingDataNorLoseAWrite() throws Exception {
        backingFile(4);
        int rounds = 30;
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            for (int round = 0; round < rounds; round++) {
                Path img = image();
                try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite())) {
                    image.write(OLD - 512, ByteBuffer.wrap(new byte[512])); // the last cluster holds data
                    byte[] mine = new byte[4096];
                    new Random(round).nextBytes(mine);
                    CountDownLatch start = new CountDownLatch(1);
                    Future<?> writer = pool.submit(() -> {
                        await(start);
                        while (image.size() == OLD) {
                            Thread.onSpinWait();
                        }
                        image.write(OLD, ByteBuffer.wrap(mine));
                        return null;
                    });
                    Future<byte[]> reader = pool.submit(() -> {
                        await(start);
                        while (image.size() == OLD) {
                            Thread.onSpinWait();
                        }
                        return read(image, OLD, (int) (NEW - OLD));
                    });
                    Future<?> resize = pool.submit(() -> {
                        await(start);
                        image.resize(NEW);
                        return null;
                    });
                    start.countDown();
                    resize.get(30, TimeUnit.SECONDS);
                    writer.get(30, TimeUnit.SECONDS);
                    byte[] seen = reader.get(30, TimeUnit.SECONDS);
                    for (int i = 0; i < seen.length; i++) {
                        boolean written = i < mine.length && seen[i] == mine[i];
                        assertTrue(seen[i] == 0 || written, "round " + round + ": the reader saw backing data at +" + i);
                    }
                    assertArrayEquals(mine, read(image, OLD, mine.length), "round " + round + ": the write just past the old end");
                    byte[] rest = read(image, OLD + mine.length, (int) (NEW - OLD - mine.length));
                    assertArrayEquals(new byte[rest.length], rest, "round " + round + ": the rest of the grown range");
                }
                Files.delete(img);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private byte[] backingFile(long seed) throws Exception {
        byte[] base = new byte[BACKING];
        new Random(seed).nextBytes(base);
        for (int i = 0; i < base.length; i++) {
            base[i] |= 1; // no zero byte: a zero read from the grown range is never backing data by chance
        }
        Files.write(dir.resolve("base.raw"), base);
        return base;
    }

    private Path image() throws Exception {
        Path img = dir.resolve("grow.qed");
        QedTools.create(img, QedCreateOptions.ofSize(OLD).withClusterSize(CLUSTER).withTableSize(1).withBacking("base.raw", "raw"));
        return img;
    }

    private static QedHeader headerOnDisk(FileChannel file) throws java.io.IOException {
        return QedHeader.read(file, "grow.qed", file.size());
    }

    private static byte[] read(QedImage image, long pos, int len) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(len);
        image.read(pos, b);
        return b.array();
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(30, TimeUnit.SECONDS), "stuck: the other side never came");
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
