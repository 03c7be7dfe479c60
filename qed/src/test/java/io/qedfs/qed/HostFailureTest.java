package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Host failures the engine must not paper over, injected where the host reports them (FaultyChannel over the
 * real file): a failed fsync fails every later one too (the kernel reports a writeback error once, and may
 * have dropped the pages), a NEED_CHECK whose sync failed lets no metadata change proceed, and a table write
 * that fails cannot take an acknowledged write with it. FullHostFileSystemTest provokes the first on a real
 * failing device.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HostFailureTest {
    private static final int CLUSTER = 4096;

    @TempDir
    Path dir;

    @Test
    void aFailedFsyncFailsEveryLaterFsyncAndTheClose() throws Exception {
        Path img = newImage("fsync.qed");
        FaultyChannel[] file = new FaultyChannel[1];
        QedImage image = FaultyChannel.open(img, QedOpenOptions.readWrite(), file);
        image.write(0, ByteBuffer.wrap(pattern(CLUSTER, 1)));
        failOnce(file[0], FaultyChannel.Op.FORCE, "injected: fdatasync: Input/output error");

        IOException first = assertThrows(IOException.class, image::flush);
        assertTrue(first.getMessage().contains("injected"), first.getMessage());
        IOException second = assertThrows(IOException.class, image::flush,
                "the next fsync fails too, though the host's would succeed now");
        assertTrue(second.getMessage().contains("an fsync failed") && second.getMessage().contains("injected"),
                second.getMessage());
        assertThrows(IOException.class, () -> image.write(CLUSTER, ByteBuffer.wrap(pattern(16, 2))));
        assertThrows(IOException.class, image::close);
        try (QedImage reopened = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            assertTrue(reopened.header().needsCheck(), "not marked clean after a failed fsync");
        }
    }

    @Test
    void aNeedCheckWhoseSyncFailedLetsNoAllocationProceed() throws Exception {
        Path img = newImage("dirty.qed");
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite())) {
            image.write(0, ByteBuffer.wrap(pattern(CLUSTER, 1))); // the L2 table exists from now on
        }
        FaultyChannel[] file = new FaultyChannel[1];
        QedImage image = FaultyChannel.open(img, QedOpenOptions.readWrite(), file);
        assertEquals(false, image.header().needsCheck());
        failOnce(file[0], FaultyChannel.Op.FORCE, "injected: fdatasync: Input/output error");

        assertThrows(IOException.class, () -> image.write(4 * CLUSTER, ByteBuffer.wrap(pattern(CLUSTER, 2))),
                "the sync of NEED_CHECK failed");
        assertThrows(IOException.class, () -> image.write(8 * CLUSTER, ByteBuffer.wrap(pattern(CLUSTER, 3))),
                "a later allocation must not proceed as if NEED_CHECK were on disk");
        assertArrayEquals(new byte[CLUSTER], read(image, 8 * CLUSTER, CLUSTER));
        assertThrows(IOException.class, image::flush);
        assertThrows(IOException.class, image::close);
    }

    /**
     * An allocating write's table update fails while another thread writes into the cluster it allocates. The
     * other write must not be acknowledged into a cluster no table references: it waits for the allocation and
     * then allocates the cluster itself (or fails); if it succeeds, its bytes read back, now and after reopening.
     */
    @Test
    void aWriteIntoAClusterWhoseTableWriteFailsIsNotLost() throws Exception {
        Path img = newImage("table.qed");
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite())) {
            image.write(0, ByteBuffer.wrap(pattern(CLUSTER, 1))); // the L2 table exists from now on
        }
        long l2Table = l2TableOffset(img);
        FaultyChannel[] file = new FaultyChannel[1];
        QedImage image = FaultyChannel.open(img, QedOpenOptions.readWrite(), file);
        long cluster = 5L * CLUSTER;
        byte[] second = pattern(512, 3);
        AtomicReference<Throwable> secondFailed = new AtomicReference<>();
        Thread secondWriter = new Thread(() -> {
            try {
                image.write(cluster + 1024, ByteBuffer.wrap(second));
            } catch (Throwable t) {
                secondFailed.set(t);
            }
        });
        AtomicBoolean armed = new AtomicBoolean(true);
        file[0].hook((op, pos, len) -> {
            boolean tableWrite = op == FaultyChannel.Op.WRITE && pos >= l2Table && pos < l2Table + CLUSTER;
            if (tableWrite && armed.getAndSet(false)) {
                secondWriter.start(); // while the new entry is being written
                while (secondWriter.isAlive() && secondWriter.getState() != Thread.State.WAITING) {
                    Thread.onSpinWait(); // done, or waiting for the allocation to end
                }
                throw new IOException("injected: the table write fails");
            }
        });

        assertThrows(IOException.class, () -> image.write(cluster, ByteBuffer.wrap(pattern(CLUSTER, 2))));
        secondWriter.join();
        if (secondFailed.get() == null) {
            assertArrayEquals(second, read(image, cluster + 1024, second.length), "the acknowledged write reads back");
            image.close();
            try (QedImage reopened = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
                assertArrayEquals(second, read(reopened, cluster + 1024, second.length), "and is in the image");
                assertEquals(0, reopened.check(RepairMode.NONE).corruptions());
            }
        } else {
            assertTrue(secondFailed.get() instanceof IOException, secondFailed.get().toString());
            image.close();
        }
    }

    private static void failOnce(FaultyChannel file, FaultyChannel.Op which, String message) {
        AtomicBoolean armed = new AtomicBoolean(true);
        file.hook((op, pos, len) -> {
            if (op == which && armed.getAndSet(false)) {
                throw new IOException(message);
            }
        });
    }

    private static long l2TableOffset(Path img) throws IOException {
        try (QedImage image = QedImage.open(img, QedOpenOptions.readOnlyOptions());
                FileChannel ch = FileChannel.open(img, StandardOpenOption.READ)) {
            ByteBuffer entry = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(entry, image.header().l1TableOffset());
            return entry.getLong(0);
        }
    }

    private Path newImage(String name) throws IOException {
        Path img = dir.resolve(name);
        QedTools.create(img, QedCreateOptions.ofSize(1 << 20).withClusterSize(CLUSTER).withTableSize(1));
        return img;
    }

    private static byte[] read(QedImage image, long pos, int len) throws IOException {
        byte[] b = new byte[len];
        image.read(pos, ByteBuffer.wrap(b));
        return b;
    }

    private static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }
}
