package io.qedfs.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.kenai.jffi.MemoryIO;
import io.qedfs.qed.FileStatus;
import io.qedfs.qed.ImageSummary;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.Qemu;
import java.nio.file.Path;
import java.util.Map;
import jnr.ffi.Memory;
import jnr.ffi.Runtime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import ru.serce.jnrfuse.ErrorCodes;
import ru.serce.jnrfuse.struct.FuseFileInfo;

/**
 * What a callback answers when the engine throws: the exception's errno ({@link Errno}), never an exception
 * and never 0. Real images made by qemu-img, the callbacks called as libfuse2 calls them.
 */
class CallbackErrnoTest {
    private static final MemoryIO MEMORY = MemoryIO.getInstance();
    private static final int O_RDONLY = 0;
    private static final int O_RDWR = 2;

    @TempDir
    Path dir;

    private Path image() throws Exception {
        Path img = dir.resolve("d.qed");
        Qemu.ok("qemu-img", "create", "-q", "-f", "qed", img.toString(), "1M");
        return img;
    }

    private static QedFileSystem served(Path img, QedOpenOptions options) throws Exception {
        MountedImage m = new MountedImage("d.raw", ImageSummary.of(img, options), options, true, opened -> { }, null);
        return new QedFileSystem(Map.of("/d.raw", m), Map.of(), false, FileStatus.of(img.getParent()));
    }

    private static FuseFileInfo fileInfo(int flags) {
        FuseFileInfo fi = FuseFileInfo.of(Memory.allocateDirect(Runtime.getSystemRuntime(), 64, true));
        fi.flags.set(flags);
        return fi;
    }

    /** An image another open holds for writing: open answers EBUSY (ImageLockedException). */
    @Test
    void openOfAnImageHeldElsewhereIsEbusy() throws Exception {
        Path img = image();
        QedFileSystem fs = served(img, QedOpenOptions.readWrite());
        try (QedImage holder = QedImage.open(img, QedOpenOptions.readWrite())) {
            assertEquals(-ErrorCodes.EBUSY(), fs.open("/d.raw", fileInfo(O_RDWR)));
        }
        FuseFileInfo fi = fileInfo(O_RDWR);
        assertEquals(0, fs.open("/d.raw", fi), "free again: the open succeeds");
        assertEquals(0, fs.release("/d.raw", fi));
    }

    /** A write through a handle to an image opened read-only: EROFS (ReadOnlyImageException), nothing written. */
    @Test
    void writeToAnImageOpenedReadOnlyIsErofs() throws Exception {
        Path img = image();
        byte[] before = Qemu.toRaw(img, dir);
        QedFileSystem fs = served(img, QedOpenOptions.readOnlyOptions());
        FuseFileInfo fi = fileInfo(O_RDONLY);
        assertEquals(0, fs.open("/d.raw", fi));
        long buf = MEMORY.allocateMemory(4096, true);
        try {
            MEMORY.setMemory(buf, 4096, (byte) 0x5a);
            long fiAddress = jnr.ffi.Struct.getMemory(fi).address();
            assertEquals(-ErrorCodes.EROFS(), fs.write(0, buf, 4096, 0, fiAddress));
        } finally {
            MEMORY.freeMemory(buf);
        }
        assertEquals(0, fs.release("/d.raw", fi));
        assertArrayEquals(before, Qemu.toRaw(img, dir), "the image is unchanged");
    }

    /** fsync of a file nobody opened (its image is not open: an IOException) is EIO, and utimens never throws. */
    @Test
    void fsyncWithoutAnOpenIsEioAndUtimensAnswers() throws Exception {
        QedFileSystem fs = served(image(), QedOpenOptions.readWrite());
        assertEquals(-ErrorCodes.EIO(), fs.fsync("/d.raw", 0, null));
        assertEquals(0, fs.utimens("/d.raw", null));
        assertEquals(-ErrorCodes.ENOENT(), fs.utimens("/nothing.raw", null));
    }
}
