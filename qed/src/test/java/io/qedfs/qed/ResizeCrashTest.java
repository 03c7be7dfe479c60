package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Power loss during a resize over a backing file that reaches past the old end. At every I/O call of the
 * resize, {@link SimulatedDisk} gives states a crash could leave (unsynced writes dropped in any subset, torn
 * at 512 bytes). Each state must open at the old or the new size, repair if dirty, keep every byte of the old
 * range, and read the rest as zeroes: a crash after the new size reached the disk must not uncover the
 * backing data the resize hides (the check cannot see that: backing data is not a corruption).
 */
class ResizeCrashTest {
    private static final int STATES_PER_IO = 12;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "cluster {0} table {1} last cluster allocated {2}")
    @CsvSource({"4096, 1, true", "4096, 2, false", "65536, 1, true", "65536, 4, false"})
    void everyCrashStateShowsTheOldSizeOrTheNewSizeWithItsZeroes(int cluster, int table, boolean lastAllocated)
            throws Exception {
        long old = 5L * cluster + 1536; // not a cluster multiple: the last cluster has a tail
        long grown = (3 << 20) + 512; // past what one L2 table maps with table_size 1 and 4 KiB clusters (2 MiB)
        Random rnd = new Random(cluster * 31L + table);
        byte[] base = new byte[(int) grown + cluster];
        rnd.nextBytes(base);
        for (int i = 0; i < base.length; i++) {
            base[i] |= 1; // no zero byte: a zero in the grown range is never backing data by chance
        }
        Files.write(dir.resolve("base.raw"), base);
        Path template = dir.resolve("template.qed");
        QedTools.create(template, QedCreateOptions.ofSize(old).withClusterSize(cluster).withTableSize(table)
                .withBacking("base.raw", "raw"));
        SimulatedDisk disk = new SimulatedDisk(Files.readAllBytes(template));
        byte[] model = Arrays.copyOf(base, (int) old);
        List<byte[]> states = new ArrayList<>();
        try (QedImage image = open(disk)) {
            byte[] data = new byte[700];
            rnd.nextBytes(data);
            image.write(cluster, ByteBuffer.wrap(data));
            System.arraycopy(data, 0, model, cluster, data.length);
            if (lastAllocated) {
                image.write(old - data.length, ByteBuffer.wrap(data)); // copy-on-write: its tail holds backing data
                System.arraycopy(data, 0, model, (int) (old - data.length), data.length);
            }
            image.markClean();
            disk.onIo(d -> {
                for (int i = 0; i < STATES_PER_IO; i++) {
                    states.add(d.crashImage(rnd));
                }
            });
            image.resize(grown);
            disk.onIo(d -> { });
        }
        states.add(disk.contents());
        int grownStates = 0;
        for (int i = 0; i < states.size(); i++) {
            if (verify(states.get(i), "crash state " + i + " of " + states.size(), old, grown, model)) {
                grownStates++;
            }
        }
        assertTrue(grownStates > 1, "crash states with the new size besides the final one: " + (grownStates - 1));
        System.out.printf("resize crash, cluster %d table %d: %d crash states, %d at the new size%n",
                cluster, table, states.size(), grownStates);
    }

    /** Opens one crash state, repairs it if dirty and compares; true when it shows the new size. */
    private boolean verify(byte[] state, String ctx, long old, long grown, byte[] model) throws IOException {
        SimulatedDisk after = new SimulatedDisk(state);
        try (QedImage q = open(after)) {
            CheckReport found = q.check(RepairMode.NONE);
            if (!q.header().needsCheck()) {
                assertTrue(found.isClean(), ctx + ": NEED_CHECK is clear but the image is inconsistent: " + found);
            } else {
                CheckReport fixed = q.check(RepairMode.ALL);
                assertEquals(0, fixed.corruptions(), ctx + ": " + fixed);
            }
            long size = q.size();
            if (size != old && size != grown) {
                fail(ctx + ": size " + size + ", neither the old " + old + " nor the new " + grown);
            }
            ByteBuffer all = ByteBuffer.allocate((int) size); // fits: a few MiB
            q.read(0, all);
            byte[] got = all.array();
            assertArrayEquals(model, Arrays.copyOf(got, (int) old), ctx + ": the old range");
            int stale = Arrays.mismatch(Arrays.copyOfRange(got, (int) old, got.length), new byte[(int) (size - old)]);
            assertEquals(-1, stale, ctx + ": backing data in the grown range at guest offset " + (old + stale));
            return size == grown;
        }
    }

    private QedImage open(SimulatedDisk disk) throws IOException {
        // the simulated image's path must not exist: the engine would punch holes in a real file there
        return QedImage.open(dir.resolve("simulated.qed"), QedOpenOptions.readWrite().withLock(false)
                .withCheck(QedOpenOptions.CheckPolicy.NEVER), (p, ro) -> disk.channel());
    }
}
