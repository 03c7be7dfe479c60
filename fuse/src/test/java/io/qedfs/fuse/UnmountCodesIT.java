package io.qedfs.fuse;

import static io.qedfs.fuse.Qedfs.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What a script learns from {@code qedfs unmount}, with guestunmount's codes: exit 3 when nothing is mounted,
 * exit 2 when the mount is busy, naming who uses it as {@code fuser -vm} would; and {@code mount -f --log} logging
 * where it is told to.
 */
@Timeout(300)
class UnmountCodesIT extends MountTestBase {
    @Test
    void nothingMountedExits3() throws Exception {
        Qedfs.Result r = Qedfs.qedfs("unmount", mnt.toString());
        assertEquals(3, r.exit(), r.all());
        assertEquals("qedfs: " + mnt + ": not mounted\n", r.err());
        Qedfs.Result gone = Qedfs.qedfs("unmount", dir.resolve("no/where").toString());
        assertEquals(3, gone.exit(), gone.all());
        assertEquals("qedfs: " + dir.resolve("no/where") + ": not mounted (no such directory)\n", gone.err());
    }

    /**
     * {@code qedfs unmount disk.qed} (the image, or a file of the mount, given for the mountpoint) is bad usage that
     * names the mount to unmount, and leaves it mounted; not "not mounted", which says the image is free.
     */
    @Test
    void anImageWhereTheMountpointBelongsIsBadUsageNamingItsMount() throws Exception {
        Path img = dir.resolve("my disk.qed");
        ok(Qedfs.qedfs("create", "-q", img.toString(), "64M"), "create");
        Qedfs.mount(img.toString(), mnt.toString());
        String unmountIt = "qedfs unmount " + (mnt.toString().contains(" ") ? "'" + mnt + "'" : mnt.toString());
        Qedfs.Result image = Qedfs.qedfs("unmount", img.toString());
        assertEquals(64, image.exit(), image.all());
        assertEquals("qedfs unmount: " + img + " is a file, not a mountpoint; the qedfs mount at " + mnt + " serves it: "
                + unmountIt + "\nTry 'qedfs unmount --help' for more information.\n", image.err());
        Path raw = mnt.resolve("my disk.raw");
        Qedfs.Result file = Qedfs.qedfs("unmount", raw.toString());
        assertEquals(64, file.exit(), file.all());
        assertEquals("qedfs unmount: " + raw + " is a file, not a mountpoint; it is a file of the qedfs mount at " + mnt + ": "
                + unmountIt + "\nTry 'qedfs unmount --help' for more information.\n", file.err());
        assertTrue(MountTable.isMountPoint(mnt), "still mounted");
        Qedfs.unmount(mnt);
        Qedfs.Result free = Qedfs.qedfs("unmount", img.toString());
        assertEquals(64, free.exit(), free.all());
        assertEquals("qedfs unmount: " + img + " is a file, not a mountpoint\nTry 'qedfs unmount --help' for more information.\n",
                free.err());
        ok(Qedfs.run(List.of("qemu-img", "check", img.toString())), "the image is clean and free");
    }

