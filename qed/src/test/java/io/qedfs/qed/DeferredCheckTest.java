package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qedfs.qed.host.FileIo;
import io.qedfs.qed.host.LibC;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The open-time check run in the background ({@link BackgroundCheck#run}): held after its first L2 table (a
 * progress listener that waits on a latch, not a sleep), while reads, in-place writes, allocating writes, zero
 * writes and a resize are issued. The writes that may go in place return while the check is held; the others are
 * seen parked until it is let go. The result, byte for byte, and the check's report must equal what a check
 * during the open followed by the same operations gives, on an image whose repair clears invalid L1 and L2 entries,
 * copies shared clusters (one written through its later reference during the scan), copies a cluster a data entry
 * shares with an L2 table, and reclaims leaks; qemu-img compare and check agree. A stop during the scan repairs
 * nothing and leaves the image dirty; a crash at any change of the repair loses no synced write.
 */
class DeferredCheckTest {
    private static final int C = 4096;
    private static final int TABLE = 2; // clusters per table: QEMU cannot open table_size 1
    private static final long SPAN = (TABLE * C / 8L) * C; // guest bytes one L2 table maps
    private static final long SIZE = 4 * SPAN;
    // guest clusters of the corrupt image (see corruptImage)
    private static final long A = 10;   // owner of a cluster that B shares
    private static final long B = 20;
    private static final long CC = 30;  // owner of a cluster that D shares
    private static final long D = SPAN / C + 188;  // in L2 table 1
    private static final long E = 40;   // entry past the end of the file
    private static final long F = 50;   // data entry pointing at L2 table 1
    private static final long BAD_L1_POS = 3 * SPAN + 76 * C; // L1[3] made equal to L1[2]

    @TempDir
    Path dir;

    /** One operation on the image, the same for the check during the open and the one in the background. */
    private record Op(String name, IoAction action) {
    }

    @FunctionalInterface
    private interface IoAction {
        void run(QedImage image) throws IOException;
    }

    private static Op write(String name, long pos, int len, int fill) {
        byte[] b = new byte[len];
        Arrays.fill(b, (byte) fill);
        return new Op(name, image -> image.write(pos, ByteBuffer.wrap(b)));
    }

    /** Writes that go in place during the scan: into clusters with one reference, an owner, a later reference. */
    private static List<Op> inPlace() {
        return List.of(
                write("owner A", A * C + 100, 300, 0xA1),
                write("later reference D", D * C + 1000, 500, 0xD2),
                write("single reference", 2 * C + 5, 3000, 0x24),
                write("two clusters", 4 * C + 4000, 200, 0x45));
    }

    /** Operations that must wait for the check: they change tables, or could make its repair differ. */
    private static List<Op> waiting() {
        return List.of(
                write("owner C after D wrote its cluster", CC * C + 10, 100, 0xC3),
                write("later reference B after A wrote its cluster", B * C + 2000, 100, 0xB5),
                write("allocating", 100 * C + 7, 5000, 0x66),
                new Op("discard", image -> image.discard(3 * C, C)),
                write("through an entry past the end", E * C + 1, 10, 0xE8),
                write("through an entry into a table", F * C, 10, 0xF9),
                write("under an L1 entry the check clears", BAD_L1_POS + 8, 16, 0x10),
                new Op("resize", image -> image.resize(SIZE + (1 << 20))));
    }

    /** Ranges read during the scan whose bytes a check during the open gives too. */
    private static final long[][] EXACT_READS = {{A * C, C}, {D * C, C}, {2 * C, C}, {4 * C, 2 * C}, {0, C}};

    @ParameterizedTest(name = "write-behind {0}")
    @ValueSource(booleans = {false, true})
    void operationsDuringTheCheckGiveWhatTheyGiveAfterIt(boolean writeBehind) throws Exception {
        Path original = corruptImage();
        Path fg = copy(original, "foreground.qed");
        Path bg = copy(original, "background.qed");
        QedOpenOptions options = QedOpenOptions.readWrite().withWriteBehind(writeBehind);

        List<byte[]> wantReads = new ArrayList<>();
        CheckReport wantReport;
        try (QedImage image = QedImage.open(fg, options)) {
            wantReport = image.openCheckReport().orElseThrow();
            for (Op op : inPlace()) {
                op.action().run(image);
            }
            for (long[] r : EXACT_READS) {
                wantReads.add(read(image, r[0], r[1]));
            }
            for (Op op : waiting()) {
                op.action().run(image);
            }
        }

        try (QedImage image = QedImage.open(bg, options.withDeferredCheck(true)); HeldCheck held = new HeldCheck()) {
            assertTrue(image.backgroundCheck().orElseThrow().pending());
            assertTrue(image.openCheckReport().isEmpty());
            CompletableFuture<CheckReport> check = held.start(image);
            Latches.awaitUninterruptibly(held.reached); // the scan has checked one table and is held
            for (Op op : inPlace()) {
                op.action().run(image); // returns while the check is held: it did not wait
            }
            for (int k = 0; k < EXACT_READS.length; k++) {
                assertArrayEquals(wantReads.get(k), read(image, EXACT_READS[k][0], EXACT_READS[k][1]),
                        "read during the check at " + EXACT_READS[k][0]);
            }
            IOException invalid = assertThrows(IOException.class, () -> read(image, E * C, C));
            assertTrue(invalid instanceof QedCorruptionException, invalid.toString());

            List<Parked> parked = new ArrayList<>();
            for (Op op : waiting()) {
                Parked p = Parked.start(op, image);
                p.assertWaiting();
                parked.add(p); // started one after another: they run after the check in this order or disjointly
            }
            assertTrue(image.backgroundCheck().orElseThrow().pending());
            assertFalse(check.isDone());
            for (Parked p : parked) {
                assertFalse(p.done().isDone(), p.op().name() + " finished during the check");
            }

            held.release.countDown();
            CheckReport report = check.get();
            for (Parked p : parked) {
                p.join();
            }
            assertFalse(image.backgroundCheck().orElseThrow().pending());
            assertEquals(wantReport, report, "the background check's report");
            assertEquals(report, image.openCheckReport().orElseThrow());
        }

        assertFalse(needsCheck(bg), "the repair and the close leave the image clean");
        try (QedImage a = QedImage.open(fg, QedOpenOptions.readOnlyOptions());
             QedImage b = QedImage.open(bg, QedOpenOptions.readOnlyOptions())) {
            assertEquals(a.size(), b.size());
            assertArrayEquals(read(a, 0, a.size()), read(b, 0, b.size()), "guest bytes against the check during the open");
            assertTrue(b.check(RepairMode.NONE).isClean(), b.check(RepairMode.NONE).toString());
        }
        if (Qemu.available()) {
            Qemu.Result same = Qemu.run("qemu-img", "compare", "-f", "qed", "-F", "qed", fg.toString(), bg.toString());
            assertEquals(0, same.exit(), same.out());
            Qemu.Result qb = Qemu.check(bg);
            assertEquals(Qemu.check(fg).exit(), qb.exit(), qb.out());
            assertTrue(qb.exit() == 0 || qb.exit() == 3, qb.out()); // 3: interior leaks punched, which QEMU still counts
        }
    }

    @Test
    void aStopDuringTheScanRepairsNothingAndFailsTheWaitingWrites() throws Exception {
        Path original = corruptImage();
        Path bg = copy(original, "stopped.qed");
        CheckReport before;
        try (QedImage image = QedImage.open(original, QedOpenOptions.readOnlyOptions())) {
            before = image.check(RepairMode.NONE);
        }
        assertTrue(before.corruptions() > 0 && before.leaks() > 0, before.toString());
        byte[] expected = Files.readAllBytes(original);
        long aCluster = entryValue(original, A);
        Arrays.fill(expected, (int) aCluster + 100, (int) aCluster + 400, (byte) 0xA1); // the in-place write

        QedImage image = QedImage.open(bg, QedOpenOptions.readWrite().withWriteBehind(true).withDeferredCheck(true));
        CompletableFuture<CheckReport> check;
        Parked allocating;
        try (HeldCheck held = new HeldCheck()) { // a failure here lets the check go: nothing hangs
            check = held.start(image);
            Latches.awaitUninterruptibly(held.reached);
            inPlace().get(0).action().run(image);
            allocating = Parked.start(waiting().get(2), image);
            allocating.assertWaiting();
            image.backgroundCheck().orElseThrow().stop();
        }
        assertEquals(null, check.get(), "a stopped check has no report");
        ExecutionException failed = assertThrows(ExecutionException.class, allocating::join);
        assertTrue(failed.getCause().getMessage().contains("before its check finished"), failed.getCause().toString());
        assertThrows(IOException.class, () -> image.discard(0, C), "tables may not change after a stop");
        image.close();

        assertArrayEquals(expected, Files.readAllBytes(bg), "only the in-place write changed the file");
        assertTrue(needsCheck(bg));
        try (QedImage again = QedImage.open(bg, QedOpenOptions.readOnlyOptions())) {
            CheckReport after = again.check(RepairMode.NONE);
            assertEquals(before.corruptions(), after.corruptions(), after.toString());
            assertEquals(before.leaks(), after.leaks(), after.toString());
        }
    }

    @Test
    void aCheckStoppedBeforeItRanNeverRuns() throws Exception {
        Path bg = copy(corruptImage(), "never.qed");
        byte[] before = Files.readAllBytes(bg);
        QedImage image = QedImage.open(bg, QedOpenOptions.readWrite().withDeferredCheck(true));
        image.close(); // stops the check nobody started
        assertTrue(image.backgroundCheck().orElseThrow().run(ProgressListener.NONE).isEmpty());
        assertArrayEquals(before, Files.readAllBytes(bg));
    }

    @Test
    void aCrashAtAnyChangeOfTheRepairLosesNoSyncedWrite() throws Exception {
        assumeTrue(LibC.get() != null, "no libc binding here: fallocate and hole punching cannot be recorded");
        Path live = copy(corruptImage(), "live.qed");
        RecordedFile file = new RecordedFile(live, dir.resolve("durable.qed"));
        Random rnd = new Random(42);
        List<Path> states = new ArrayList<>();
        byte[][] during;
        try (QedImage image = QedImage.open(live, QedOpenOptions.readWrite().withDeferredCheck(true), file);
             HeldCheck held = new HeldCheck()) {
            CompletableFuture<CheckReport> check = held.start(image);
            Latches.awaitUninterruptibly(held.reached);
            for (Op op : inPlace()) {
                op.action().run(image);
            }
            image.flush();
            during = clusters(image);
            file.onChange(f -> {
                for (int k = 0; k < 3; k++) {
                    Path state = dir.resolve("crash-" + states.size() + ".qed");
                    f.writeCrashState(rnd, state);
                    states.add(state);
                }
            });
            held.release.countDown();
            CheckReport report = check.get();
            assertTrue(report.corruptionsFixed() > 0 && report.leaksFixed() > 0, report.toString());
            file.onChange(f -> { });
        }
        byte[][] after;
        try (QedImage image = QedImage.open(live, QedOpenOptions.readOnlyOptions())) {
            after = clusters(image);
        }
        assertTrue(states.size() > 10, "crash points in the repair: " + states.size());
        for (Path state : states) {
            try (QedImage image = QedImage.open(state, QedOpenOptions.readWrite(), RecordedFile.withoutDiskFlushes())) {
                assertEquals(0, image.openCheckReport().map(CheckReport::corruptions).orElse(0L), state.toString());
                byte[][] got = clusters(image);
                for (int c = 0; c < got.length; c++) {
                    if (c == F) {
                        continue; // a data entry into a table reads table bytes, never guest data
                    }
                    // a crash may tear an unsynced write at 512 bytes: each sector reads as during or as after
                    for (int s = 0; s < C; s += 512) {
                        boolean asDuring = during[c] != null && Arrays.equals(during[c], s, s + 512, got[c], s, s + 512);
                        assertTrue(asDuring || Arrays.equals(after[c], s, s + 512, got[c], s, s + 512), state.getFileName()
                                + ": guest cluster " + c + " sector " + s / 512 + " reads neither as during the check nor as after it");
                    }
                }
            }
        }
    }

    /**
     * The check, run on a thread of its own, held after its first L2 table until {@link #release} opens; closing
     * opens it, so that a failed test's image can close (which waits for the check).
     */
    private static final class HeldCheck implements AutoCloseable {
        final CountDownLatch reached = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        CompletableFuture<CheckReport> start(QedImage image) {
            CompletableFuture<CheckReport> done = new CompletableFuture<>();
            Thread t = new Thread(() -> {
                try {
                    done.complete(image.backgroundCheck().orElseThrow().run((n, total) -> {
                        if (n == 1) {
                            reached.countDown();
                            Latches.awaitUninterruptibly(release);
                        }
                    }).orElse(null));
                } catch (Throwable e) {
                    reached.countDown();
                    done.completeExceptionally(e);
                }
            }, "test-check");
            t.setDaemon(true);
            t.start();
            return done;
        }

        @Override
        public void close() {
            release.countDown();
        }
    }

    /** An operation on a thread of its own, expected to wait for the check. */
    private record Parked(Op op, Thread thread, CompletableFuture<Void> done) {
        static Parked start(Op op, QedImage image) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            Thread t = new Thread(() -> {
                try {
                    op.action().run(image);
                    done.complete(null);
                } catch (Throwable e) {
                    done.completeExceptionally(e);
                }
            }, "test-" + op.name());
            t.setDaemon(true);
            t.start();
            return new Parked(op, t, done);
        }

        /** Returns once the thread is parked; fails if it finished instead (it did not wait for the check). */
        void assertWaiting() {
            Thread.State s;
            while ((s = thread.getState()) == Thread.State.NEW || s == Thread.State.RUNNABLE) {
                Thread.onSpinWait();
            }
            assertNotEquals(Thread.State.TERMINATED, s, op.name() + " did not wait for the check: " + done);
            assertFalse(done.isDone(), op.name() + " finished during the check");
        }

        void join() throws Exception {
            done.get();
        }
    }

    /**
     * A dirty image, 4 KiB clusters, table_size 2 (4 MiB per L2 table), four L2 tables, whose check finds: a cluster
     * shared by A and B, one shared by CC and D (D in another table), an entry past the end of the file (E), a data
     * entry pointing at an L2 table (F), L1 entry 3 pointing at L1 entry 2's table, and leaked clusters inside the
     * file and at its end.
     */
    /**
     * An open holds only the L1 entries the image size reaches (one sector, 64 entries, here): the scan reads the
     * rest from the file, and the repair clears the bad ones there, exactly as a check during the open does. L1[100]
     * points past the file end; L1[200] names L2 table 0 again, which L1[0] keeps. A resize afterwards reads them in.
     */
    @Test
    void entriesBeyondTheHeldL1AreCheckedAndRepairedInTheFile() throws Exception {
        Path original = dir.resolve("beyond.qed");
        QedTools.create(original, QedCreateOptions.ofSize(SIZE).withClusterSize(C).withTableSize(TABLE));
        byte[] data = new byte[C];
        new Random(11).nextBytes(data);
        try (QedImage image = QedImage.open(original, QedOpenOptions.readWrite())) {
            image.write(0, ByteBuffer.wrap(data));
        }
        try (FileChannel ch = FileChannel.open(original, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long l1 = getLong(ch, 40);
            putLong(ch, l1 + 100 * 8, ch.size() + 64L * C);
            putLong(ch, l1 + 200 * 8, getLong(ch, l1));
            putLong(ch, 16, getLong(ch, 16) | QedHeader.F_NEED_CHECK);
        }
        Path fg = copy(original, "beyond-foreground.qed");
        Path bg = copy(original, "beyond-background.qed");
        CheckReport want;
        try (QedImage image = QedImage.open(fg, QedOpenOptions.readWrite())) {
            want = image.openCheckReport().orElseThrow();
        }
        assertEquals(2, want.corruptionsFixed(), want.toString());
        try (QedImage image = QedImage.open(bg, QedOpenOptions.readWrite().withDeferredCheck(true))) {
            assertTrue(image.backgroundCheck().orElseThrow().pending());
            assertEquals(want, image.backgroundCheck().orElseThrow().run(ProgressListener.NONE).orElseThrow());
        }
        long grown = 201 * SPAN;
        for (Path p : List.of(fg, bg)) {
            try (QedImage image = QedImage.open(p, QedOpenOptions.readWrite())) {
                assertEquals(Optional.empty(), image.openCheckReport(), p + " was left clean");
                image.resize(grown);
                assertArrayEquals(data, read(image, 0, C), p.toString());
                assertArrayEquals(new byte[C], read(image, 100 * SPAN, C), p.toString());
                assertArrayEquals(new byte[C], read(image, 200 * SPAN, C), p.toString());
            }
        }
        if (Qemu.available()) {
            Qemu.Result same = Qemu.run("qemu-img", "compare", "-f", "qed", "-F", "qed", fg.toString(), bg.toString());
            assertEquals(0, same.exit(), same.out());
            Qemu.Result qb = Qemu.check(bg);
            assertEquals(0, qb.exit(), qb.out());
        }
    }

    private Path corruptImage() throws IOException {
        Path img = dir.resolve("corrupt.qed");
        QedTools.create(img, QedCreateOptions.ofSize(SIZE).withClusterSize(C).withTableSize(TABLE));
        Random rnd = new Random(7);
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite())) {
            for (long c : new long[] {0, 1, 2, 3, 4, 5, 6, 7, A, B, CC, E, F, D, 2 * SPAN / C + 76, 3 * SPAN / C + 5}) {
                byte[] data = new byte[C];
                rnd.nextBytes(data);
                image.write(c * C, ByteBuffer.wrap(data));
            }
        }
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long l1 = getLong(ch, 40);
            long end = ch.size();
            putLong(ch, slot(ch, B), getLong(ch, slot(ch, A)));
            putLong(ch, slot(ch, D), getLong(ch, slot(ch, CC)));
            putLong(ch, slot(ch, E), end + 64L * C);
            putLong(ch, slot(ch, F), getLong(ch, l1 + 8));
            putLong(ch, l1 + 3 * 8, getLong(ch, l1 + 2 * 8));
            byte[] junk = new byte[3 * C];
            Arrays.fill(junk, (byte) 0x77);
            FileIo.writeFully(ch, end, ByteBuffer.wrap(junk));
            putLong(ch, 16, getLong(ch, 16) | QedHeader.F_NEED_CHECK);
        }
        return img;
    }

    /** The file offset of guest cluster {@code c}'s L2 entry. */
    private static long slot(FileChannel ch, long c) throws IOException {
        long l1 = getLong(ch, 40);
        long table = getLong(ch, l1 + (c * C / SPAN) * 8);
        return table + (c % (SPAN / C)) * 8;
    }

    private static long entryValue(Path img, long c) throws IOException {
        try (FileChannel ch = FileChannel.open(img)) {
            return getLong(ch, slot(ch, c));
        }
    }

    private static long getLong(FileChannel ch, long at) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        FileIo.readFully(ch, at, b, "test image");
        return b.getLong(0);
    }

    private static void putLong(FileChannel ch, long at, long v) throws IOException {
        FileIo.writeFully(ch, at, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, v));
    }

    private Path copy(Path from, String name) throws IOException {
        return Files.copy(from, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }

    private static byte[] read(QedImage image, long pos, long len) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) len); // fits: test images are small
        image.read(pos, b);
        return b.array();
    }

    /** Every guest cluster's bytes, null where the read fails (an invalid entry). */
    private static byte[][] clusters(QedImage image) {
        byte[][] out = new byte[(int) (image.size() / C)][];
        for (int c = 0; c < out.length; c++) {
            try {
                out[c] = read(image, (long) c * C, C);
            } catch (IOException e) {
                out[c] = null;
            }
        }
        return out;
    }

    private static boolean needsCheck(Path img) throws IOException {
        try (FileChannel ch = FileChannel.open(img)) {
            return (getLong(ch, 16) & QedHeader.F_NEED_CHECK) != 0;
        }
    }
}
