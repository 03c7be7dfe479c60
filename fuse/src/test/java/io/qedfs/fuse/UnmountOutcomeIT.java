package io.qedfs.fuse;

import static io.qedfs.fuse.Qedfs.ok;
import static io.qedfs.fuse.Qedfs.sh;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.QedTools;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code qedfs unmount} says how the serving process ended, not only that it is gone: non-zero with the
 * server's error line when something acknowledged was not stored, and when the process was killed before it
 * had closed its images.
 */
@Timeout(180)
class UnmountOutcomeIT extends MountTestBase {

    /** A file-size limit makes the host refuse queued writes that the guest was already told were done. */
    @Test
    void aWriteLostAfterItsAcknowledgementFailsTheUnmountWithTheServersError() throws Exception {
        Path img = dir.resolve("d.qed");
        QedTools.create(img, QedCreateOptions.ofSize(8 << 20));
        Path pattern = dir.resolve("pat8");
        byte[] pat = new byte[8 << 20];
        new Random(8).nextBytes(pat);
        Files.write(pattern, pat);
        Path log = dir.resolve("log");
        // bash's ulimit -f counts KiB: the image file may not grow past 4 MiB, the server inherits the limit
        ok(sh("ulimit -f 4096 && java -jar " + Qedfs.jar().toAbsolutePath() + " mount -q --log " + log + " " + img + " " + mnt),
                "mount under ulimit -f");
        Qedfs.Result dd = sh("dd if=" + pattern + " of=" + mnt.resolve("d.raw") + " bs=1M conv=notrunc status=none");
        Qedfs.Result unmount = Qedfs.qedfs("unmount", mnt.toString());
        assertFalse(MountTable.isMountPoint(mnt), "unmounted all the same");

        Qedfs.Result cmp = Qedfs.run(List.of("qemu-img", "compare", "-f", "qed", "-F", "raw", img.toString(), pattern.toString()));
        assertEquals(1, cmp.exit(), "the image lacks part of the pattern (the loss this test is about): " + cmp.all()
                + "; dd: " + dd.all());
        assertEquals(1, unmount.exit(), "unmount reports the loss; dd exited " + dd.exit() + ": " + unmount.all());
        String err = unmount.err().strip();
        assertEquals(1, err.lines().count(), "one line: " + err);
        assertTrue(err.startsWith("qedfs: ") && err.contains(mnt.toString()) && err.contains(img.toString())
                && err.contains("File too large") && err.contains("acknowledged"), err);
        assertTrue(Files.readString(log).contains("File too large"), "the log says it too");
    }

    /**
     * The process is stopped, unmounted, then killed before it could close its images: unmount must not take
     * the vanished process for a clean end.
     */
    @Test
    void aServerKilledBeforeClosingItsImagesFailsTheUnmount() throws Exception {
        Path img = dir.resolve("d.qed");
        QedTools.create(img, QedCreateOptions.ofSize(32 << 20));
        long pid = Qedfs.mount(img.toString(), mnt.toString());
        byte[] data = new byte[4 << 20];
        new Random(4).nextBytes(data);
        Files.write(dir.resolve("data"), data);
        ok(sh("dd if=" + dir.resolve("data") + " of=" + mnt.resolve("d.raw") + " bs=1M conv=notrunc,fsync status=none"), "dd");
        ok(sh("kill -STOP " + pid), "kill -STOP");
        Process unmount = new ProcessBuilder("java", "-jar", Qedfs.jar().toString(), "unmount", mnt.toString())
                .redirectOutput(dir.resolve("out").toFile()).redirectError(dir.resolve("err").toFile()).start();
        assertTrue(Qedfs.waitUnmounted(mnt, 60), "fusermount -u detaches a stopped server's mount");
        assertTrue(unmount.isAlive(), "unmount waits for the process");
        ok(sh("kill -9 " + pid), "kill -9 while it has not closed its images");
        assertTrue(unmount.waitFor(60, TimeUnit.SECONDS), "unmount ends once the process is gone");
        String err = Files.readString(dir.resolve("err")).strip();
        assertEquals(1, unmount.exitValue(), err);
        assertEquals(1, err.lines().count(), "one line: " + err);
        assertTrue(err.contains(mnt + ": unmounted, but the qedfs process " + pid + " ended (killed?) before it had"
                + " closed its images"), err);

        // what was synced is there, and the next mount checks the image it left dirty
        Qedfs.mount("--check-before-ready", "--log", dir.resolve("relog").toString(), img.toString(), mnt.toString());
        Qedfs.unmount(mnt);
        assertTrue(Files.readString(dir.resolve("relog")).contains("check of"), "checked on the next mount");
        assertEquals(0, Qedfs.run(List.of("qemu-img", "check", img.toString())).exit());
        try (QedImage q = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            ByteBuffer got = ByteBuffer.allocate(data.length);
            q.read(0, got);
            assertArrayEquals(data, got.array(), "the fsync'd data");
        }
    }

