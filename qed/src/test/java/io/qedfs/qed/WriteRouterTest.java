package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qedfs.qed.host.LibC;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each route of {@link WriteRouter#write}, seen taken, with the image's bytes compared with a model afterwards and
 * the image checked clean: without write-behind every write goes through the write path; with it, a write into
 * data goes in place, one that allocates into the queue, one larger than a queue slot synchronously, and one into
 * data that overlaps a queued write behind that write (the writer thread held at its sync, so the queued write is
 * still pending); while a deferred check runs, a write into data goes in place through the check and an
 * allocating one waits for the check's end.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class WriteRouterTest {
    private static final int C = 4096;
    private static final int SIZE = 4 << 20;

    @TempDir
    Path dir;

    private final byte[] model = new byte[SIZE];

    @Test
    void withoutWriteBehindEveryWriteGoesThroughTheWritePath() throws Exception {
        Path img = newImage("direct.qed");
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite())) {
            assertEquals(WriteRouter.Route.DIRECT, write(image, 0, C, 1), "allocating");
            assertEquals(WriteRouter.Route.DIRECT, write(image, 100, 200, 2), "into data");
            assertArrayEquals(model, read(image));
        }
        assertCleanAndAsModelled(img);
    }

    @Test
    void withWriteBehindEachWriteTakesItsRoute() throws Exception {
        assumeTrue(LibC.get() != null, "no fallocate here: write-behind queues nothing without reserved space");
        Path img = newImage("behind.qed");
        HookedChannel[] channel = new HookedChannel[1];
        QedImage.ChannelOpener opener = (p, ro) -> channel[0] = new HookedChannel(
                FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE));
        CountDownLatch writerAtSync = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite().withWriteBehind(true), opener)) {
            assertEquals(WriteRouter.Route.QUEUED, write(image, 0, C, 1), "allocating");
            image.flush();
            assertEquals(WriteRouter.Route.IN_PLACE, write(image, 100, 200, 2), "into data");
            assertEquals(WriteRouter.Route.DIRECT, write(image, 16 * C, WriteBehind.MAX_WRITE + C, 3),
                    "larger than a queue slot");

            image.markClean(); // the next allocation syncs NEED_CHECK first: the writer thread is held there
            channel[0].beforeSync(file -> {
                if (Thread.currentThread().getName().equals("qedfs-writer")) {
                    writerAtSync.countDown();
                    Latches.awaitUninterruptibly(release);
                }
            });
            try {
                assertEquals(WriteRouter.Route.QUEUED, write(image, 0, 2 * C, 4), "allocating its second cluster");
                Latches.awaitUninterruptibly(writerAtSync);
                assertEquals(WriteRouter.Route.QUEUED, write(image, 50, 100, 5), "into data a queued write covers");
            } finally {
                release.countDown();
            }
            channel[0].beforeSync(file -> { });
            image.flush();
            assertArrayEquals(model, read(image), "the overlapping write landed after the queued one");
        }
        assertCleanAndAsModelled(img);
    }

    @Test
    void duringADeferredCheckADataWriteGoesThroughItAndAnAllocatingOneWaits() throws Exception {
        Path img = newImage("checking.qed");
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite())) {
            write(image, 0, C, 1);
        }
        setNeedCheck(img);
        CountDownLatch scanned = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite().withDeferredCheck(true))) {
            BackgroundCheck check = image.backgroundCheck().orElseThrow();
            CompletableFuture<CheckReport> report = CompletableFuture.supplyAsync(() -> {
                try {
                    return check.run((done, total) -> {
                        if (done == 1) {
                            scanned.countDown();
                            Latches.awaitUninterruptibly(release);
                        }
                    }).orElseThrow();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                } finally {
                    scanned.countDown();
                }
            });
            CompletableFuture<WriteRouter.Route> allocating;
            try {
                Latches.awaitUninterruptibly(scanned);
                assertTrue(check.pending());
                assertEquals(WriteRouter.Route.DURING_CHECK, write(image, 10, 100, 2), "into data");
                allocating = CompletableFuture.supplyAsync(() -> {
                    try {
                        return write(image, 8 * C, C, 3);
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
            } finally {
                release.countDown();
            }
            assertEquals(0, report.join().exitCode(), report.join().toString());
            assertEquals(WriteRouter.Route.DIRECT, allocating.join(), "allocating: after the check");
            assertEquals(WriteRouter.Route.DIRECT, write(image, 20, 10, 4), "into data after the check");
            assertArrayEquals(model, read(image));
        }
        assertCleanAndAsModelled(img);
    }

    private Path newImage(String name) throws IOException {
        Path img = dir.resolve(name);
        QedTools.create(img, QedCreateOptions.ofSize(SIZE).withClusterSize(C).withTableSize(1));
        return img;
    }

    /** Writes {@code len} bytes of {@code fill} at {@code pos} through the router, and into the model. */
    private WriteRouter.Route write(QedImage image, long pos, int len, int fill) throws IOException {
        byte[] b = new byte[len];
        Arrays.fill(b, (byte) fill);
        System.arraycopy(b, 0, model, (int) pos, len);
        return image.router().write(pos, ByteBuffer.wrap(b), null);
    }

    private static byte[] read(QedImage image) throws IOException {
        ByteBuffer got = ByteBuffer.allocate(SIZE);
        image.read(0, got);
        return got.array();
    }

    private void assertCleanAndAsModelled(Path img) throws IOException {
        try (QedImage image = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            assertEquals(0, image.check(RepairMode.NONE).exitCode());
            assertEquals(false, image.needsCheck());
            assertArrayEquals(model, read(image));
        }
    }

    private static void setNeedCheck(Path img) throws IOException {
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer features = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(features, 16);
            features.putLong(0, features.getLong(0) | QedHeader.F_NEED_CHECK).rewind();
            ch.write(features, 16);
        }
    }
}
