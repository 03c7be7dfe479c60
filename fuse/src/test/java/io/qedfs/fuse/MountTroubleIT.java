package io.qedfs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The troubles the README's Troubleshooting section names, met for real: each says, on one line, what is
 * wrong and what to do. A stale mount (server and its auto_unmount helper both killed), a user without
 * access to /dev/fuse, and {@code mount -q}.
 */
@Timeout(180)
class MountTroubleIT extends MountTestBase {
    @Test
    void aStaleMountIsNamedAndUnmountRemovesIt() throws Exception {
        Path img = dir.resolve("disk.qed");
        Qedfs.ok(Qedfs.qedfs("create", "-q", img.toString(), "64M"), "create");
        long pid = Qedfs.mount(img.toString(), mnt.toString());
        ProcessHandle server = ProcessHandle.of(pid).orElseThrow();
        // the helper that would unmount after a crash goes first, so the crash leaves the mount behind
        server.children().forEach(ProcessHandle::destroyForcibly);
        server.destroyForcibly();
        Qedfs.waitExit(pid, 30);
        assertTrue(MountTable.isMountPoint(mnt), "still in the mount table");
        assertFalse(Files.isDirectory(mnt), "stat fails: transport endpoint is not connected");

        Qedfs.Result again = Qedfs.qedfs("mount", img.toString(), mnt.toString());
        assertEquals(1, again.exit(), again.all());
        assertEquals(1, again.err().lines().count(), again.err());
        assertTrue(again.err().contains(mnt + ": a stale mount") && again.err().contains("qedfs unmount " + mnt), again.err());

        // removed, and reported: the killed process never closed the image
        Qedfs.Result stale = Qedfs.qedfs("unmount", mnt.toString());
        assertEquals(1, stale.exit(), stale.all());
        assertTrue(stale.err().contains(mnt + ": removed a stale mount; its qedfs process " + pid + " had ended")
                && stale.err().lines().count() == 1, stale.err());
        assertFalse(MountTable.isMountPoint(mnt), "the stale mount is gone");
        Qedfs.Result quiet = Qedfs.ok(Qedfs.qedfs("mount", "-q", img.toString(), mnt.toString()), "mount -q");
        assertEquals("", quiet.out() + quiet.err(), "-q: nothing printed");
        assertTrue(Files.isRegularFile(mnt.resolve("disk.raw")));
        Qedfs.unmount(mnt);
        Qedfs.Result check = Qedfs.run(List.of("qemu-img", "check", img.toString()));
        assertEquals(0, check.exit(), check.all());
    }

    /** A machine without /dev/fuse, made for real: in a mount namespace of its own, /dev is a tmpfs without it. */
    @Test
    void noDevFuseSaysToLoadTheModule() throws Exception {
        assumeTrue(Qedfs.isRoot() && Qedfs.onPath("unshare"), "needs root and unshare for a /dev without fuse");
        Path img = dir.resolve("disk.qed");
        Qedfs.ok(Qedfs.qedfs("create", "-q", img.toString(), "64M"), "create");
        Path dev = Files.createDirectory(dir.resolve("dev"));
        String script = "mount -t tmpfs none " + dev + " && cp -a /dev/null /dev/zero /dev/random /dev/urandom " + dev
                + " && mount --bind " + dev + " /dev && java -jar " + Qedfs.jar().toAbsolutePath() + " mount " + img + " " + mnt;
        Qedfs.Result r = Qedfs.run(List.of("unshare", "-m", "--propagation", "private", "bash", "-c", script));
        assertEquals(1, r.exit(), r.all());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("qedfs: " + mnt + ": mount failed: /dev/fuse does not exist: load the module (modprobe fuse)"),
                r.err());
        assertTrue(r.err().contains("--device /dev/fuse"), r.err());
        assertFalse(MountTable.isMountPoint(mnt));
    }

    /**
     * A user who may not open /dev/fuse, made for real whatever this machine's /dev/fuse allows: in a mount
     * namespace of its own, /dev is a tmpfs whose fuse device is root's alone (0600). fusermount3 is setuid root,
     * yet opens the device with the user's own rights, so the mount fails and says why.
     */
    @Test
    void aUserWithoutAccessToDevFuseIsToldSo() throws Exception {
        assumeTrue(Qedfs.isRoot() && Qedfs.onPath("setpriv") && Qedfs.onPath("unshare"),
                "needs root (to become another user and make a /dev of its own), setpriv and unshare");
        // a directory the unprivileged user can reach (the test's own is private to root)
        Path shared = Files.createTempDirectory(Path.of("/tmp"), "qedfs-nobody-");
        try {
            Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
            Path img = shared.resolve("disk.qed");
            Qedfs.ok(Qedfs.qedfs("create", "-q", img.toString(), "64M"), "create");
            Files.setPosixFilePermissions(img, PosixFilePermissions.fromString("rw-rw-rw-"));
            Path mp = Files.createDirectory(shared.resolve("mnt"));
            Files.setPosixFilePermissions(mp, PosixFilePermissions.fromString("rwxrwxrwx"));
            // the build's own jar may sit below a directory only root can enter (a checkout in a private temp dir)
            Path jar = Files.copy(Qedfs.jar(), shared.resolve("qedfs.jar"));
            Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
            Path dev = Files.createDirectory(dir.resolve("dev"));
            String script = "mount -t tmpfs none " + dev + " && cp -a /dev/null /dev/zero /dev/random /dev/urandom " + dev
                    + " && mknod -m 0600 " + dev + "/fuse c 10 229 && mount --bind " + dev + " /dev"
                    + " && exec setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=" + shared
                    + " java -jar " + jar + " mount " + img + " " + mp;
            Qedfs.Result r = Qedfs.run(List.of("unshare", "-m", "--propagation", "private", "bash", "-c", script));
            assertEquals(1, r.exit(), r.all());
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().startsWith("qedfs: " + mp + ": mount failed: /dev/fuse: permission denied"), r.err());
            assertTrue(r.err().contains("failed to open /dev/fuse"), "libfuse's own words are kept: " + r.err());
            assertFalse(MountTable.isMountPoint(mp));
        } finally {
            Qedfs.sh("rm -rf " + shared);
        }
    }
}
