package io.qedfs.fuse;

import static io.qedfs.fuse.Qedfs.ok;
import static io.qedfs.fuse.Qedfs.sh;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qedfs.qed.CheckReport;
import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.RepairMode;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ending a mount the hard ways: SIGTERM while a writer is busy (clean image, completed writes present) and
 * kill -9 during allocating writes, several rounds (the next mount checks and repairs; every write
 * acknowledged before the last completed fsync reads back exactly). -Dqedfs.crashRounds=N runs more rounds.
 */
@Timeout(900)
class CrashIT {
    private static final int SLOT = 192 << 10;

    @TempDir
    Path dir;
    Path mnt;

    @BeforeEach
    void setUp() throws Exception {
        Qedfs.assumeFuse();
        mnt = Files.createDirectory(dir.resolve("mnt"));
    }

    @AfterEach
    void tearDown() throws Exception {
        if (dir != null) {
            Qedfs.cleanUp(dir);
        }
    }

    @Test
    void sigtermWhileWritingClosesCleanlyAndKeepsCompletedWrites() throws Exception {
        Path img = dir.resolve("disk.qed");
        QedImage.create(img, QedCreateOptions.ofSize(256L << 20));
        long pid = Qedfs.mount("--log", dir.resolve("log").toString(), img.toString(), mnt.toString());
        Writer writer = new Writer(mnt.resolve("disk.raw"), 1, 0);
        writer.start();
        Thread.sleep(800);
        ProcessHandle.of(pid).orElseThrow().destroy(); // SIGTERM
        Qedfs.waitExit(pid, 30);
        writer.join(30_000);
        assertTrue(writer.completed.get() > 0, "the writer got some writes in");
        assertTrue(Qedfs.waitUnmounted(mnt, 5), "SIGTERM unmounts");
        assertFalse(MountIT.needCheck(img), "closed cleanly: NEED_CHECK clear");
        assertEquals(0, Qedfs.run(List.of("qemu-img", "check", img.toString())).exit());
        writer.verify(img, writer.completed.get());
    }

    @Test
    void killMinus9DuringAllocatingWritesLosesNothingSynced() throws Exception {
        int rounds = Integer.getInteger("qedfs.crashRounds", 4);
        long seed = Long.getLong("qedfs.seed", System.nanoTime());
        Random rnd = new Random(seed);
        for (int round = 0; round < rounds; round++) {
            String ctx = "seed " + seed + " round " + round;
            Path img = dir.resolve("r" + round + ".qed");
            QedCreateOptions create = QedCreateOptions.ofSize(200L << 20);
            if (round % 2 == 1) {
                Path base = dir.resolve("base" + round + ".raw");
                ok(sh("head -c 50M /dev/urandom > " + base), "base");
                create = create.withBacking(base.getFileName().toString(), "raw");
            }
            QedImage.create(img, create);
            long pid = Qedfs.mount("--log", dir.resolve("log" + round).toString(), img.toString(), mnt.toString());
            Writer writer = new Writer(mnt.resolve("r" + round + ".raw"), 8, rnd.nextLong());
            writer.start();
            Thread.sleep(300 + rnd.nextInt(1200));
            ok(sh("kill -9 " + pid), "kill -9");
            writer.join(30_000);
            assertTrue(Qedfs.waitUnmounted(mnt, 10), ctx + ": auto_unmount cleans up after a killed process");
            int synced = writer.synced.get();
            boolean dirty = MountIT.needCheck(img);

            Qedfs.mount("--log", dir.resolve("relog" + round).toString(), img.toString(), mnt.toString());
            Qedfs.unmount(mnt);
            String log = Files.readString(dir.resolve("relog" + round));
            if (MountIT.needCheck(img)) {
                throw new AssertionError(ctx + ": still dirty after a clean unmount");
            }
            assertEquals(dirty, log.contains("check of"), ctx + ": a dirty image (and only that) is checked on mount: " + log);
            System.out.printf("crash %s: %d writes acknowledged, %d synced, dirty %s, %s%n", ctx, writer.completed.get(),
                    synced, dirty, log.lines().filter(l -> l.contains("check of")).findFirst().orElse("no check"));
            writer.verify(img, synced);
            try (QedImage q = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
                CheckReport r = q.check(RepairMode.NONE);
                assertEquals(0, r.exitCode(), ctx + ": " + r);
            }
            Qedfs.Result qemu = Qedfs.run(List.of("qemu-img", "check", img.toString()));
            assertTrue(qemu.exit() == 0 || qemu.exit() == 3, ctx + ": no corruption for qemu-img check: " + qemu.all());
        }
    }

    /**
     * Writes slot after slot (slot i at a shuffled position, random length, contents derived from the seed and
     * i) and fsyncs every {@code syncEvery} writes, counting what completed and what was synced.
     */
    static final class Writer extends Thread {
        final Path raw;
        final int syncEvery;
        final long seed;
        final AtomicInteger completed = new AtomicInteger();
        final AtomicInteger synced = new AtomicInteger();
        private final int[] order;

        Writer(Path raw, int syncEvery, long seed) throws Exception {
            super("crash-writer");
            this.raw = raw;
            this.syncEvery = syncEvery;
            this.seed = seed;
            int slots = (int) (Files.size(raw) / SLOT);
            order = new int[slots];
            for (int i = 0; i < slots; i++) {
                order[i] = i;
            }
            Random r = new Random(seed);
            for (int i = slots - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }

        @Override
        public void run() {
            try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.WRITE)) {
                for (int i = 0; i < order.length; i++) {
                    ByteBuffer b = ByteBuffer.wrap(contents(i));
                    long pos = position(i);
                    while (b.hasRemaining()) {
                        ch.write(b, pos + b.position());
                    }
                    completed.set(i + 1);
                    if ((i + 1) % syncEvery == 0) {
                        ch.force(false);
                        synced.set(i + 1);
                    }
                }
            } catch (Exception e) {
                // the mount went away under us: that is the point of the test
            }
        }

        long position(int i) {
            return (long) order[i] * SLOT + offsetInSlot(i);
        }

        int offsetInSlot(int i) {
            return new Random(seed * 31 + i).nextInt(4096);
        }

        byte[] contents(int i) {
            Random r = new Random(seed * 131 + i);
            byte[] b = new byte[1 + r.nextInt(SLOT - 4096)];
            r.nextBytes(b);
            return b;
        }

        /** Slots [0, n) read back exactly through the engine. */
        void verify(Path img, int n) throws Exception {
            try (QedImage q = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
                for (int i = 0; i < n; i++) {
                    byte[] want = contents(i);
                    ByteBuffer got = ByteBuffer.allocate(want.length);
                    q.read(position(i), got);
                    assertArrayEquals(want, got.array(), "slot " + i + " of " + n + " (seed " + seed + ")");
                }
            }
        }
    }
}
