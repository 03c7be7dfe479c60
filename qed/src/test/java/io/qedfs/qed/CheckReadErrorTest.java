package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * An L2 table that cannot be read (a bad sector) is a check error of its own, said as it is, and the check
 * goes on with the tables after it, with and without repair.
 */
class CheckReadErrorTest {
    private static final int CLUSTER = 4096;
    private static final int TABLES = 10;
    private static final long TABLE_SPAN = (CLUSTER / 8L) * CLUSTER; // what one L2 table maps (table_size 1)

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(value = RepairMode.class, names = {"NONE", "ALL"})
    void anUnreadableTableIsACheckErrorAndTheOthersAreStillChecked(RepairMode mode) throws Exception {
        Path img = dir.resolve("tables.qed");
        QedTools.create(img, QedCreateOptions.ofSize(TABLES * TABLE_SPAN).withClusterSize(CLUSTER).withTableSize(1));
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite())) {
            for (int t = 0; t < TABLES; t++) {
                image.write(t * TABLE_SPAN, ByteBuffer.wrap(new byte[] {(byte) (t + 1)}));
            }
        }
        byte[] bytes = Files.readAllBytes(img);
        ByteBuffer file = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long badTable = file.getLong((int) file.getLong(40) + 4 * 8); // L1 entry 4 (l1_table_offset at byte 40)

        SimulatedDisk disk = new SimulatedDisk(bytes);
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite().withLock(false), (p, ro) -> disk.channel())) {
            assertEquals(TABLES, image.check(RepairMode.NONE).allocatedClusters(), "all tables readable");
            disk.failReadsAt(pos -> pos == badTable);
            CheckReport r = image.check(mode);
            assertEquals(1, r.checkErrors(), r.toString());
            assertEquals(TABLES - 1, r.allocatedClusters(), "the tables before and after it were checked: " + r);
            assertTrue(r.problems().stream().anyMatch(p -> p instanceof CheckProblem.UnreadableL2Table u
                    && u.tableOffset() == badTable && u.error().contains("injected")
                    && u.message().contains("cannot read L2 table at 0x" + Long.toHexString(badTable))), r.problems().toString());
            assertTrue(r.exitCode() != 0, "a check that could not read a table is not clean");
        }
    }
}