    @Test
    void aBusyMountExits2AndNamesTheProcessesUsingIt() throws Exception {
        Path img = dir.resolve("d.qed");
        ok(Qedfs.qedfs("create", "-q", img.toString(), "64M"), "create");
        Qedfs.mount(img.toString(), mnt.toString());
        // one process with the raw file open, one with its working directory in the mount
        Process reader = new ProcessBuilder("bash", "-c", "exec 3<" + mnt.resolve("d.raw") + " && exec sleep 300").start();
        Process inside = new ProcessBuilder("sleep", "300").directory(mnt.toFile()).start();
        try {
            waitForOpen(reader.pid(), mnt.resolve("d.raw"));
            Qedfs.Result busy = Qedfs.qedfs("unmount", mnt.toString());
            assertEquals(2, busy.exit(), busy.all());
            assertEquals(1, busy.err().lines().count(), busy.err());
            assertTrue(busy.err().startsWith("qedfs: " + mnt + ": the mount is busy, left mounted: "), busy.err());
            assertTrue(busy.err().contains("process " + reader.pid() + " (sleep) has d.raw open"), busy.err());
            assertTrue(busy.err().contains("process " + inside.pid() + " (sleep) has its working directory there"), busy.err());
            assertTrue(MountTable.isMountPoint(mnt), "still mounted");
        } finally {
            reader.destroy();
            inside.destroy();
            reader.waitFor(10, TimeUnit.SECONDS);
            inside.waitFor(10, TimeUnit.SECONDS);
        }
        Qedfs.unmount(mnt);
        assertEquals(3, Qedfs.qedfs("unmount", mnt.toString()).exit(), "and then it is not mounted");
    }

    @Test
    void aBusyMountNamesTheLoopDeviceOnIt() throws Exception {
        assumeTrue(Qedfs.isRoot(), "loop devices need root");
        Path img = dir.resolve("d.qed");
        ok(Qedfs.qedfs("create", "-q", img.toString(), "64M"), "create");
        Qedfs.mount(img.toString(), mnt.toString());
        String loop = ok(Qedfs.sh("losetup -f --show " + mnt.resolve("d.raw")), "losetup").out().strip();
        try {
            Qedfs.Result busy = Qedfs.qedfs("unmount", mnt.toString());
            assertEquals(2, busy.exit(), busy.all());
            assertTrue(busy.err().contains("loop device " + loop + " is attached to d.raw"), busy.err());
        } finally {
            ok(Qedfs.sh("losetup -d " + loop), "losetup -d");
        }
        for (int i = 0; i < 50 && Qedfs.qedfs("unmount", mnt.toString()).exit() != 0; i++) {
            Thread.sleep(100); // the loop device lets go asynchronously
        }
        assertFalse(MountTable.isMountPoint(mnt));
    }

    @Test
    void foregroundMountLogsToTheLogFile() throws Exception {
        Path img = dir.resolve("d.qed");
        ok(Qedfs.qedfs("create", "-q", img.toString(), "64M"), "create");
        Path log = dir.resolve("fg.log");
        Path err = dir.resolve("fg.err");
        Process server = new ProcessBuilder("java", "-jar", Qedfs.jar().toString(), "mount", "-f", "--log", log.toString(),
                img.toString(), mnt.toString()).redirectError(err.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            for (int i = 0; i < 1200 && !MountTable.find(mnt).map(MountTable.Entry::isServed).orElse(false); i++) {
                assertTrue(server.isAlive(), () -> "the server ended: " + read(err));
                Thread.sleep(50);
            }
            Qedfs.unmount(mnt);
            assertTrue(server.waitFor(60, TimeUnit.SECONDS), "the server exits after the unmount");
        } finally {
            server.destroy();
        }
        assertEquals(0, server.exitValue(), read(err));
        String text = read(log);
        assertTrue(text.contains("MountSession - serving 1 image(s) at " + mnt) && text.contains("every image flushed, marked clean and closed"),
                "the log file: " + text);
        assertEquals("", read(err), "nothing logged to stderr");
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "(no file " + p + ")";
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Waits until process {@code pid} has {@code file} open and runs sleep (its shell has run both lines). */
    private static void waitForOpen(long pid, Path file) throws Exception {
        for (int i = 0; i < 200; i++) {
            if (!Files.readString(Path.of("/proc/" + pid + "/comm")).strip().equals("sleep")) {
                Thread.sleep(50);
                continue;
            }
            try (var fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
                if (fds.anyMatch(fd -> {
                    try {
                        return Files.readSymbolicLink(fd).equals(file);
                    } catch (java.io.IOException e) {
                        return false;
                    }
                })) {
                    return;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("process " + pid + " never opened " + file);
    }
}
