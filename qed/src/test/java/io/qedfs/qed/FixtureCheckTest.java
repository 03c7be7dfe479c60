package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Our check against qemu-img check's verdicts on the fixtures (recorded when they were made), repair
 * followed by qemu-img check, and the refusal messages for invalid headers (QEMU's iotest 116 cases).
 */
class FixtureCheckTest {
    @TempDir
    Path dir;

    static Stream<String[]> openable() throws Exception {
        return Fixtures.rows("expected-check.tsv").stream().filter(r -> r.length == 4);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("openable")
    void checkAgreesWithQemu(String name, String exit, String corruptions, String leaks) throws Exception {
        Path img = Fixtures.DIR.resolve(name);
        byte[] before = Files.readAllBytes(img);
        try (QedImage image = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            CheckReport r = image.check(RepairMode.NONE);
            assertEquals(Long.parseLong(corruptions), r.corruptions(), name + ": " + r.problems());
            assertEquals(Long.parseLong(leaks), r.leaks(), name + ": " + r.problems());
            assertEquals(Integer.parseInt(exit), r.exitCode(), name + ": " + r.problems());
        }
        assertArrayEquals(before, Files.readAllBytes(img), "check without repair never writes");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "corrupt-l2-past-eof.qed, 1, 0",
        "corrupt-l2-unaligned.qed, 1, 0",
        "corrupt-l1-past-eof.qed, 1, 0",
        "corrupt-l1-one.qed, 1, 0",
        "leak.qed, 0, 0",
        "dirty.qed, 0, 0",
        "corrupt-l2-dup.qed, 1, 0",
        "corrupt-l2-into-l1.qed, 1, 0",
    })
    void repairLeavesAnImageQemuAccepts(String name, int fixed, int exitAfter) throws Exception {
        Path img = Fixtures.copy(name, dir);
        CheckReport r;
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite().withCheck(QedOpenOptions.CheckPolicy.NEVER))) {
            r = image.check(RepairMode.ALL);
        }
        assertEquals(fixed, r.corruptionsFixed(), r.problems().toString());
        assertEquals(0, r.leaks(), "every leak is reclaimed: " + r.problems());
        try (QedImage image = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            CheckReport again = image.check(RepairMode.NONE);
            assertEquals(exitAfter, again.exitCode(), again.problems().toString());
            if (exitAfter == 0) {
                assertFalse(image.header().needsCheck(), "a successful repair clears NEED_CHECK");
            }
        }
        if (Qemu.available()) {
            Qemu.Result q = Qemu.check(img);
            // Interior leaks become holes: QEMU still counts them as leaked clusters (exit 3), never as corruption.
            assertTrue(q.exit() == exitAfter || (exitAfter == 0 && q.exit() == 3), q.out());
        }
    }

    /** QEMU leaves shared clusters shared; our repair copies them, and the guest reads exactly what it read before. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"corrupt-l2-dup.qed", "corrupt-l2-into-l1.qed"})
    void sharedClustersGetCopiesAndReadTheSame(String name) throws Exception {
        Path img = Fixtures.copy(name, dir);
        byte[] before;
        try (QedImage image = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            before = readAll(image);
        }
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite())) { // dirty or not: check ALWAYS below
            assertEquals(1, image.check(RepairMode.ALL).corruptionsFixed());
            assertArrayEquals(before, readAll(image), "reads unchanged by the repair");
            image.write(0, java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3}));
        }
        try (QedImage image = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            assertEquals(0, image.check(RepairMode.NONE).exitCode());
            before[0] = 1;
            before[1] = 2;
            before[2] = 3;
            assertArrayEquals(before, readAll(image), "a write to one owner no longer shows through the other");
        }
    }

    private static byte[] readAll(QedImage image) throws Exception {
        java.nio.ByteBuffer all = java.nio.ByteBuffer.allocate((int) image.size()); // fits: fixtures are a few MiB
        image.read(0, all);
        return all.array();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "bad-truncated.qed|l1_table_offset 0x1000 is invalid",
        "bad-magic.qed|not a QED image: it has no disk image format's header, so it is raw data",
        "bad-cluster-size.qed|cluster_size 0xffffffff is invalid (allowed: a power of 2 from 4096 to 67108864)",
        "bad-table-size.qed|table_size 0xffffffff is invalid",
        "bad-header-size.qed|header_size 0xffffffff is invalid",
        "bad-l1-offset.qed|l1_table_offset 0xffffffffffffffff is invalid",
        "bad-image-size.qed|image_size 0xffffffffffffffff is invalid",
        "bad-feature.qed|unsupported QED features 0x8",
    })
    void invalidHeadersAreRefusedNamingFieldAndValue(String name, String message) throws Exception {
        Path img = Fixtures.DIR.resolve(name);
        byte[] before = Files.readAllBytes(img);
        for (QedOpenOptions o : new QedOpenOptions[] {QedOpenOptions.readOnlyOptions(), QedOpenOptions.readWrite()}) {
            QedFormatException e = assertThrows(QedFormatException.class, () -> QedImage.open(img, o).close());
            assertTrue(e.getMessage().startsWith(img.toString() + ": "), e.getMessage());
            assertTrue(e.getMessage().contains(message), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), "one line");
        }
        assertArrayEquals(before, Files.readAllBytes(img));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"corrupt-l2-past-eof.qed", "corrupt-l2-unaligned.qed"})
    void readOnlyOpenOfCorruptImageFailsOnlyTheBadCluster(String name) throws Exception {
        Path img = Fixtures.DIR.resolve(name);
        try (QedImage image = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            int bad = 0;
            for (long pos = 0; pos < image.size(); pos += 4096) {
                try {
                    image.read(pos, ByteBuffer.allocate(4096));
                } catch (QedCorruptionException e) {
                    bad++;
                }
            }
            assertTrue(bad > 0, "the invalid entry is reported as corruption on read");
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"corrupt-l2-past-eof.qed", "dirty.qed"})
    void readWriteOpenOfDirtyImageRepairsAutomatically(String name) throws Exception {
        Path img = Fixtures.copy(name, dir);
        setNeedCheck(img);
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite())) {
            assertTrue(image.openCheckReport().isPresent(), "NEED_CHECK triggers the open-time check");
            assertFalse(image.header().needsCheck());
            image.read(0, ByteBuffer.allocate((int) Math.min(image.size(), 1 << 20)));
        }
        if (Qemu.available()) {
            assertEquals(0, Qemu.check(img).exit() & ~3, "no corruption left");
        }
    }

    private static void setNeedCheck(Path img) throws Exception {
        try (var ch = java.nio.channels.FileChannel.open(img, java.nio.file.StandardOpenOption.READ,
                java.nio.file.StandardOpenOption.WRITE)) {
            ByteBuffer f = ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            ch.read(f, 16);
            long features = f.getLong(0) | QedHeader.F_NEED_CHECK;
            ch.write(ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, features), 16);
        }
    }
}
