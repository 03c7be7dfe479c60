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
import io.qedfs.qed.QedTools;
import io.qedfs.qed.RepairMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Ending a mount the hard ways: SIGTERM while a writer is busy (clean image, completed writes present) and
 * kill -9 during allocating writes, several rounds (the next mount checks and repairs; every write
 * acknowledged before the last completed fsync reads back exactly). -Dqedfs.crashRounds=N runs more rounds.
 */
@Timeout(900)
class CrashIT extends MountTestBase {
    private static final int SLOT = 192 << 10;


    @Test
    void sigtermWhileWritingClosesCleanlyAndKeepsCompletedWrites() throws Exception {
        Path img = dir.resolve("disk.qed");
        QedTools.create(img, QedCreateOptions.ofSize(256L << 20));
        long pid = Qedfs.mount("--log", dir.resolve("log").toString(), img.toString(), mnt.toString());
        Writer writer = new Writer(mnt.resolve("disk.raw"), 1, 0, 1_000_000);
        writer.start();
        writer.awaitSynced(20);
        writer.stopping();
        ProcessHandle.of(pid).orElseThrow().destroy(); // SIGTERM
        Qedfs.waitExit(pid, 30);
        writer.awaitEnd();
        assertTrue(Qedfs.waitUnmounted(mnt, 5), "SIGTERM unmounts");
        assertFalse(MountIT.needCheck(img), "closed cleanly: NEED_CHECK clear");
        assertEquals(0, Qedfs.run(List.of("qemu-img", "check", img.toString())).exit());
        // every write was synced (syncEvery 1): all that completed reads back
        assertTrue(writer.verify(img, null, writer.completed.get(), writer.completed.get()) > 0, "written slots read back");
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
            Path base = null;
            if (round % 2 == 1) {
                base = dir.resolve("base" + round + ".raw");
                ok(sh("head -c 50M /dev/urandom > " + base), "base");
                create = create.withBacking(base.getFileName().toString(), "raw");
            }
            QedTools.create(img, create);
            long pid = Qedfs.mount("--log", dir.resolve("log" + round).toString(), img.toString(), mnt.toString());
            Writer writer = new Writer(mnt.resolve("r" + round + ".raw"), 8, rnd.nextLong(), 1_000_000);
            writer.start();
            // something to lose: at least 3 to 30 fsyncs have completed when the kill lands, anywhere in the
            // write/fsync cycle after that
            writer.awaitSynced(8 * (3 + rnd.nextInt(28)));
            Thread.sleep(rnd.nextInt(500));
            writer.stopping();
            ok(sh("kill -9 " + pid), "kill -9");
            writer.awaitEnd();
            // generous: fusermount's auto_unmount runs once the killed process's descriptors are gone, which
            // takes a while on a loaded 2-core machine
            assertTrue(Qedfs.waitUnmounted(mnt, 30), ctx + ": auto_unmount cleans up after a killed process; "
                    + Qedfs.sh("ps -eo pid,stat,etime,args | grep -E 'fusermount|qedfs' | grep -v grep").out());
            int synced = writer.synced.get();
            boolean dirty = MountIT.needCheck(img);

            // the check finishes before the unmount, which would stop a check in the background
            Qedfs.mount("--check-before-ready", "--log", dir.resolve("relog" + round).toString(), img.toString(), mnt.toString());
            Qedfs.unmount(mnt);
            String log = Files.readString(dir.resolve("relog" + round));
            if (MountIT.needCheck(img)) {
                throw new AssertionError(ctx + ": still dirty after a clean unmount");
            }
            assertEquals(dirty, log.contains("check of"), ctx + ": a dirty image (and only that) is checked on mount: " + log);
            int verified = writer.verify(img, base, synced, writer.completed.get());
            System.out.printf("crash %s: %d writes acknowledged, %d synced, %d written slots verified, dirty %s, %s; "
                            + "the writer then got %s%n", ctx, writer.completed.get(), synced, verified, dirty,
                    log.lines().filter(l -> l.contains("check of") && l.contains("repaired")).findFirst().orElse("no check"), writer.error);
            assertTrue(verified > 0, ctx + ": some slot holding synced writes was settled and read back");
            assertTrue(writer.completed.get() < 1_000_000, ctx + ": the writer was still writing when killed");
            try (QedImage q = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
                CheckReport r = q.check(RepairMode.NONE);
                assertEquals(0, r.exitCode(), ctx + ": " + r);
            }
            Qedfs.Result qemu = Qedfs.run(List.of("qemu-img", "check", img.toString()));
            assertTrue(qemu.exit() == 0 || qemu.exit() == 3, ctx + ": no corruption for qemu-img check: " + qemu.all());
        }
    }

    /**
     * Writes slot after slot, pass after pass (slot order shuffled; the first pass allocates, later ones overwrite),
     * each write at a random offset in its slot with contents derived from the seed and the write's index; every
     * {@code ZERO_EVERY}th write is instead a fallocate punch-hole or zero-range of its range. fsyncs every
     * {@code syncEvery} writes and counts what completed and what was synced. Stops after {@code maxWrites}, or at
     * its first error: once {@link #stopping} was called (the server is about to go), an I/O error is what the
     * end of the mount looks like; any error before that, or of another kind, fails the test.
     */
    static final class Writer extends Thread {
        private static final int ZERO_EVERY = 7;
        final Path raw;
        final int syncEvery;
        final long seed;
        final int maxWrites;
        final AtomicInteger completed = new AtomicInteger();
        final AtomicInteger synced = new AtomicInteger();
        /** Set before the server is killed or stopped: errors from then on are expected. */
        private volatile boolean stopping;
        /** What ended the writer (null: it has not ended, or it finished every write). */
        volatile Throwable error;
        /** Whether {@link #error} happened after {@link #stopping}. */
        private volatile boolean errorExpected;
        private final int[] order;

        Writer(Path raw, int syncEvery, long seed, int maxWrites) throws Exception {
            super("crash-writer");
            this.raw = raw;
            this.syncEvery = syncEvery;
            this.seed = seed;
            this.maxWrites = maxWrites;
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
                for (int i = 0; i < maxWrites; i++) {
                    byte[] data = contents(i);
                    long pos = position(i);
                    if (isZeroing(i)) {
                        String how = i % 2 == 0 ? "-p" : "-z";
                        Qedfs.Result r = Qedfs.run(List.of("fallocate", how, "-o", Long.toString(pos), "-l",
                                Integer.toString(data.length), raw.toString()));
                        if (r.exit() != 0) {
                            throw new IOException("fallocate " + how + " of write " + i + " failed: " + r.all());
                        }
                    } else {
                        ByteBuffer b = ByteBuffer.wrap(data);
                        while (b.hasRemaining()) {
                            ch.write(b, pos + b.position());
                        }
                    }
                    completed.set(i + 1);
                    if ((i + 1) % syncEvery == 0) {
                        ch.force(false);
                        synced.set(i + 1);
                    }
                }
            } catch (Throwable e) {
                errorExpected = stopping && e instanceof IOException;
                error = e;
            }
        }

        /** Errors from now on are the server going away. */
        void stopping() {
            stopping = true;
        }

        /** Waits until {@code n} writes are synced; fails if the writer ends first (it got an error). */
        void awaitSynced(int n) throws InterruptedException {
            // a bound that only a hang reaches: a few hundred writes take seconds even on a loaded machine
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
            while (synced.get() < n) {
                if (!isAlive()) {
                    throw new AssertionError("the writer ended after " + completed.get() + " writes, " + synced.get()
                            + " synced, before the mount went away", error);
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the writer is stuck: " + completed.get() + " writes, " + synced.get() + " synced");
                }
                Thread.sleep(10);
            }
        }

        /** Waits for the writer to end, and fails on an error it was not expected to get. */
        void awaitEnd() throws InterruptedException {
            join(TimeUnit.SECONDS.toMillis(60));
            assertFalse(isAlive(), "the writer still hangs after the server went away");
            if (error != null && !errorExpected) {
                throw new AssertionError("the writer failed unexpectedly after " + completed.get() + " writes ("
                        + synced.get() + " synced)", error);
            }
        }

        boolean isZeroing(int i) {
            return i % ZERO_EVERY == ZERO_EVERY - 1;
        }

        int slot(int i) {
            return order[i % order.length];
        }

        long position(int i) {
            return (long) slot(i) * SLOT + new Random(seed * 31 + i).nextInt(4096);
        }

        byte[] contents(int i) {
            Random r = new Random(seed * 131 + i);
            byte[] b = new byte[1 + r.nextInt(SLOT - 4096)];
            if (!isZeroing(i)) {
                r.nextBytes(b);
            }
            return b;
        }

        /**
         * Every slot whose last write before {@code synced} was not followed by a write that may have landed
         * (index {@code synced} up to and including the one in flight at {@code completed}) reads back exactly
         * what the synced writes left over the backing file's contents (or zeroes). Returns the number of slots
         * verified that hold synced writes.
         */
        int verify(Path img, Path backing, int synced, int completed) throws Exception {
            int inFlight = Math.min(completed, maxWrites - 1);
            boolean[] unsettled = new boolean[order.length];
            for (int i = synced; i <= inFlight; i++) {
                unsettled[slot(i)] = true;
            }
            byte[][] model = new byte[order.length][];
            for (int i = 0; i < synced; i++) {
                int s = slot(i);
                if (model[s] == null) {
                    model[s] = initial(backing, s);
                }
                byte[] data = contents(i);
                System.arraycopy(data, 0, model[s], (int) (position(i) - (long) s * SLOT), data.length);
            }
            int verified = 0;
            try (QedImage q = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
                for (int s = 0; s < order.length; s++) {
                    if (unsettled[s]) {
                        continue;
                    }
                    byte[] want = model[s] == null ? initial(backing, s) : model[s];
                    ByteBuffer got = ByteBuffer.allocate(SLOT);
                    q.read((long) s * SLOT, got);
                    assertArrayEquals(want, got.array(), "slot " + s + ", " + synced + " writes synced (seed " + seed + ")");
                    if (model[s] != null) {
                        verified++;
                    }
                }
            }
            return verified;
        }

        /** Slot {@code s} before any write: the backing file's bytes there, zeroes past its end or without one. */
        private static byte[] initial(Path backing, int s) throws Exception {
            byte[] b = new byte[SLOT];
            if (backing != null) {
                try (FileChannel ch = FileChannel.open(backing, StandardOpenOption.READ)) {
                    ch.read(ByteBuffer.wrap(b), (long) s * SLOT);
                }
            }
            return b;
        }
    }
}
