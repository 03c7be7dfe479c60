package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A check report lists at most {@link CheckReport#MAX_PROBLEMS} problems whatever kind they are (the leak lines
 * too), while its counters count everything; each problem is a typed record that says itself in one line.
 */
class CheckProblemsTest {
    private static final int CLUSTER = 4096;
    private static final int BAD_ENTRIES = CheckReport.MAX_PROBLEMS + 100;

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(value = RepairMode.class, names = {"NONE", "ALL"})
    void theReportListsAtMostTheCapAndCountsEverything(RepairMode mode) throws Exception {
        Path img = dir.resolve("many.qed");
        QedTools.create(img, QedCreateOptions.ofSize(8L << 20).withClusterSize(CLUSTER));
        byte[] data = new byte[BAD_ENTRIES * CLUSTER];
        Arrays.fill(data, (byte) 0x5a);
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite())) {
            image.write(0, ByteBuffer.wrap(data));
        }
        // every entry of the one L2 table made unaligned: each a corruption, each cluster it pointed at a leak
        byte[] bytes = Files.readAllBytes(img);
        ByteBuffer file = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int table = (int) file.getLong((int) file.getLong(40)); // L1 entry 0 (l1_table_offset at byte 40)
        for (int i = 0; i < BAD_ENTRIES; i++) {
            file.putLong(table + i * 8, file.getLong(table + i * 8) + 1);
        }
        Files.write(img, bytes);

        QedOpenOptions options = mode == RepairMode.NONE ? QedOpenOptions.readOnlyOptions() : QedOpenOptions.readWrite();
        try (QedImage image = QedImage.open(img, options)) {
            CheckReport r = image.check(mode);
            assertEquals(CheckReport.MAX_PROBLEMS, r.problems().size(), "capped: " + r.problems().get(r.problems().size() - 1));
            if (mode == RepairMode.NONE) {
                assertEquals(BAD_ENTRIES, r.corruptions());
                assertEquals(BAD_ENTRIES, r.leaks());
            } else {
                assertEquals(BAD_ENTRIES, r.corruptionsFixed());
                assertEquals(BAD_ENTRIES, r.leaksFixed());
            }
            assertTrue(r.problems().stream().allMatch(p -> p instanceof CheckProblem.InvalidClusterOffset), "corruptions first");
            CheckProblem.InvalidClusterOffset first = (CheckProblem.InvalidClusterOffset) r.problems().get(0);
            assertEquals(table, first.tableOffset());
            assertEquals(0, first.index());
            assertEquals(mode != RepairMode.NONE, first.repaired());
            assertEquals((mode == RepairMode.NONE ? "" : "repaired: ")
                    + String.format("L2 table 0x%x entry 0 (guest 0x0): cluster offset 0x%x is invalid (not cluster-aligned)",
                    table, first.clusterOffset()), first.message());
        }
    }
}
