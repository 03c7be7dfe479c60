package io.qedfs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * mount(8) and /etc/fstab with the installed helper: {@code mount -t fuse.qedfs}, {@code mount -t qedfs} and
 * fstab lines (read from a file of the test's own with {@code mount -T}) mount, serve the image's content, and
 * {@code umount} leaves it flushed, clean and closed. mount(8) runs helpers from /sbin only: the helper
 * {@code make install} put in the test's prefix is laid over /usr/sbin in a mount namespace of the test's own
 * (an overlay), where every mount of the test happens, with a /run/mount of its own (mount(8)'s utab), so the
 * machine's /sbin, mount table and utab stay untouched.
 */
@Timeout(300)
class MountHelperIT {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    /** The install and the namespace are made once for the class: installing makes a class-data archive (seconds). */
    @TempDir
    static Path installed;
    private static Process namespace;
    @TempDir
    Path dir;
    private final List<Path> mountPoints = new ArrayList<>();

    @BeforeAll
    static void installAndMakeANamespace() throws Exception {
        Qedfs.assumeFuse();
        assumeTrue(Qedfs.isRoot(), "mount(8) runs helpers for root (and for fstab's user mounts)");
        assumeTrue(Qedfs.onPath("make") && Qedfs.onPath("unshare") && Qedfs.onPath("nsenter"), "make, unshare, nsenter");
        Path prefix = installed.resolve("prefix");
        Path jar = Qedfs.jar().toAbsolutePath();
        Qedfs.ok(Qedfs.sh("make -C " + ROOT + " --no-print-directory -o " + jar + " install JAR=" + jar + " COMPLETION="
                + installed.resolve("qedfs.bash-completion") + " PREFIX=" + prefix + " MOUNT_HELPER_DIR=" + prefix.resolve("sbin")), "make install");
        namespace = new ProcessBuilder("unshare", "--mount", "--propagation", "private", "sh", "-c",
                "mount -t overlay overlay -o lowerdir=" + prefix.resolve("sbin") + ":/usr/sbin /usr/sbin && mkdir -p /run/mount"
                        + " && mount -t tmpfs tmpfs /run/mount && echo ready && exec sleep 3600")
                .redirectErrorStream(true).start();
        String first = new BufferedReader(new InputStreamReader(namespace.getInputStream(), StandardCharsets.UTF_8)).readLine();
        assertEquals("ready", first, "a mount namespace with the helper in /usr/sbin");
    }

    @AfterEach
    void leaveNothingMounted() throws Exception {
        for (Path mp : mountPoints) {
            if (isMounted(mp)) {
                long pid = serverPid(mp);
                inside("umount", "-l", mp.toString());
                Qedfs.waitExit(pid, 60);
            }
        }
    }

    @AfterAll
    static void leaveTheNamespace() throws Exception {
        if (namespace != null) {
            namespace.destroy();
            namespace.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void mountTypeFuseQedfsReadOnlyServesTheImageAndUmountLeavesItClean() throws Exception {
        Path img = image("ro.qed", 1);
        String imageBefore = sha256(img);
        String expected = sha256(qemuView(img));
        Path mp = mountPoint("ro");

        Qedfs.Result mounted = inside("mount", "-t", "fuse.qedfs", img.toString(), mp.toString(), "-o", "ro,allow_other");
        assertEquals(0, mounted.exit(), mounted.all());
        assertEquals("", mounted.all(), "a mount helper says nothing when it works");
        String line = ok(inside("findmnt", "-n", "-o", "FSTYPE,SOURCE,OPTIONS", mp.toString())).out().strip();
        assertTrue(line.startsWith("fuse.qedfs " + img + " ro,"), "type, the image as source, read-only: " + line);
        assertTrue(line.contains("allow_other"), "FUSE options pass through: " + line);
        assertEquals(expected, ok(inside("sha256sum", mp.resolve("ro.raw").toString())).out().split(" ")[0],
                "the mount reads what qemu-img convert reads");
        Qedfs.Result write = inside("dd", "if=/dev/zero", "of=" + mp.resolve("ro.raw"), "bs=512", "count=1", "conv=notrunc");
        assertNotEquals(0, write.exit(), "ro: " + write.all());
        // ro is qedfs's read-only mount, not only the kernel's: the image is open for reading, which QEMU may share
        assertEquals("-r--r--r--", ok(inside("stat", "-c", "%A", mp.resolve("ro.raw").toString())).out().strip(), "no write bits");
        assertClean(img);

        umountAndWaitForTheServer(mp);
        assertEquals(imageBefore, sha256(img), "a read-only mount changes nothing");
        assertClean(img);
    }

    @Test
    void fstabLinesMountWithMountsOwnOptionsAndUmountFlushes() throws Exception {
        Path rw = image("rw.qed", 2);
        Path other = image("other.qed", 3);
        Path mpRw = mountPoint("rw");
        Path mpOther = mountPoint("other");
        Path log = dir.resolve("rw.log");
        Path fstab = dir.resolve("fstab");
        // options only mount(8) or systemd reads, a FUSE option and qedfs's own; `mount -t qedfs` is the short type
        Files.writeString(fstab, "# a test's own fstab\n"
                + rw + "\t" + mpRw + "\tfuse.qedfs\tnoauto,user,_netdev,nofail,x-systemd.device-timeout=10,comment=qedfs,"
                + "default_permissions,sync_writes,log=" + log + "\t0 0\n"
                + other + " " + mpOther + " qedfs defaults 0 0\n");

        ok(inside("mount", "-T", fstab.toString(), mpRw.toString()));
        String line = ok(inside("findmnt", "-n", "-o", "FSTYPE,SOURCE,OPTIONS", mpRw.toString())).out().strip();
        assertTrue(line.startsWith("fuse.qedfs " + rw + " rw,"), line);
        assertTrue(line.contains("nosuid") && line.contains("nodev") && line.contains("noexec"), "what `user` implies: " + line);
        ok(inside("mount", "-a", "-T", fstab.toString()));
        ok(inside("mount", "-a", "-T", fstab.toString()));
        assertEquals(1, ok(inside("findmnt", "-n", "-o", "TARGET", mpOther.toString())).out().lines().count(),
                "mount -a again sees the line mounted (the image is the mount's source) and mounts it once");
        assertEquals(sha256(qemuView(other)), ok(inside("sha256sum", mpOther.resolve("other.raw").toString())).out().split(" ")[0]);

        byte[] data = new byte[777_777];
        new Random(42).nextBytes(data);
        Path dataFile = Files.write(dir.resolve("data"), data);
        Path expected = qemuView(rw);
        try (var f = new java.io.RandomAccessFile(expected.toFile(), "rw")) {
            f.seek(4096L * 123);
            f.write(data);
        }
        ok(inside("dd", "if=" + dataFile, "of=" + mpRw.resolve("rw.raw"), "bs=4096", "seek=123", "conv=notrunc", "status=none"));
        assertEquals(sha256(expected), ok(inside("sha256sum", mpRw.resolve("rw.raw").toString())).out().split(" ")[0]);

        umountAndWaitForTheServer(mpRw);
        umountAndWaitForTheServer(mpOther);
        assertClean(rw);
        assertClean(other);
        assertFalse(MountIT.needCheck(rw), "marked clean");
        assertEquals(sha256(expected), sha256(qemuView(rw)), "what was written through the mount is in the image");
        assertTrue(Files.readString(log).contains("serving 1 image(s)"), "log=FILE is qedfs's --log");
    }

    /**
     * umount(8) returns only once the server has flushed, marked clean and closed the image, so that a script may
     * check or copy the image right after it. The server holds its close (qedfs.test.holdClose) until umount has
     * detached the mount and is still running a helper: an umount that does not wait for the server returns while
     * the image is still held, whatever the timing.
     */
    @Test
    void umountReturnsOnlyOnceTheImageIsFlushedAndClean() throws Exception {
        writeThenUmountWithTheCloseHeld("held", 5, 2000, List.of("mount", "-t", "fuse.qedfs"));
    }

    /**
     * Root's plain {@code umount} of a mount made by {@code qedfs mount} (not through mount(8)) waits as well: root's
     * umount(8) takes the type from statfs ("fuse") and runs umount.fuse.qedfs only because qedfs mount recorded the
     * mount in utab. The close is held as above; the entry goes with the mount.
     */
    @Test
    void rootsUmountOfAQedfsMountReturnsOnlyOnceTheImageIsClean() throws Exception {
        Path mp = writeThenUmountWithTheCloseHeld("plain", 7, 1000, List.of(qedfs(), "mount"));
        assertEquals(List.of(), utabAt(mp), "umount removed the mount's utab entry");
    }

    /**
     * Mounts NAME.qed (made with {@code seed}) with {@code mountCommand} and the server's close held, writes 3 MiB
     * through the raw file at 4 KiB block {@code seekBlocks}, then runs plain {@code umount}: it must return only
     * once the server has exited, the image clean and holding what was written. Returns the mountpoint.
     */
    private Path writeThenUmountWithTheCloseHeld(String name, int seed, long seekBlocks, List<String> mountCommand)
            throws Exception {
        Path img = image(name + ".qed", seed);
        Path mp = mountPoint(name);
        Path release = dir.resolve("release-the-close-of-" + name);
        List<String> mount = new ArrayList<>(List.of("env", "QEDFS_JAVA_OPTS=-Dqedfs.test.holdClose=" + release));
        mount.addAll(mountCommand);
        mount.addAll(List.of(img.toString(), mp.toString()));
        ok(inside(mount.toArray(String[]::new)));
        long server = serverPid(mp);
        byte[] data = new byte[3 << 20];
        new Random(seed).nextBytes(data);
        Path dataFile = Files.write(dir.resolve(name + "-data"), data);
        Path expected = qemuView(img);
        try (var f = new java.io.RandomAccessFile(expected.toFile(), "rw")) {
            f.seek(4096L * seekBlocks);
            f.write(data);
        }
        ok(inside("dd", "if=" + dataFile, "of=" + mp.resolve(name + ".raw"), "bs=4096", "seek=" + seekBlocks,
                "conv=notrunc", "status=none"));

        umountWithTheCloseHeld(List.of("umount", mp.toString()), mp, server, release);
        assertClean(img);
        assertFalse(MountIT.needCheck(img), "marked clean");
        assertEquals(sha256(expected), sha256(qemuView(img)), "what was written through the mount is in the image");
        return mp;
    }

    /**
     * The utab entry of a root {@code qedfs mount} lasts as long as the mount: {@code qedfs unmount} removes it, a
     * busy one that stays mounted keeps it, {@code mount -n} makes none, and one left by a mount ended otherwise
     * (SIGTERM) never gets in the way of a later mount there: the next qedfs mount replaces it, and a mount of
     * another file system that such an entry names is still unmounted by root's umount (umount.fuse.qedfs leaves
     * it to umount itself).
     */
    @Test
    void theUtabEntryOfAQedfsMountGoesWithTheMount() throws Exception {
        Path img = image("entry.qed", 8);
        Path mp = mountPoint("entry");
        ok(inside(qedfs(), "mount", img.toString(), mp.toString()));
        String source = ok(inside("findmnt", "-n", "-o", "SOURCE", mp.toString())).out().strip();
        assertEquals(List.of("SRC=" + source + " TARGET=" + mp + " ROOT=/ OPTS=helper=fuse.qedfs"), utabAt(mp));
        Process holder = new ProcessBuilder("nsenter", "--target", Long.toString(namespace.pid()), "--mount", "--",
                "sh", "-c", "exec 3< " + mp.resolve("entry.raw") + " && echo open && exec sleep 60").start();
        try {
            assertEquals("open", new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8)).readLine());
            assertEquals(2, inside(qedfs(), "unmount", mp.toString()).exit(), "busy");
            assertEquals(1, utabAt(mp).size(), "a mount that stays keeps its entry: " + utabAt(mp));
        } finally {
            holder.destroy();
            holder.waitFor(30, TimeUnit.SECONDS);
        }
        ok(inside(qedfs(), "unmount", mp.toString()));
        assertEquals(List.of(), utabAt(mp), "qedfs unmount removed the entry");

        ok(inside(qedfs(), "mount", img.toString(), mp.toString()));
        long killed = serverPid(mp);
        ok(Qedfs.run(List.of("kill", "-TERM", Long.toString(killed))));
        Qedfs.waitExit(killed, 60);
        assertFalse(isMounted(mp));
        ok(inside(qedfs(), "mount", img.toString(), mp.toString()));
        String again = ok(inside("findmnt", "-n", "-o", "SOURCE", mp.toString())).out().strip();
        assertEquals(List.of("SRC=" + again + " TARGET=" + mp + " ROOT=/ OPTS=helper=fuse.qedfs"), utabAt(mp),
                "the entry the ended mount left is replaced");
        umountAndWaitForTheServer(mp);
        assertEquals(List.of(), utabAt(mp));

        ok(inside("mount", "-n", "-t", "fuse.qedfs", img.toString(), mp.toString()));
        assertEquals(List.of(), utabAt(mp), "mount -n: no entry (the helper passes it on as --no-mtab)");
        ok(inside(qedfs(), "unmount", mp.toString()));

        ok(inside("mount", "-t", "tmpfs", "stale-source", mp.toString()));
        ok(inside("mount", "--fake", "-i", "-t", "fuse.qedfs", "-o", "helper=fuse.qedfs", "--", "stale-source", mp.toString()));
        Qedfs.Result umount = inside("umount", mp.toString());
        assertEquals(0, umount.exit(), "a tmpfs that a stale entry names is still unmounted: " + umount.all());
        assertFalse(isMounted(mp));
        assertClean(img);
    }

    /**
     * A user's fstab line ({@code user,noauto}): the user mounts it with {@code mount MOUNTPOINT} and unmounts it
     * with {@code umount MOUNTPOINT}, which runs the helper as that user and returns once the image is closed (the
     * close held as above). The user is a real second one; /dev/fuse and /etc/fstab are the namespace's own: a
     * 0666 node of the same device, as Debian's udev makes it (fusermount3 opens it with the user's rights),
     * and the test's fstab.
     */
    @Test
    void aUsersFstabMountEndsWithTheUsersUmountOnceTheImageIsClean() throws Exception {
        String user = "qedfs-umount" + ProcessHandle.current().pid() % 100_000;
        ok(Qedfs.run(List.of("useradd", "-M", "-s", "/bin/sh", user)));
        Path fstab = dir.resolve("fstab");
        Path fuse = dir.resolve("fuse");
        try {
            ok(Qedfs.run(List.of("chmod", "-R", "go+rX", installed.toString())));
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            Path home = Files.createDirectory(dir.resolve("home"));
            Path img = image("user.qed", 6);
            Path mp = mountPoint("user");
            Path release = dir.resolve("release-the-user-close");
            ok(Qedfs.run(List.of("chown", user, home.toString(), img.toString(), mp.toString())));
            Files.writeString(fstab, img + " " + mp + " fuse.qedfs user,noauto 0 0\n");
            bindUsersFuseAndFstab(fuse, fstab);

            List<String> asUser = List.of("runuser", "-u", user, "--", "env", "-i", "PATH=/usr/local/bin:/usr/bin:/bin",
                    "HOME=" + home, "QEDFS_JAVA_OPTS=-Dqedfs.test.holdClose=" + release);
            ok(inside(concat(asUser, "mount", mp.toString()).toArray(String[]::new)));
            String line = ok(inside("findmnt", "-n", "-o", "FSTYPE,SOURCE", mp.toString())).out().strip();
            assertEquals("fuse.qedfs " + img, line);
            long server = serverPid(mp);
            byte[] data = new byte[2 << 20];
            new Random(6).nextBytes(data);
            Path dataFile = Files.write(dir.resolve("user-data"), data);
            Path expected = qemuView(img);
            try (var f = new java.io.RandomAccessFile(expected.toFile(), "rw")) {
                f.seek(4096L * 3000);
                f.write(data);
            }
            ok(inside(concat(asUser, "dd", "if=" + dataFile, "of=" + mp.resolve("user.raw"), "bs=4096", "seek=3000",
                    "conv=notrunc", "status=none").toArray(String[]::new)));

            umountWithTheCloseHeld(concat(asUser, "umount", mp.toString()), mp, server, release);
            assertClean(img);
            assertFalse(MountIT.needCheck(img), "marked clean");
            assertEquals(sha256(expected), sha256(qemuView(img)), "what the user wrote through the mount is in the image");
        } finally {
            inside("umount", "/etc/fstab");
            inside("umount", "/dev/fuse");
            ok(Qedfs.run(List.of("userdel", user)));
        }
    }

    /**
     * umount(8) runs the helper for any user, leaving the check of who may unmount to it: a second user unmounts
     * the first one's mount of a {@code users} line (fstab's word for "anyone may unmount it"), and is refused the
     * mount of a {@code user} line with umount(8)'s own message; the first user's images close cleanly either way.
     */
    @Test
    void anotherUserUnmountsAUsersLineButNotAUserLine() throws Exception {
        long n = ProcessHandle.current().pid() % 100_000;
        String owner = "qedfs-owner" + n;
        String other = "qedfs-other" + n;
        ok(Qedfs.run(List.of("useradd", "-M", "-s", "/bin/sh", owner)));
        ok(Qedfs.run(List.of("useradd", "-M", "-s", "/bin/sh", other)));
        Path fstab = dir.resolve("fstab");
        try {
            ok(Qedfs.run(List.of("chmod", "-R", "go+rX", installed.toString())));
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            Path shared = image("shared.qed", 7);
            Path own = image("own.qed", 8);
            Path mpShared = mountPoint("shared");
            Path mpOwn = mountPoint("own");
            Path home = Files.createDirectory(dir.resolve("home"));
            ok(Qedfs.run(List.of("chown", owner, home.toString(), shared.toString(), own.toString(), mpShared.toString(),
                    mpOwn.toString())));
            Files.writeString(fstab, shared + " " + mpShared + " fuse.qedfs users,noauto 0 0\n"
                    + own + " " + mpOwn + " fuse.qedfs user,noauto 0 0\n");
            bindUsersFuseAndFstab(dir.resolve("fuse"), fstab);
            ok(inside(concat(as(owner), "mount", mpShared.toString()).toArray(String[]::new)));
            ok(inside(concat(as(owner), "mount", mpOwn.toString()).toArray(String[]::new)));
            long sharedServer = serverPid(mpShared);
            String expected = sha256(qemuView(shared));

            Qedfs.Result refused = inside(concat(as(other), "umount", mpOwn.toString()).toArray(String[]::new));
            assertEquals(32, refused.exit(), refused.all());
            assertEquals("umount: " + mpOwn + ": must be superuser to unmount.", refused.err().strip(),
                    "umount(8)'s own refusal, not qedfs's");
            assertTrue(isMounted(mpOwn), "another user's `user` mount stays");

            Qedfs.Result unmounted = inside(concat(as(other), "umount", mpShared.toString()).toArray(String[]::new));
            assertEquals(0, unmounted.exit(), unmounted.all());
            assertEquals("", unmounted.all());
            assertFalse(isMounted(mpShared), "a `users` line is anyone's to unmount");
            Qedfs.waitExit(sharedServer, 60);
            assertClean(shared);
            assertEquals(expected, sha256(qemuView(shared)));

            long ownServer = serverPid(mpOwn);
            ok(inside(concat(as(owner), "umount", mpOwn.toString()).toArray(String[]::new)));
            assertTrue(hasExited(ownServer), "the owner's umount waits for the server");
            assertClean(own);
        } finally {
            leaveNothingMounted(); // the owner's servers end before the owner is removed
            inside("umount", "/etc/fstab");
            inside("umount", "/dev/fuse");
            ok(Qedfs.run(List.of("userdel", owner)));
            ok(Qedfs.run(List.of("userdel", other)));
        }
    }

    /**
     * A value between double quotes is one value to libmount however many commas it holds, and so to the helper:
     * a log file named {@code x,allow_other} is a log file, not an allow_other mount; a FUSE option cannot take a
     * comma in its value, and is refused.
     */
    @Test
    void aQuotedOptionValueIsOneValue() throws Exception {
        Path img = image("quoted.qed", 9);
        Path mp = mountPoint("quoted");
        Path log = dir.resolve("x,allow_other");
        ok(inside("mount", "-t", "fuse.qedfs", img.toString(), mp.toString(), "-o", "ro,log=\"" + log + "\""));
        String options = ok(inside("findmnt", "-n", "-o", "OPTIONS", mp.toString())).out().strip();
        assertFalse(options.contains("allow_other"), options);
        assertTrue(options.startsWith("ro,"), options);
        assertTrue(Files.readString(log).contains("serving 1 image(s)"), "the whole quoted value is the log file");
        umountAndWaitForTheServer(mp);

        Qedfs.Result fuseComma = inside("mount", "-t", "fuse.qedfs", img.toString(), mp.toString(), "-o", "fsname=\"a,allow_other\"");
        assertEquals(1, fuseComma.exit(), fuseComma.all());
        assertTrue(fuseComma.err().startsWith("mount.fuse.qedfs: option 'fsname=a,allow_other': a FUSE option's value cannot hold a comma\n"),
                fuseComma.err());
        assertFalse(isMounted(mp));
        // mount(8) drops an option with an unbalanced quote itself: the helper, called directly, refuses it
        Qedfs.Result unbalanced = inside("/usr/sbin/mount.fuse.qedfs", img.toString(), mp.toString(), "-o", "log=\"" + log);
        assertEquals(1, unbalanced.exit(), unbalanced.all());
        assertTrue(unbalanced.err().contains("unbalanced double quote"), unbalanced.err());
        assertFalse(isMounted(mp));
        assertClean(img);
    }

    /**
     * Root's umount of a mount under a directory that someone else may rename (a user's home): while the helper's
     * JVM starts (held here with HotSpot's PauseAtStartup), the directory is renamed and a symlink to the directory
     * of another qedfs mount put in its place. The other mount stays: the helper acts on the mountpoint umount(8)
     * found, not on whatever its path leads to later.
     */
    @Test
    void rootsUmountDoesNotFollowAPathSwappedWhileItStarts() throws Exception {
        Path img = image("swapped.qed", 3);
        Path victimImg = image("victim.qed", 4);
        Path d = Files.createDirectory(dir.resolve("d"));
        Path mp = Files.createDirectory(d.resolve("mnt"));
        Path victimDir = Files.createDirectory(dir.resolve("v"));
        Path victim = Files.createDirectory(victimDir.resolve("mnt"));
        mountPoints.addAll(List.of(dir.resolve("d2").resolve("mnt"), mp, victim));
        ok(inside("mount", "-t", "fuse.qedfs", img.toString(), mp.toString()));
        ok(inside("mount", "-t", "fuse.qedfs", victimImg.toString(), victim.toString()));
        Path paused = dir.resolve("jvm-paused");
        Process umount = new ProcessBuilder("nsenter", "--target", Long.toString(namespace.pid()), "--mount", "--", "env",
                "QEDFS_JAVA_OPTS=-XX:+UnlockDiagnosticVMOptions -XX:+PauseAtStartup -XX:PauseAtStartupFile=" + paused,
                "umount", mp.toString()).redirectErrorStream(true).start();
        while (!Files.exists(paused)) {
            assertTrue(umount.isAlive(), () -> "umount ended before its helper's JVM started: " + output(umount));
            Thread.sleep(20);
        }
        Files.move(d, dir.resolve("d2"));
        Files.createSymbolicLink(d, victimDir);
        Files.delete(paused);
        assertTrue(umount.waitFor(120, TimeUnit.SECONDS), "umount returns");
        assertTrue(isMounted(victim), "the other mount stays: " + output(umount));
        assertEquals(sha256(qemuView(victimImg)), ok(inside("sha256sum", victim.resolve("victim.raw").toString())).out().split(" ")[0]);
    }

    @Test
    void aFailedMountSaysWhyWithMountsExitCodes() throws Exception {
        Path mp = mountPoint("bad");
        Path missing = dir.resolve("missing.qed");
        Qedfs.Result r = inside("mount", "-t", "fuse.qedfs", missing.toString(), mp.toString());
        assertEquals(32, r.exit(), "mount(8)'s mount failure: " + r.all());
        assertTrue(r.err().contains("missing.qed") && r.err().contains("no such file"), r.err());
        assertFalse(isMounted(mp));
        Qedfs.Result usage = inside("/usr/sbin/mount.fuse.qedfs", missing.toString());
        assertEquals(1, usage.exit(), "mount(8)'s bad usage: " + usage.all());
        assertTrue(usage.err().startsWith("mount.fuse.qedfs: missing IMAGE or MOUNTPOINT\n"), usage.err());
        Qedfs.Result badOption = inside("mount", "-t", "fuse.qedfs", image("o.qed", 4).toString(), mp.toString(), "-o", "check=sometimes");
        assertEquals(1, badOption.exit(), "a bad value of qedfs's own option is bad usage: " + badOption.all());
        assertTrue(badOption.err().contains("'sometimes' is not one of auto, always, never"), badOption.err());
        assertFalse(isMounted(mp));
    }

    /**
     * A umount helper whose qedfs is gone (moved or uninstalled, the helper left in /sbin) still lets root's
     * umount unmount a qedfs mount, saying that it does not wait, and the server still closes the image clean.
     * The helper made for a missing launcher is laid over /usr/sbin in a mount namespace inside the test's own.
     */
    @Test
    void aHelperWhoseQedfsIsGoneStillUnmountsAndSaysItDoesNotWait() throws Exception {
        Path img = image("orphan.qed", 8);
        Path expected = qemuView(img);
        Path mp = mountPoint("orphan");
        Path helpers = Files.createDirectory(dir.resolve("orphan-helpers"));
        Path helper = helpers.resolve("umount.fuse.qedfs");
        Files.writeString(helper, Files.readString(ROOT.resolve("fuse/src/main/sh/umount.fuse.qedfs.in"))
                .replace("@BIN@", dir.resolve("gone").toString()));
        Files.setPosixFilePermissions(helper, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        String script = "mount -t overlay overlay -o lowerdir=" + helpers + ":/usr/sbin /usr/sbin && " + qedfs() + " mount -q "
                + img + " " + mp + " && server=$(findmnt -n -o SOURCE " + mp + ") && umount " + mp + "; rc=$?; echo \"rc=$rc\";"
                + " i=0; while kill -0 ${server#qedfs:} 2> /dev/null && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done";
        Qedfs.Result r = inside("unshare", "--mount", "--propagation", "private", "sh", "-c", script);
        assertTrue(r.out().contains("rc=0"), "umount succeeded: " + r.all());
        assertEquals("umount.fuse.qedfs: " + dir.resolve("gone/qedfs") + " is missing: unmounting " + mp
                + " without waiting for its images to close\n", r.err());
        assertFalse(isMounted(mp));
        assertClean(img);
        assertFalse(MountIT.needCheck(img), "marked clean");
        assertEquals(sha256(expected), sha256(qemuView(img)), "the image holds what it held");
    }

    /** A QED image with data written by qemu-io (seeded), and a backing-free 64 MiB guest. */
    private Path image(String name, int seed) throws Exception {
        Path img = dir.resolve(name);
        Qedfs.ok(Qedfs.run(List.of("qemu-img", "create", "-q", "-f", "qed", img.toString(), "64M")), "create");
        Qedfs.ok(Qedfs.run(List.of("qemu-io", "-f", "qed", "-c", "write -P " + (0x30 + seed) + " " + (seed << 20) + " 1M",
                "-c", "write -P 0x7" + seed + " 40M 300k", img.toString())), "qemu-io");
        return img;
    }

    private Path mountPoint(String name) throws Exception {
        Path mp = Files.createDirectory(dir.resolve("mnt-" + name));
        mountPoints.add(mp);
        return mp;
    }

    /** The guest content as QEMU reads it, in a new raw file. */
    private Path qemuView(Path img) throws Exception {
        Path raw = Files.createTempFile(dir, img.getFileName() + ".", ".raw");
        Qedfs.ok(Qedfs.run(List.of("qemu-img", "convert", "-U", "-O", "raw", img.toString(), raw.toString())), "qemu-img convert");
        return raw;
    }

    /** umount(8), through umount.fuse.qedfs, returns once the server has flushed, marked the image clean and exited. */
    private void umountAndWaitForTheServer(Path mp) throws Exception {
        long pid = serverPid(mp);
        ok(inside("umount", mp.toString()));
        assertTrue(hasExited(pid), "the server has exited when umount returns");
        assertFalse(isMounted(mp));
    }

    /**
     * Runs {@code umount} in the namespace while the server holds its close (qedfs.test.holdClose) until umount has
     * detached the mount and still runs a helper; then the server must have exited when umount returns. An umount
     * that does not wait for the server returns while the image is still held, whatever the timing.
     */
    private static void umountWithTheCloseHeld(List<String> umountCmd, Path mp, long server, Path release) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("nsenter", "--target", Long.toString(namespace.pid()), "--mount", "--"));
        cmd.addAll(umountCmd);
        Process umount = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            while (!umount.waitFor(20, TimeUnit.MILLISECONDS)) {
                if (!Files.exists(release) && !isMounted(mp) && umount.toHandle().descendants()
                        .anyMatch(p -> p.info().commandLine().orElse("").contains("umount.fuse.qedfs"))) {
                    Files.createFile(release); // detached, and umount's helper is waiting for the server
                }
            }
            String said = new String(umount.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, umount.exitValue(), said);
            assertEquals("", said, "umount says nothing when it works");
            assertTrue(hasExited(server), "right after umount the server has closed the image and exited");
        } finally {
            if (!Files.exists(release)) {
                Files.createFile(release);
            }
            Qedfs.waitExit(server, 60);
        }
    }

    /**
     * In the namespace: a /dev/fuse any user may open (a 0666 node of the same device at {@code fuse}, as Debian's udev
     * makes it; fusermount3 opens it with the user's rights) and {@code fstab} as /etc/fstab.
     */
    private static void bindUsersFuseAndFstab(Path fuse, Path fstab) throws Exception {
        ok(inside("sh", "-c", "mknod " + fuse + " c $((0x$(stat -c %t /dev/fuse))) $((0x$(stat -c %T /dev/fuse)))"
                + " && chmod 666 " + fuse + " && mount --bind " + fuse + " /dev/fuse && mount --bind " + fstab + " /etc/fstab"));
    }

    /** The start of a command run as {@code user}, with a user's plain environment (HOME: the test's home). */
    private List<String> as(String user) {
        return List.of("runuser", "-u", user, "--", "env", "-i", "PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + dir.resolve("home"));
    }

    private static String output(Process p) {
        try {
            return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static List<String> concat(List<String> first, String... more) {
        List<String> all = new ArrayList<>(first);
        all.addAll(List.of(more));
        return all;
    }

    /** The launcher {@code make install} put in the test's prefix. */
    private static String qedfs() {
        return installed.resolve("prefix").resolve("bin").resolve("qedfs").toString();
    }

    /** The lines of the namespace's /run/mount/utab for the mountpoint {@code mp}. */
    private static List<String> utabAt(Path mp) throws Exception {
        String utab = ok(inside("sh", "-c", "cat /run/mount/utab 2> /dev/null; true")).out();
        return utab.lines().filter(l -> l.contains(" TARGET=" + mp + " ")).toList();
    }

    /** Whether process {@code pid} has ended: gone, or a zombie its new parent has not reaped yet. */
    private static boolean hasExited(long pid) throws Exception {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        try {
            String s = Files.readString(stat);
            return s.substring(s.lastIndexOf(')') + 2).startsWith("Z");
        } catch (java.nio.file.NoSuchFileException e) {
            return true;
        }
    }

    private static void assertClean(Path img) throws Exception {
        Qedfs.Result check = Qedfs.run(List.of("qemu-img", "check", img.toString()));
        assertEquals(0, check.exit(), check.all());
        assertTrue(check.out().contains("No errors were found on the image."), check.out());
    }

    /** The process serving the mount at {@code mp}, from the record qedfs keeps for the mount's device. */
    private static long serverPid(Path mp) throws Exception {
        MountInfo.Line line = mountLine(mp);
        return MountRecord.read(Math.max(0, line.ownerUid()), line.device()).orElseThrow(() -> new AssertionError("no record of " + line.device())).pid();
    }

    private static boolean isMounted(Path mp) throws Exception {
        return mountTable().stream().anyMatch(l -> l.isAt(MountTable.bytes(mp)));
    }

    private static MountInfo.Line mountLine(Path mp) throws Exception {
        return mountTable().stream().filter(l -> l.isAt(MountTable.bytes(mp))).reduce((a, b) -> b)
                .orElseThrow(() -> new AssertionError("not mounted: " + mp));
    }

    private static List<MountInfo.Line> mountTable() throws Exception {
        return MountInfo.parse(ok(inside("cat", "/proc/self/mountinfo")).out().getBytes(StandardCharsets.UTF_8));
    }

    /** Runs {@code cmd} in the test's mount namespace. */
    private static Qedfs.Result inside(String... cmd) throws Exception {
        List<String> all = new ArrayList<>(List.of("nsenter", "--target", Long.toString(namespace.pid()), "--mount", "--"));
        all.addAll(List.of(cmd));
        return Qedfs.run(all);
    }

    private static Qedfs.Result ok(Qedfs.Result r) {
        return Qedfs.ok(r, "command");
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (var in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0;) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
