package io.qedfs.fuse;

import static io.qedfs.fuse.Qedfs.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.QedTools;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Through a real mount, a dirty image whose check is held (system property qedfs.test.holdCheck: the check waits
 * before its first L2 table until a file exists): {@code mount} returns while the check is held, so the image is
 * served before its check ends; the mount's record says the check runs; a write into allocated clusters and a
 * read are answered meanwhile, and a write that allocates is parked in the server until the check is let go.
 * {@code mount --check-before-ready} does not return while the check is held. An unmount during the check leaves
 * the image dirty and unrepaired (qemu-img check: its leaks, no corruption) with the in-place write in it.
 */
@Timeout(300)
class BackgroundCheckIT extends MountTestBase {
    private static final int CLUSTER = 64 << 10;
    private static final int DATA = 1 << 20;       // allocated at [0, 1 MiB)
    private static final long HOLE = 8L << 20;      // unallocated
    private static final int JUNK = 3 * CLUSTER;   // leaked clusters at the end of the file

    @Test
    void aDirtyImageIsServedWhileItsCheckRunsAndAllocatingWritesWait() throws Exception {
        Path img = dirtyImage();
        byte[] want = content(img);
        Path hold = dir.resolve("let-the-check-go");
        Path log = dir.resolve("mount.log");
        ok(mountHeld(hold, log, img.toString(), mnt.toString()), "mount");
        assertEquals("running", checkState(), "the check is held, and mount has returned: served before the check ended");
        assertTrue(MountIT.needCheck(img));

        byte[] inPlace = pattern(4096, 0x3c);
        writeAt(mnt.resolve("dirty.raw"), 100_000, inPlace);
        System.arraycopy(inPlace, 0, want, 100_000, inPlace.length);
        assertArrayEquals(Arrays.copyOf(want, DATA), readAt(mnt.resolve("dirty.raw"), 0, DATA), "reads during the check");

        Path block = dir.resolve("block");
        Files.write(block, pattern(CLUSTER, 0x5e));
        Process allocating = new ProcessBuilder("dd", "if=" + block, "of=" + mnt.resolve("dirty.raw"), "bs=" + CLUSTER,
                "seek=" + HOLE / CLUSTER, "count=1", "conv=notrunc,fsync", "status=none").redirectErrorStream(true).start();
        awaitWaitingInFuse(allocating);
        assertTrue(allocating.isAlive(), "the allocating write waits for the check");
        assertEquals("running", checkState());

        Files.createFile(hold);
        assertTrue(allocating.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, allocating.exitValue(), new String(allocating.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        System.arraycopy(pattern(CLUSTER, 0x5e), 0, want, (int) HOLE, CLUSTER);
        awaitCheckState("done");
        assertArrayEquals(want, readAt(mnt.resolve("dirty.raw"), 0, want.length));

        Qedfs.unmount(mnt);
        String logText = Files.readString(log);
        assertTrue(logText.contains("check of " + img + " started"), logText);
        assertTrue(logText.contains("reclaimed 3 leaked clusters"), logText);
        assertTrue(logText.contains("check of " + img + " ended after"), logText);
        assertEquals(0, Qedfs.run(List.of("qemu-img", "check", img.toString())).exit(), "repaired and clean");
        assertArrayEquals(want, content(img));
    }

    @Test
    void checkBeforeReadyWaitsForTheCheck() throws Exception {
        Path img = dirtyImage();
        byte[] want = content(img);
        Path hold = dir.resolve("let-the-check-go");
        Path log = dir.resolve("mount.log");
        Process mount = new ProcessBuilder(command(hold, log, "--check-before-ready", img.toString(), mnt.toString()))
                .redirectErrorStream(true).start();
        awaitLog(log, "held until");
        assertTrue(mount.isAlive(), "mount --check-before-ready returns only after the check");
        assertFalse(MountTable.isMountPoint(mnt), "nothing is mounted before the check ends");

        Files.createFile(hold);
        assertTrue(mount.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, mount.exitValue(), new String(mount.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        assertEquals("done", checkState());
        assertFalse(MountIT.needCheck(img), "repaired and marked clean before the mount was ready");
        assertArrayEquals(want, readAt(mnt.resolve("dirty.raw"), 0, want.length));
        Qedfs.unmount(mnt);
        assertEquals(0, Qedfs.run(List.of("qemu-img", "check", img.toString())).exit());
    }

    @Test
    void anUnmountDuringTheCheckStopsItAndLeavesTheImageDirtyAndUnrepaired() throws Exception {
        Path img = dirtyImage();
        long length = Files.size(img);
        byte[] want = content(img);
        Path log = dir.resolve("mount.log");
        ok(mountHeld(dir.resolve("never"), log, img.toString(), mnt.toString()), "mount");
        byte[] inPlace = pattern(8192, 0x71);
        writeAt(mnt.resolve("dirty.raw"), 300_000, inPlace);
        System.arraycopy(inPlace, 0, want, 300_000, inPlace.length);

        Qedfs.unmount(mnt);
        assertTrue(Files.readString(log).contains("stopped"), Files.readString(log));
        assertTrue(MountIT.needCheck(img), "still marked for a check");
        assertEquals(length, Files.size(img), "nothing reclaimed");
        Qedfs.Result check = Qedfs.run(List.of("qemu-img", "check", img.toString()));
        assertEquals(3, check.exit(), "leaks left, no corruption: " + check.all());
        assertTrue(check.all().contains("3 leaked clusters"), check.all());
        assertArrayEquals(want, content(img), "the write into allocated clusters is in the image");
    }

    /** A 16 MiB image with 1 MiB of data, three leaked clusters at its end, and NEED_CHECK set, as a crash leaves it. */
    private Path dirtyImage() throws Exception {
        Path img = dir.resolve("dirty.qed");
        QedTools.create(img, QedCreateOptions.ofSize(16 << 20));
        byte[] data = new byte[DATA];
        new Random(3).nextBytes(data);
        try (QedImage image = QedImage.open(img, QedOpenOptions.readWrite())) {
            image.write(0, ByteBuffer.wrap(data));
        }
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            MountIT.writeFully(ch, ch.size(), pattern(JUNK, 0x77));
        }
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.seek(16);
            long features = Long.reverseBytes(f.readLong());
            f.seek(16);
            f.writeLong(Long.reverseBytes(features | 2));
        }
        return img;
    }

    private static List<String> command(Path hold, Path log, String... args) {
        List<String> cmd = new ArrayList<>(List.of("java", "-Dqedfs.test.holdCheck=" + hold, "-jar", Qedfs.jar().toString(),
                "mount", "--log", log.toString()));
        cmd.addAll(Arrays.asList(args));
        return cmd;
    }

    private static Qedfs.Result mountHeld(Path hold, Path log, String... args) throws Exception {
        return Qedfs.run(command(hold, log, args));
    }

    /** The state the mount's record gives for dirty.raw's check. */
    private String checkState() throws Exception {
        MountTable.Entry e = MountTable.find(mnt).orElseThrow(() -> new AssertionError("not mounted: " + mnt));
        MountRecord.Contents c = MountRecord.read(ServerProcess.ownUid(), e.device()).orElseThrow(() -> new AssertionError("no record"));
        return c.checks().stream().filter(l -> l.endsWith(" dirty.raw")).map(l -> l.substring(0, l.indexOf(' ')))
                .findFirst().orElse("none");
    }

    private void awaitCheckState(String state) throws Exception {
        for (int i = 0; i < 1200 && !state.equals(checkState()); i++) {
            Thread.sleep(50);
        }
        assertEquals(state, checkState());
    }

    private static void awaitLog(Path log, String text) throws Exception {
        for (int i = 0; i < 1200; i++) {
            if (Files.exists(log) && Files.readString(log).contains(text)) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the log never said '" + text + "'");
    }

    /**
     * Returns once the process sleeps in the kernel waiting for a FUSE reply (its wchan names the wait), that is,
     * once its write has reached the server and is held there.
     */
    private static void awaitWaitingInFuse(Process p) throws Exception {
        Path wchan = Path.of("/proc", Long.toString(p.pid()), "wchan");
        String seen = "";
        for (int i = 0; i < 1200 && p.isAlive(); i++) {
            seen = Files.readString(wchan).trim();
            if (seen.contains("fuse") || seen.contains("request_wait_answer")) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("dd never waited for the FUSE server (alive " + p.isAlive() + ", wchan " + seen + ")");
    }

    private static byte[] pattern(int n, int fill) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) fill);
        return b;
    }

    private static void writeAt(Path file, long pos, byte[] data) throws Exception {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            MountIT.writeFully(ch, pos, data);
            ch.force(false);
        }
    }

    private static byte[] readAt(Path file, long pos, int len) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(len);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (b.hasRemaining()) {
                if (ch.read(b, pos + b.position()) < 0) {
                    throw new AssertionError("short read of " + file);
                }
            }
        }
        return b.array();
    }
}
