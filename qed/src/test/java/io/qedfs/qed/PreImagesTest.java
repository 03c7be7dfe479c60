package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qedfs.qed.host.FileIo;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bytes in-place writes overwrite during a background check: saved once each, before the first write, only
 * those written; one writer per cluster; refused past the budget; put back into a copy, or restored into the file.
 */
class PreImagesTest {
    private static final int C = 4096;

    @TempDir
    Path dir;

    @Test
    void savesEachByteOnceBeforeItIsWrittenAndPutsItBack() throws Exception {
        try (FileChannel ch = FileChannel.open(dir.resolve("f"), StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            byte[] original = new byte[2 * C];
            for (int i = 0; i < original.length; i++) {
                original[i] = (byte) i;
            }
            FileIo.writeFully(ch, 0, ByteBuffer.wrap(original));
            PreImages saved = new PreImages(ch, "f", 12, 1000);

            assertTrue(saved.saveBefore(List.of(new PreImages.Piece(7, 100, 200))));
            FileIo.writeFully(ch, 100, ByteBuffer.wrap(new byte[200])); // the write that follows
            assertTrue(saved.saveBefore(List.of(new PreImages.Piece(7, 250, 100)))); // overlaps: only [300, 350) is new
            FileIo.writeFully(ch, 250, ByteBuffer.wrap(new byte[100]));
            assertEquals(250, saved.savedBytes());
            assertEquals(7, saved.writerOf(0));
            assertEquals(-1, saved.writerOf(C));

            assertFalse(saved.saveBefore(List.of(new PreImages.Piece(8, 0, 10))), "a second writer into the cluster");
            assertFalse(saved.saveBefore(List.of(new PreImages.Piece(9, C, 800))), "past the budget");
            assertEquals(-1, saved.writerOf(C), "a refused write saves nothing");

            ByteBuffer copy = ByteBuffer.allocate(C);
            FileIo.readFully(ch, 0, copy, "f");
            saved.putBack(0, copy);
            assertArrayEquals(Arrays.copyOf(original, C), copy.array(), "a copy with the saved bytes put back");

            saved.restore(0, ch);
            ByteBuffer file = ByteBuffer.allocate(2 * C);
            FileIo.readFully(ch, 0, file, "f");
            assertArrayEquals(original, file.array(), "the cluster restored");
        }
    }
}
