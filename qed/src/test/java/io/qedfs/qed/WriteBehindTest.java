package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mount's write-behind queue (random reads, writes, zeroing and reopens against a reference run in
 * ModelBasedRandomTest and ConcurrencyTest; this covers what they cannot): a write that fails after it was
 * acknowledged, or an Error on the writer thread, is reported by the next flush, every later write and the
 * close, never silently dropped, and never leaves a caller waiting for ever; queued writes are applied in
 * order and reach the file by the flush; a read waits only for the queued writes it overlaps and a flush only
 * for those submitted before it; and a caller's buffer that is queued without a copy is applied before it
 * is given back.
 *
 * <p>The tests that block the writer thread (through {@link FaultyChannel}) wait without a time limit where
 * the engine must not make them wait; the class timeout turns such a hang into a failure.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class WriteBehindTest {
    private static final int CLUSTER = 4096;

    @TempDir
    Path dir;

    @Test
    void aFailureAfterTheAcknowledgementIsReportedByFlushWritesAndClose() throws Exception {
        Path img = dir.resolve("wb.qed");
        QedTools.create(img, QedCreateOptions.ofSize(1 << 20).withClusterSize(CLUSTER).withTableSize(1));
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

    @Test
    void anErrorOnTheWriterThreadIsStickyAndOnlyReadsOfItsRangeFail() throws Exception {
        Path img = newImage("error.qed", 1 << 20);
        FaultyChannel[] file = new FaultyChannel[1];
        QedImage image = FaultyChannel.open(img, QedOpenOptions.readWrite().withWriteBehind(true), file);
        byte[] kept = pattern(CLUSTER, 1);
        image.write(0, ByteBuffer.wrap(kept));
        image.flush();
        file[0].hook((op, pos, len) -> {
            if (onWriterThread()) {
                throw new OutOfMemoryError("injected: Java heap space");
            }
        });

        image.write(8 * CLUSTER, ByteBuffer.wrap(pattern(CLUSTER, 2))); // allocating: acknowledged once queued

        IOException flush = assertThrows(IOException.class, image::flush, "the lost write is reported at fsync");
        assertTrue(flush.getMessage().contains("OutOfMemoryError: injected"), flush.getMessage());
        file[0].hook((op, pos, len) -> { });
        assertThrows(IOException.class, image::flush, "the failure stays");
        assertThrows(IOException.class, () -> image.write(0, ByteBuffer.wrap(pattern(16, 3))), "later writes fail");
        assertThrows(IOException.class, () -> image.read(8 * CLUSTER, ByteBuffer.allocate(16)),
                "a read of the lost write's range fails instead of returning what was there before");
        assertArrayEquals(kept, read(image, 0, CLUSTER), "reads of other data still work");
        assertThrows(IOException.class, image::close, "closing reports the lost write");
        try (QedImage reopened = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            assertTrue(reopened.header().needsCheck(), "an image that lost a write stays marked for a check");
            assertArrayEquals(kept, read(reopened, 0, CLUSTER));
        }
    }

    /**
     * Writers waiting for room in a full queue when the writer thread fails with an Error get an error, as does
     * the flush, and the close ends.
     */
    @Test
    void writersWaitingBehindAFullQueueFailWhenTheWriterThreadFails() throws Exception {
        Path img = newImage("parked.qed", 4 << 20);
        FaultyChannel[] file = new FaultyChannel[1];
        QedImage image = FaultyChannel.open(img, QedOpenOptions.readWrite().withWriteBehind(true), file);
        CountDownLatch applying = new CountDownLatch(1);
        CountDownLatch fail = new CountDownLatch(1);
        file[0].hook((op, pos, len) -> {
            if (onWriterThread()) {
                applying.countDown();
                Latches.awaitUninterruptibly(fail);
                throw new OutOfMemoryError("injected: Java heap space");
            }
        });
        AtomicInteger acknowledged = new AtomicInteger();
        Thread writer = new Thread(() -> {
            try {
                for (int i = 0; i < 64; i++) {
                    image.write((long) i * 2 * CLUSTER, ByteBuffer.wrap(pattern(CLUSTER, i)));
                    acknowledged.incrementAndGet();
                }
            } catch (IOException e) {
                return; // what the test wants
            }
            throw new AssertionError("64 writes were acknowledged while the writer thread was failing");
        });
        AtomicReference<Throwable> writerFailure = new AtomicReference<>();
        writer.setUncaughtExceptionHandler((t, e) -> writerFailure.set(e));
        writer.start();
        applying.await();
        awaitParked(writer); // the queue is full: the writer waits for room
        int beforeFailure = acknowledged.get();
        fail.countDown();

        writer.join();
        assertEquals(null, writerFailure.get());
        assertTrue(beforeFailure > 1, "writes were queued: " + beforeFailure);
        IOException flush = assertThrows(IOException.class, image::flush);
        assertTrue(flush.getMessage().contains("OutOfMemoryError"), flush.getMessage());
        assertThrows(IOException.class, image::close);
    }

    @Test
    void aReadOfDataNobodyWritesDoesNotWaitForTheQueue() throws Exception {
        Path img = newImage("read.qed", 1 << 20);
        FaultyChannel[] file = new FaultyChannel[1];
        try (QedImage image = FaultyChannel.open(img, QedOpenOptions.readWrite().withWriteBehind(true), file)) {
            byte[] settled = pattern(CLUSTER, 1);
            image.write(0, ByteBuffer.wrap(settled));
            image.flush();
            CountDownLatch applying = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            file[0].hook((op, pos, len) -> {
                if (onWriterThread()) {
                    applying.countDown();
                    Latches.awaitUninterruptibly(release);
                }
            });
            byte[] queued = pattern(2 * CLUSTER, 2);
            image.write(8 * CLUSTER, ByteBuffer.wrap(queued));
            applying.await(); // the writer thread is stuck in the queued write

            assertArrayEquals(settled, read(image, 0, CLUSTER), "a read of another cluster answers at once");
            assertArrayEquals(new byte[CLUSTER], read(image, 4 * CLUSTER, CLUSTER), "so does one of a hole");
            CompletableFuture<byte[]> overlapping = CompletableFuture.supplyAsync(() -> readUnchecked(image, 9 * CLUSTER, 16));
            Thread.yield();
            release.countDown();
            assertArrayEquals(Arrays.copyOfRange(queued, CLUSTER, CLUSTER + 16), overlapping.get(),
                    "a read of the queued range sees the queued write");
        }
    }

    /** A queued write half applied (its first cluster written in place, the second being allocated). */
    @Test
    void aReadOfAQueuedWriteWaitsForAllOfIt() throws Exception {
        Path img = newImage("half.qed", 1 << 20);
        FaultyChannel[] file = new FaultyChannel[1];
        try (QedImage image = FaultyChannel.open(img, QedOpenOptions.readWrite().withWriteBehind(true), file)) {
            image.write(0, ByteBuffer.wrap(pattern(CLUSTER, 1)));
            image.flush();
            AtomicInteger writerWrites = new AtomicInteger();
            CountDownLatch allocating = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            file[0].hook((op, pos, len) -> {
                if (onWriterThread() && writerWrites.getAndIncrement() == 1) { // the in-place half went first
                    allocating.countDown();
                    Latches.awaitUninterruptibly(release);
                }
            });
            byte[] queued = pattern(2 * CLUSTER, 2);
            image.write(0, ByteBuffer.wrap(queued)); // one allocated cluster, one not: queued
            allocating.await();
            AtomicReference<byte[]> got = new AtomicReference<>();
            Thread reader = new Thread(() -> got.set(readUnchecked(image, CLUSTER, CLUSTER)));
            reader.start();
            while (reader.isAlive() && reader.getState() != Thread.State.WAITING
                    && reader.getState() != Thread.State.TIMED_WAITING) {
                Thread.onSpinWait(); // until it waits for the write, or has answered without waiting
            }
            release.countDown();
            reader.join();
            assertArrayEquals(Arrays.copyOfRange(queued, CLUSTER, 2 * CLUSTER), got.get());
        }
    }

    @Test
    void aFlushWaitsForEarlierWritesOnlyNotForLaterOnes() throws Exception {
        Path img = newImage("fsync.qed", 1 << 20);
        FaultyChannel[] file = new FaultyChannel[1];
        try (QedImage image = FaultyChannel.open(img, QedOpenOptions.readWrite().withWriteBehind(true), file)) {
            image.write(0, ByteBuffer.wrap(pattern(CLUSTER, 1)));
            image.flush();
            int dataLength = 2 * CLUSTER; // what sets a queued write's data apart from its table updates
            AtomicInteger dataWrites = new AtomicInteger();
            CountDownLatch inFirst = new CountDownLatch(1);
            CountDownLatch releaseFirst = new CountDownLatch(1);
            CountDownLatch inSecond = new CountDownLatch(1);
            CountDownLatch releaseSecond = new CountDownLatch(1);
            AtomicLong syncs = new AtomicLong();
            file[0].hook((op, pos, len) -> {
                if (op == FaultyChannel.Op.FORCE) {
                    syncs.incrementAndGet();
                } else if (onWriterThread() && len == dataLength) {
                    int n = dataWrites.getAndIncrement();
                    (n == 0 ? inFirst : inSecond).countDown();
                    Latches.awaitUninterruptibly(n == 0 ? releaseFirst : releaseSecond);
                }
            });
            byte[] first = pattern(dataLength, 2);
            byte[] second = pattern(dataLength, 3);
            image.write(8 * CLUSTER, ByteBuffer.wrap(first));
            inFirst.await();
            Thread flusher = new Thread(() -> {
                try {
                    image.flush();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            AtomicReference<Throwable> flushFailure = new AtomicReference<>();
            flusher.setUncaughtExceptionHandler((t, e) -> flushFailure.set(e));
            flusher.start();
            awaitParked(flusher); // waiting for the first write
            image.write(16 * CLUSTER, ByteBuffer.wrap(second)); // submitted after the flush began
            releaseFirst.countDown();
            inSecond.await(); // the writer thread is stuck in the second write now

            flusher.join(); // ends while the second write is still queued
            assertEquals(null, flushFailure.get());
            assertEquals(1, syncs.get(), "the flush synced");
            try (QedImage reader = QedImage.open(img, QedOpenOptions.readOnlyOptions().withLock(false))) {
                assertArrayEquals(first, read(reader, 8 * CLUSTER, dataLength), "what the flush covered is in the file");
            }
            releaseSecond.countDown();
            image.flush();
            assertArrayEquals(second, read(image, 16 * CLUSTER, dataLength));
        }
    }

    private static boolean onWriterThread() {
        return Thread.currentThread().getName().equals("qedfs-writer");
    }

    /** Returns once {@code t} is parked (waiting for something the test holds back); fails if it ends first. */
    private static void awaitParked(Thread t) {
        while (t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING) {
            assertTrue(t.isAlive(), t.getName() + " ended instead of waiting");
            Thread.onSpinWait();
        }
    }


    private static byte[] read(QedImage image, long pos, int len) throws IOException {
        byte[] b = new byte[len];
        image.read(pos, ByteBuffer.wrap(b));
        return b;
    }

    private static byte[] readUnchecked(QedImage image, long pos, int len) {
        try {
            return read(image, pos, len);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Path newImage(String name, int size) throws IOException {
        Path img = dir.resolve(name);
        QedTools.create(img, QedCreateOptions.ofSize(size).withClusterSize(CLUSTER).withTableSize(1));
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
