package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An open-time check that could not read a table has not vouched for the image: NEED_CHECK stays set through
 * mark-clean and close, so the next open checks again; once a check gets through, close clears it.
 */
class OpenCheckErrorTest {
    private static final int CLUSTER = 4096;
    private static final long TABLE_SPAN = (CLUSTER / 8L) * CLUSTER; // what one L2 table maps (table_size 1)

    @TempDir
    Path dir;

    @Test
    void aTableTheOpenCheckCouldNotReadKeepsTheImageDirty() throws Exception {
        Path img = dir.resolve("dirty.qed");
        QedTools.create(img, QedCreateOptions.ofSize(4 * TABLE_SPAN).withClusterSize(CLUSTER).withTableSize(1));
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite())) {
            for (int t = 0; t < 4; t++) {
                image.write(t * TABLE_SPAN, ByteBuffer.wrap(new byte[] {(byte) (t + 1)}));
            }
        }
        byte[] bytes = Files.readAllBytes(img);
        ByteBuffer file = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        file.putLong(16, file.getLong(16) | QedHeader.F_NEED_CHECK); // as a crash leaves it
        long badTable = file.getLong((int) file.getLong(40) + 2 * 8); // L1 entry 2 (l1_table_offset at byte 40)

        SimulatedDisk disk = new SimulatedDisk(bytes);
        disk.failReadsAt(pos -> pos == badTable);
        try (QedImage image = open(disk)) {
            CheckReport r = image.openCheckReport().orElseThrow();
            assertEquals(1, r.checkErrors(), r.toString());
            image.write(3 * TABLE_SPAN + 4096, ByteBuffer.wrap(new byte[] {9}));
            image.markClean();
            assertTrue(needsCheck(disk), "mark-clean after a check that could not read a table");
        }
        assertTrue(needsCheck(disk), "close after a check that could not read a table");

        disk.failReadsAt(pos -> false);
        try (QedImage image = open(disk)) {
            CheckReport r = image.openCheckReport().orElseThrow(); // still dirty: checked again
            assertEquals(0, r.checkErrors(), r.toString());
            assertEquals(0, r.corruptions(), r.toString());
        }
        assertFalse(needsCheck(disk), "close after a check that read every table");
    }

    private QedImage open(SimulatedDisk disk) throws Exception {
        return QedImage.open(dir.resolve("simulated.qed"), QedOpenOptions.readWrite().withLock(false), (p, ro) -> disk.channel());
    }

    private static boolean needsCheck(SimulatedDisk disk) {
        ByteBuffer b = ByteBuffer.wrap(disk.contents());
        return QedHeader.decode(b).needsCheck();
    }
}
