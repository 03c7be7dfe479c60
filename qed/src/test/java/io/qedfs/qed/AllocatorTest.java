package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qedfs.qed.host.FileIo;
import io.qedfs.qed.host.HostFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The allocation lock has one owner: metadata changes without it fail their assertion (the tests run with
 * assertions on), and the in-place write hands the run it looked up on to the write path.
 */
class AllocatorTest {
    private static final int CLUSTER = 65536;

    @TempDir
    Path dir;

    @Test
    void allocatesReleasesAndRefusesWithoutTheLock() throws Exception {
        try (FileChannel ch = FileChannel.open(dir.resolve("f"), StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            FileIo.writeFully(ch, 0, ByteBuffer.allocate(2 * CLUSTER));
            Allocator a = new Allocator(ch, 2 * CLUSTER);
            assertThrows(AssertionError.class, () -> a.allocate(CLUSTER), "allocating without the lock");
            try (Allocator.Held locked = a.hold()) {
                assertTrue(a.isHeldByCurrentThread());
                assertEquals(2 * CLUSTER, a.allocate(CLUSTER));
                assertEquals(3 * CLUSTER, a.allocate(2 * CLUSTER));
                FileIo.writeFully(ch, 3 * CLUSTER, ByteBuffer.allocate(2 * CLUSTER));
                a.release(3 * CLUSTER);
                assertEquals(3 * CLUSTER, a.fileEnd());
                assertEquals(3 * CLUSTER, ch.size(), "the file is cut where the released space began");
            }
            assertEquals(false, a.isHeldByCurrentThread());
            assertThrows(AssertionError.class, () -> a.release(CLUSTER), "releasing without the lock");
        }
    }

    @Test
    void metadataChangesAssertTheLock() throws Exception {
        Path p = dir.resolve("a.qed");
        QedTools.create(p, QedCreateOptions.ofSize(4 << 20));
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE);
             HostFile host = new HostFile(p, ch, true)) {
            QedHeader h = QedHeader.read(ch, p.toString(), ch.size());
            ImageMetadata meta = new ImageMetadata(p.toString(), ch, host, h, ch.size(), new L2Cache(new L2Budget(1 << 20)));
            assertThrows(AssertionError.class, () -> meta.setEntries(0, 1, TableCodec.ZERO_CLUSTER, 0));
            assertThrows(AssertionError.class, () -> meta.writeHeader(h));
            assertThrows(AssertionError.class, meta::markClean);
            WritePath writes = new WritePath(meta, null, host);
            assertThrows(AssertionError.class, writes::markDirty);
        }
    }

    @Test
    void theInPlaceWriteHandsOnTheRunItLookedUp() throws Exception {
        Path p = dir.resolve("b.qed");
        QedTools.create(p, QedCreateOptions.ofSize(4 << 20));
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE);
             HostFile host = new HostFile(p, ch, true)) {
            QedHeader h = QedHeader.read(ch, p.toString(), ch.size());
            ImageMetadata meta = new ImageMetadata(p.toString(), ch, host, h, ch.size(), new L2Cache(new L2Budget(1 << 20)));
            WritePath writes = new WritePath(meta, null, host);
            byte[] data = new byte[3 * CLUSTER];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) (i * 31 + 7);
            }
            Run seen = writes.writeInPlace(CLUSTER / 2, ByteBuffer.wrap(data));
            assertEquals(new Run(Run.Kind.UNALLOCATED, CLUSTER / 2, data.length, -1), seen);
            writes.write(CLUSTER / 2, ByteBuffer.wrap(data), seen);
            assertNull(writes.writeInPlace(CLUSTER / 2, ByteBuffer.wrap(data)), "allocated now: written in place");
            ByteBuffer back = ByteBuffer.allocate(data.length);
            Run run = meta.lookup(CLUSTER / 2, data.length);
            assertEquals(Run.Kind.DATA, run.kind());
            assertEquals(data.length, run.length());
            FileIo.readFully(ch, run.fileOffset(), back, "b.qed");
            assertArrayEquals(data, back.array());
        }
    }
}
