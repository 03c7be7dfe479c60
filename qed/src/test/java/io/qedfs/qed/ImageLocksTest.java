package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qedfs.qed.host.WriteLockedFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * QEMU's locks on every file the engine writes or reads through: a file is write-locked before it is created
 * over or replaced, and the backing files of an open image are read-locked (others may read, none may write),
 * as QEMU locks them. A lock in this process conflicts as another process's would (OFD locks).
 */
class ImageLocksTest {
    @TempDir
    Path dir;

    private Path image(String name, int fill) throws Exception {
        Path p = dir.resolve(name);
        QedTools.create(p, QedCreateOptions.ofSize(1 << 20));
        try (QedImage q = QedImage.open(p, QedOpenOptions.readWrite())) {
            q.write(0, filled(65536, fill));
        }
        return p;
    }

    private static ByteBuffer filled(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return ByteBuffer.wrap(b);
    }

    @Test
    void createRefusesAnImageThatIsOpenAndLeavesItAsItWas() throws Exception {
        Path p = image("busy.qed", 0x5a);
        byte[] before = Files.readAllBytes(p);
        for (QedOpenOptions holder : List.of(QedOpenOptions.readWrite(), QedOpenOptions.readOnlyOptions())) {
            try (QedImage open = QedImage.open(p, holder)) {
                ImageLockedException e = assertThrows(ImageLockedException.class,
                        () -> QedTools.create(p, QedCreateOptions.ofSize(2 << 20)));
                assertTrue(e.getMessage().startsWith(p + ": the image is in use"), e.getMessage());
                assertArrayEquals(before, Files.readAllBytes(p), "read-only " + holder.readOnly() + ": untouched");
            }
        }
        QedTools.create(p, QedCreateOptions.ofSize(2 << 20)); // and replaced once nobody has it open
        try (QedImage q = QedImage.open(p, QedOpenOptions.readOnlyOptions())) {
            assertEquals(2 << 20, q.size());
        }
    }

    @Test
    void compactRefusesToRenameOverAnOutputThatIsOpen() throws Exception {
        Path source = image("src.qed", 0x11);
        Path busy = image("busy.qed", 0x22);
        byte[] before = Files.readAllBytes(busy);
        Object inode = Files.getAttribute(busy, "unix:ino");
        try (QedImage open = QedImage.open(busy, QedOpenOptions.readOnlyOptions())) {
            ImageLockedException e = assertThrows(ImageLockedException.class, () -> QedTools.compact(source, busy, false, ProgressListener.NONE));
            assertTrue(e.getMessage().contains(busy + ": the image is in use"), e.getMessage());
        }
        assertArrayEquals(before, Files.readAllBytes(busy));
        assertEquals(inode, Files.getAttribute(busy, "unix:ino"), "not renamed over");
        try (var files = Files.list(dir)) {
            assertEquals(List.of(), files.filter(f -> f.toString().endsWith(".compact")).toList(), "no temporary file left");
        }
    }

    @Test
    void backingFilesAreReadLockedWhileTheImageIsOpen() throws Exception {
        Path base = image("base.qed", 0x33);
        Path raw = Files.write(dir.resolve("base.raw"), new byte[1 << 20]);
        Path mid = dir.resolve("mid.qed");
        QedTools.create(mid, QedCreateOptions.ofSize(1 << 20).withBacking("base.qed", "qed"));
        Path top = dir.resolve("top.qed");
        QedTools.create(top, QedCreateOptions.ofSize(1 << 20).withBacking("mid.qed", "qed"));
        Path overRaw = dir.resolve("over-raw.qed");
        QedTools.create(overRaw, QedCreateOptions.ofSize(1 << 20).withBacking("base.raw", "raw"));

        for (QedOpenOptions holder : List.of(QedOpenOptions.readOnlyOptions(), QedOpenOptions.readWrite())) {
            try (QedImage t = QedImage.open(top, holder); QedImage r = QedImage.open(overRaw, holder)) {
                for (Path backing : List.of(mid, base)) {
                    ImageLockedException e = assertThrows(ImageLockedException.class,
                            () -> QedImage.open(backing, QedOpenOptions.readWrite()), backing + " under an open image");
                    assertTrue(e.getMessage().startsWith(backing + ": the image is in use"), e.getMessage());
                    QedImage.open(backing, QedOpenOptions.readOnlyOptions()).close(); // readers may join
                }
                assertThrows(ImageLockedException.class, () -> WriteLockedFile.open(raw).close(), "a raw backing file too");
                assertEquals(List.of(mid.toRealPath(), base.toRealPath()),
                        t.backingFiles().stream().map(ImageLocksTest::real).toList());
                if (Qemu.available()) {
                    Qemu.Result q = Qemu.run("qemu-io", "-f", "qed", "-c", "write -P 0x99 0 64k", base.toString());
                    assertTrue(q.exit() != 0 && q.out().contains("Failed to get \"write\" lock"), q.out());
                    Qemu.Result qr = Qemu.run("qemu-io", "-f", "raw", "-c", "write -P 0x99 0 64k", raw.toString());
                    assertTrue(qr.exit() != 0 && qr.out().contains("Failed to get \"write\" lock"), qr.out());
                }
            }
        }
        QedImage.open(base, QedOpenOptions.readWrite()).close(); // released with the image above
        WriteLockedFile.open(raw).close();
    }

    @Test
    void anImageWhoseBackingFileHasAWriterIsRefusedUnlessForcedToShare() throws Exception {
        Path base = image("base.qed", 0x44);
        Path top = dir.resolve("top.qed");
        QedTools.create(top, QedCreateOptions.ofSize(1 << 20).withBacking("base.qed", "qed"));
        try (QedImage writer = QedImage.open(base, QedOpenOptions.readWrite())) {
            ImageLockedException e = assertThrows(ImageLockedException.class,
                    () -> QedImage.open(top, QedOpenOptions.readOnlyOptions()));
            assertTrue(e.getMessage().startsWith(base + ": the image is in use"), e.getMessage());
            try (QedImage shared = QedImage.open(top, QedOpenOptions.readOnlyOptions().withLock(false))) { // info -U
                ByteBuffer b = ByteBuffer.allocate(4);
                shared.read(0, b);
                assertArrayEquals(new byte[] {0x44, 0x44, 0x44, 0x44}, b.array());
            }
            Path other = dir.resolve("other.qed");
            QedTools.create(other, QedCreateOptions.ofSize(-1).withBacking("base.qed", "qed")); // as qemu-img create -b
        }
    }

    private static Path real(Path p) {
        try {
            return p.toRealPath();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
