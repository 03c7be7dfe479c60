package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded random operations (writes, zero writes, discards, resizes, close/reopen) on an image and on a
 * byte-array reference; every read and the final contents must match, and the final image must check clean
 * (ours, and qemu-img's where QEMU can open it). Reproduce with -Dqedfs.seed=N; -Dqedfs.ops=N runs longer.
 */
class ModelBasedRandomTest {
    @TempDir
    Path dir;

    static Stream<Arguments> configs() {
        long seed = Long.getLong("qedfs.seed", System.nanoTime());
        return Stream.of(
                Arguments.of(4096, 1, "none", false, seed),
                Arguments.of(4096, 2, "none", false, seed + 1),
                Arguments.of(4096, 2, "raw", false, seed + 2),
                Arguments.of(8192, 4, "qed", false, seed + 3),
                Arguments.of(65536, 4, "none", false, seed + 4),
                Arguments.of(65536, 1, "raw", false, seed + 5),
                // the mount's write-behind queue: every read, zeroing, resize and reopen must see queued writes
                Arguments.of(4096, 2, "raw", true, seed + 6),
                Arguments.of(8192, 4, "qed", true, seed + 7),
                Arguments.of(65536, 4, "none", true, seed + 8));
    }

    @ParameterizedTest(name = "cluster {0} table {1} backing {2} write-behind {3} seed {4}")
    @MethodSource("configs")
    void randomOperationsMatchTheModel(int clusterSize, int tableSize, String backingKind, boolean writeBehind, long seed)
            throws Exception {
        try {
            run(clusterSize, tableSize, backingKind, QedOpenOptions.readWrite().withWriteBehind(writeBehind), seed);
        } catch (Throwable t) {
            throw new AssertionError("failed with -Dqedfs.seed=" + seed + " (cluster " + clusterSize + ", table "
                    + tableSize + ", backing " + backingKind + ", write-behind " + writeBehind + "): " + t, t);
        }
    }

    /**
     * The same on a memory budget of a few table sectors, one write-behind buffer: nearly every lookup evicts a
     * slice (the backing file's included, which shares the budget), and queued writes wait for the one buffer.
     */
    @ParameterizedTest(name = "tiny shared budget: cluster {0} table {1} backing {2} seed {3}")
    @MethodSource("tinyBudgetConfigs")
    void randomOperationsMatchTheModelOnATinySharedBudget(int clusterSize, int tableSize, String backingKind, long seed)
            throws Exception {
        MemoryBudget budget = new MemoryBudget(2048, 1);
        try {
            run(clusterSize, tableSize, backingKind, QedOpenOptions.readWrite().withWriteBehind(true).withMemory(budget), seed);
        } catch (Throwable t) {
            throw new AssertionError("failed with -Dqedfs.seed=" + seed + " (cluster " + clusterSize + ", table "
                    + tableSize + ", backing " + backingKind + ", tiny shared budget): " + t, t);
        }
        assertEquals(0, budget.cachedL2Bytes(), "every slice is given back when the images close");
        assertEquals(0, budget.queuedWriteBytes(), "and every write-behind buffer");
    }

    static Stream<Arguments> tinyBudgetConfigs() {
        long seed = Long.getLong("qedfs.seed", System.nanoTime());
        return Stream.of(
                Arguments.of(4096, 1, "qed", seed + 20),
                Arguments.of(65536, 4, "raw", seed + 21));
    }

    private void run(int clusterSize, int tableSize, String backingKind, QedOpenOptions readWrite, long seed)
            throws Exception {
        Random rnd = new Random(seed);
        int ops = Integer.getInteger("qedfs.ops", 300);
        int size = 6 << 20;
        byte[] model = new byte[16 << 20];
        Path img = dir.resolve("img.qed");
        QedCreateOptions create = QedCreateOptions.ofSize(size).withClusterSize(clusterSize).withTableSize(tableSize);
        String[] base = makeBacking(backingKind, rnd, model, size);
        if (base != null) {
            create = create.withBacking(base[0], base[1]);
        }
        QedTools.create(img, create);
        QedImage image = QedImage.open(img, readWrite);
        try {
            for (int i = 0; i < ops; i++) {
                int op = rnd.nextInt(100);
                long cur = image.size();
                if (op < 45) {
                    int len = rnd.nextInt(4) == 0 ? 1 + rnd.nextInt(16) : 1 + rnd.nextInt(200_000);
                    long pos = rnd.nextLong(cur);
                    len = (int) Math.min(len, cur - pos);
                    byte[] data = new byte[len];
                    rnd.nextBytes(data);
                    image.write(pos, ByteBuffer.wrap(data));
                    System.arraycopy(data, 0, model, (int) pos, len);
                } else if (op < 55) {
                    long pos = rnd.nextBoolean() ? rnd.nextLong(cur) : rnd.nextLong(cur / clusterSize) * clusterSize;
                    int len = (int) Math.min(cur - pos, rnd.nextInt(4 * clusterSize + 1) + (rnd.nextBoolean() ? 0 : clusterSize));
                    if (rnd.nextBoolean()) {
                        image.writeZeroes(pos, len);
                    } else {
                        image.discard(pos, len);
                    }
                    Arrays.fill(model, (int) pos, (int) pos + len, (byte) 0);
                } else if (op < 85) {
                    long pos = rnd.nextLong(cur);
                    int len = (int) Math.min(cur - pos, 1 + rnd.nextInt(300_000));
                    ByteBuffer got = ByteBuffer.allocate(len);
                    image.read(pos, got);
                    assertRange(model, pos, got.array(), "read at " + pos + " len " + len + " op " + i);
                } else if (op < 90 && cur < model.length - (2 << 20)) {
                    long grow = rnd.nextInt(2 << 20);
                    image.resize(cur + grow);
                    long now = image.size();
                    // past the old end the model already holds zeroes: resize must hide the backing file there
                    Arrays.fill(model, (int) cur, (int) now, (byte) 0);
                } else {
                    image.close();
                    image = QedImage.open(img, readWrite);
                    assertEquals(false, image.header().needsCheck(), "a clean close leaves NEED_CHECK clear");
                }
            }
            long finalSize = image.size();
            ByteBuffer all = ByteBuffer.allocate((int) finalSize);
            image.read(0, all);
            assertRange(model, 0, all.array(), "final contents");
            CheckReport report = image.check(RepairMode.NONE);
            assertEquals(0, report.exitCode(), "our check: " + report);
        } finally {
            image.close();
        }
        if (tableSize > 1 && Qemu.available()) {
            Qemu.Result check = Qemu.check(img);
            assertEquals(0, check.exit(), "qemu-img check: " + check.out());
            byte[] raw = Qemu.toRaw(img, dir);
            QedImage reopened = QedImage.open(img, QedOpenOptions.readOnlyOptions());
            long finalSize = reopened.size();
            reopened.close();
            assertEquals(finalSize, raw.length, "qemu sees the same size");
            assertRange(model, 0, raw, "qemu-img convert output");
        }
    }

    /** Writes the backing file(s) and the model's initial contents; returns {name, format} or null. */
    private String[] makeBacking(String kind, Random rnd, byte[] model, int size) throws IOException {
        if (kind.equals("none")) {
            return null;
        }
        int baseLen = size / 2 + rnd.nextInt(size); // shorter or longer than the image
        byte[] base = new byte[baseLen];
        rnd.nextBytes(base);
        System.arraycopy(base, 0, model, 0, Math.min(baseLen, size));
        Path raw = dir.resolve("base.raw");
        Files.write(raw, base);
        if (kind.equals("raw")) {
            return new String[] {"base.raw", "raw"};
        }
        Path qed = dir.resolve("base.qed");
        QedTools.create(qed, QedCreateOptions.ofSize(baseLen).withClusterSize(4096).withTableSize(2)
                .withBacking("base.raw", "raw"));
        try (QedImage b = QedImage.open(qed, QedOpenOptions.readWrite())) {
            byte[] over = new byte[65536];
            rnd.nextBytes(over);
            long at = rnd.nextInt(baseLen - over.length);
            b.write(at, ByteBuffer.wrap(over));
            System.arraycopy(over, 0, model, (int) at, Math.max(0, Math.min(over.length, size - (int) at)));
        }
        return new String[] {"base.qed", "qed"};
    }

    private static void assertRange(byte[] model, long pos, byte[] got, String what) {
        for (int i = 0; i < got.length; i++) {
            if (got[i] != model[(int) pos + i]) {
                fail(String.format("%s: first difference at guest offset %d: expected 0x%02x, got 0x%02x",
                        what, pos + i, model[(int) pos + i], got[i]));
            }
        }
    }
}
