package io.qedfs.fuse;

import static io.qedfs.fuse.Qedfs.ok;
import static io.qedfs.fuse.Qedfs.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedTools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The main job: mkfs.ext4 on the raw file, a loop mount, a tree of files copied in, then everything unmounted,
 * remounted read-only, and the files' checksums compared; the read-only mount changes no byte of the image.
 */
@Timeout(600)
class GuestFilesystemIT {
    @TempDir
    Path dir;

    @AfterEach
    void tearDown() throws Exception {
        if (dir != null) {
            Qedfs.cleanUp(dir);
        }
    }

    @Test
    void ext4OnALoopDeviceSurvivesUnmountAndReadOnlyRemount() throws Exception {
        Qedfs.assumeFuse();
        assumeTrue(Qedfs.isRoot(), "loop devices need root");
        assumeTrue(Qedfs.onPath("mkfs.ext4") && Qedfs.onPath("losetup"), "e2fsprogs / util-linux missing (make deps)");
        Path img = dir.resolve("guest.qed");
        QedTools.create(img, QedCreateOptions.ofSize(512L << 20));
        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        Path guest = Files.createDirectory(dir.resolve("guest"));
        Path tree = makeTree(Files.createDirectory(dir.resolve("tree")));

        Qedfs.mount("--log", dir.resolve("rw.log").toString(), img.toString(), mnt.toString());
        Path raw = mnt.resolve("guest.raw");
        ok(sh("mkfs.ext4 -q -F " + raw), "mkfs.ext4");
        ok(sh("mount -o loop " + raw + " " + guest), "loop mount");
        ok(sh("cp -a " + tree + "/. " + guest + "/ && sync"), "copy");
        String expected = ok(sh("cd " + tree + " && find . -type f | sort | xargs sha256sum"), "sums").out();
        ok(sh("umount " + guest), "umount guest");
        Qedfs.Result busy = Qedfs.qedfs("unmount", mnt.toString());
        assertEquals(0, busy.exit(), "loop device detached with the guest unmount: " + busy.all());
        assertEquals(0, Qedfs.run(List.of("qemu-img", "check", img.toString())).exit(), "qemu-img check after unmount");
        assertEquals(0, Qedfs.run(List.of("e2fsck", "-fn", qemuRaw(img).toString())).exit(), "e2fsck of the guest is clean");

        String before = ok(sh("sha256sum " + img), "sha").out();
        Qedfs.mount("-r", img.toString(), mnt.toString());
        assertEquals("-r--r--r--", ok(sh("stat -c %A " + raw), "stat").out().strip());
        ok(sh("mount -o loop,ro " + raw + " " + guest), "read-only loop mount");
        assertEquals(expected, ok(sh("cd " + guest + " && find . -type f -not -path './lost+found/*' | sort | xargs sha256sum"), "sums").out(),
                "every file's checksum survives unmount and read-only remount");
        Qedfs.Result write = sh("dd if=/dev/zero of=" + raw + " bs=4k count=1 conv=notrunc status=none");
        assertTrue(write.exit() != 0 && write.err().contains("Read-only file system"), write.all());
        ok(sh("umount " + guest), "umount guest");
        Qedfs.unmount(mnt);
        assertEquals(before, ok(sh("sha256sum " + img), "sha").out(), "a read-only mount leaves the image byte-for-byte unchanged");
    }

    @Test
    void busyMountIsReportedAndLeftMounted() throws Exception {
        Qedfs.assumeFuse();
        assumeTrue(Qedfs.isRoot(), "loop devices need root");
        Path img = dir.resolve("d.qed");
        QedTools.create(img, QedCreateOptions.ofSize(64 << 20));
        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        Qedfs.mount(img.toString(), mnt.toString());
        String loop = ok(sh("losetup -f --show " + mnt.resolve("d.raw")), "losetup").out().strip();
        try {
            Qedfs.Result busy = Qedfs.qedfs("unmount", mnt.toString());
            assertEquals(2, busy.exit(), busy.all());
            assertTrue(busy.err().contains("busy"), busy.err());
            assertTrue(MountTable.isMountPoint(mnt), "still mounted");
        } finally {
            ok(sh("losetup -d " + loop), "losetup -d");
        }
        for (int i = 0; i < 50 && Qedfs.qedfs("unmount", mnt.toString()).exit() != 0; i++) {
            Thread.sleep(100); // the loop device lets go asynchronously
        }
        assertTrue(Qedfs.waitUnmounted(mnt, 5));
    }

    private Path qemuRaw(Path img) throws Exception {
        Path raw = dir.resolve("check.raw");
        ok(Qedfs.run(List.of("qemu-img", "convert", "-f", "qed", "-O", "raw", img.toString(), raw.toString())), "convert");
        return raw;
    }

    /** About 300 files from a few bytes to a few MiB, in nested directories, with random contents. */
    private static Path makeTree(Path root) throws Exception {
        ok(sh("cd " + root + " && for d in $(seq 1 12); do mkdir -p d$d/sub; for f in $(seq 1 25); do "
                + "head -c $(( (RANDOM * 37 + f * 1013) % 300000 + 1 )) /dev/urandom > d$d/f$f; done; "
                + "head -c $(( d * 300000 )) /dev/urandom > d$d/sub/big; done"), "make tree");
        return root;
    }
}