    /**
     * The kernel frees a mount's device number when it unmounts, before the server has closed its images and
     * recorded how that went; a mount made meanwhile (here at the same path) usually gets the same number. The
     * first server's close is held (qedfs.test.holdClose) until the second mount is recorded: the first server's
     * outcome must reach the unmount that waits for it, and must not take the place of the second mount's record.
     */
    @Test
    void aMountThatGetsTheDeviceOfOneStillClosingUnmountsClean() throws Exception {
        Path first = dir.resolve("first.qed");
        Path second = dir.resolve("second.qed");
        QedTools.create(first, QedCreateOptions.ofSize(8 << 20));
        QedTools.create(second, QedCreateOptions.ofSize(8 << 20));
        Path release = dir.resolve("release-the-first-close");
        ok(Qedfs.run(List.of("java", "-Dqedfs.test.holdClose=" + release, "-jar", Qedfs.jar().toString(), "mount",
                first.toString(), mnt.toString())), "first mount");
        String firstDevice = MountTable.find(mnt).orElseThrow().device();
        byte[] one = new byte[1 << 20];
        new Random(11).nextBytes(one);
        Files.write(mnt.resolve("first.raw"), one, StandardOpenOption.WRITE);
        Process firstUnmount = new ProcessBuilder("java", "-jar", Qedfs.jar().toString(), "unmount", mnt.toString())
                .redirectOutput(dir.resolve("out1").toFile()).redirectError(dir.resolve("err1").toFile()).start();
        assertTrue(Qedfs.waitUnmounted(mnt, 60), "the kernel unmounts while the first server holds its close");
        assertTrue(firstUnmount.isAlive(), "unmount waits for the first server");

        long secondPid = Qedfs.mount(second.toString(), mnt.toString());
        String secondDevice = MountTable.find(mnt).orElseThrow().device();
        byte[] two = new byte[1 << 20];
        new Random(12).nextBytes(two);
        Files.write(mnt.resolve("second.raw"), two, StandardOpenOption.WRITE);
        Files.createFile(release);
        assertTrue(firstUnmount.waitFor(60, TimeUnit.SECONDS), "the first server ends once its close is released");
        assertEquals(0, firstUnmount.exitValue(), "the first server's clean end reaches its unmount: "
                + Files.readString(dir.resolve("err1")));

        Qedfs.Result r = Qedfs.qedfs("unmount", mnt.toString());
        assertEquals(0, r.exit(), "the second mount (device " + secondDevice + ", the first had " + firstDevice
                + ") is qedfs's and unmounts clean: " + r.all());
        Qedfs.waitExit(secondPid, 60);
        assertFalse(MountTable.isMountPoint(mnt));
        for (Path img : List.of(first, second)) {
            Qedfs.Result check = Qedfs.run(List.of("qemu-img", "check", img.toString()));
            assertEquals(0, check.exit(), img + ": " + check.all());
            assertFalse(MountIT.needCheck(img), img + " marked clean");
        }
        assertArrayEquals(one, Arrays.copyOf(content(first), one.length), "the first mount's write");
        assertArrayEquals(two, Arrays.copyOf(content(second), two.length), "the second mount's write");
        assumeTrue(secondDevice.equals(firstDevice), "another mount took the device number " + firstDevice
                + " meanwhile: the race this test is about was not met");
    }

    @Test
    void aCleanEndIsSilentAndLeavesNoRecord() throws Exception {
        Path img = dir.resolve("d.qed");
        QedTools.create(img, QedCreateOptions.ofSize(8 << 20));
        Qedfs.mount(img.toString(), mnt.toString());
        MountTable.Entry mounted = MountTable.find(mnt).orElseThrow();
        ok(sh("head -c 1M /dev/urandom | dd of=" + mnt.resolve("d.raw") + " bs=64k conv=notrunc status=none"), "write");
        Qedfs.Result r = Qedfs.ok(Qedfs.qedfs("unmount", mnt.toString()), "unmount");
        assertEquals("", r.all());
        assertFalse(Files.exists(MountRecord.fileFor(ServerProcess.ownUid(), mounted.device(), mounted.pid(),
                mounted.startTicks())), "unmount deletes the record it read");
        assertFalse(MountIT.needCheck(img), "closed cleanly");
    }
}
