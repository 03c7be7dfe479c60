package io.qedfs.fuse;

import static io.qedfs.fuse.Qedfs.ok;
import static io.qedfs.fuse.Qedfs.qedfs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Attacks on qedfs by a second local user, with real mounts: root serves images with {@code allow_other}, and a
 * user created for this test (useradd -M, removed after) tries to write and read what the image files do not let
 * them, and to make qedfs read files out of the image owner's reach through backing file names. Each attack must
 * be refused (with the refusal asserted) or harmless; legitimate chains must still read their data byte for byte.
 * Root only: it creates a user and mounts for others.
 */
@Timeout(600)
class SecurityIT extends MountTestBase {
    private static final int SIZE = 1 << 20;
    private static final byte[] SECRET = pattern(SIZE, 0x5e);
    private static String user;
    private static Path jarDir; // the jar where the second user may run it

    @BeforeAll
    static void createUser() throws Exception {
        assumeTrue(Qedfs.isRoot(), "needs root: creates a second local user and mounts with allow_other");
        Qedfs.assumeFuse();
        user = "qedfs-it" + ProcessHandle.current().pid() % 100_000;
        ok(Qedfs.run(List.of("useradd", "-M", "-s", "/bin/sh", user)), "useradd " + user);
        jarDir = Files.createTempDirectory("qedfs-sec-jar");
        Files.setPosixFilePermissions(jarDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.copy(Qedfs.jar(), jarDir.resolve("qedfs.jar"));
        Files.setPosixFilePermissions(jarDir.resolve("qedfs.jar"), PosixFilePermissions.fromString("rw-r--r--"));
    }

    @AfterAll
    static void removeUser() throws Exception {
        if (user != null) {
            ok(Qedfs.run(List.of("userdel", user)), "userdel " + user);
        }
        if (jarDir != null) {
            Files.deleteIfExists(jarDir.resolve("qedfs.jar"));
            Files.deleteIfExists(jarDir);
        }
    }

    /** The test directory is where the second user works too. */
    @BeforeEach
    void openTheDirectoryToOthers() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(mnt, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void aSharedMountGrantsNobodyMoreThanTheImageFileDoes() throws Exception {
        Path images = Files.createDirectory(dir.resolve("images"));
        Path open = image(images.resolve("open.qed"), "root", "rw-r--r--", 0x11);
        Path closed = image(images.resolve("private.qed"), "root", "rw-------", 0x22);
        Path own = image(images.resolve("own.qed"), user, "rw-------", 0x33);
        FileTime mountPointTime = Files.getLastModifiedTime(mnt);
        Qedfs.mount("-o", "allow_other", images.toString(), mnt.toString());
        try {
            // another user's 0644 image: readable, not writable
            assertDenied(as("dd", "if=/dev/zero", "of=" + mnt.resolve("open.raw"), "bs=4096", "count=1", "conv=notrunc"));
            assertEquals(sha256(pattern(SIZE, 0x11)), sha256Of(as("sha256sum", mnt.resolve("open.raw").toString())));
            // another user's 0600 image: neither
            assertDenied(as("cat", mnt.resolve("private.raw").toString()));
            assertDenied(as("dd", "if=/dev/zero", "of=" + mnt.resolve("private.raw"), "bs=4096", "count=1", "conv=notrunc"));
            assertDenied(as("truncate", "-s", "2M", mnt.resolve("private.raw").toString()));
            // one's own image: both
            ok(as("dd", "if=/dev/zero", "of=" + mnt.resolve("own.raw"), "bs=4096", "count=1", "conv=notrunc,fsync"), "own write");
            byte[] ownAfter = pattern(SIZE, 0x33);
            Arrays.fill(ownAfter, 0, 4096, (byte) 0);
            assertEquals(sha256(ownAfter), sha256Of(as("sha256sum", mnt.resolve("own.raw").toString())));

            Map<String, Object> root = Files.readAttributes(mnt, "unix:mode,uid,gid,lastModifiedTime");
            assertEquals(040755, root.get("mode"), "the mountpoint keeps its mode");
            assertEquals(mountPointTime, root.get("lastModifiedTime"), "and its times (not 1970-01-01)");
            assertEquals("-rw-r--r-- root", modeAndOwner(mnt.resolve("open.raw")));
            assertEquals("-rw------- root", modeAndOwner(mnt.resolve("private.raw")));
            assertEquals("-rw------- " + user, modeAndOwner(mnt.resolve("own.raw")));

            // the owner (root here) cannot change a raw file's mode or owner: it follows the image file
            Qedfs.Result chmod = Qedfs.run(List.of("chmod", "666", mnt.resolve("private.raw").toString()));
            assertTrue(chmod.exit() != 0 && chmod.err().contains("Operation not permitted"), chmod.all());
            Qedfs.Result chown = Qedfs.run(List.of("chown", user, mnt.resolve("private.raw").toString()));
            assertTrue(chown.exit() != 0 && chown.err().contains("Operation not permitted"), chown.all());
            assertDenied(as("chmod", "666", mnt.resolve("open.raw").toString()));
        } finally {
            Qedfs.unmount(mnt);
        }
        assertContent(open, pattern(SIZE, 0x11));
        assertContent(closed, pattern(SIZE, 0x22));
        byte[] ownAfter = pattern(SIZE, 0x33);
        Arrays.fill(ownAfter, 0, 4096, (byte) 0);
        assertContent(own, ownAfter);
    }

    @Test
    void readOnlyFilesLoseWriteBitsAndABackingFileNarrowsWhoReads() throws Exception {
        // the second user's image at 0644 over the second user's raw file at 0600 in another directory
        Path baseDir = userDir("base");
        Path base = baseDir.resolve("base.raw");
        Files.write(base, SECRET);
        chownAndChmod(base, user, "rw-------");
        Path topDir = userDir("top");
        Path top = topDir.resolve("top.qed");
        ok(Qedfs.run(List.of("qemu-img", "create", "-q", "-f", "qed", "-b", base.toString(), "-F", "raw", top.toString())), "create");
        chownAndChmod(top, user, "rw-r--r--");
        Qedfs.mount("-r", "-o", "allow_other", top.toString(), mnt.toString());
        try {
            assertEquals("-r-------- " + user, modeAndOwner(mnt.resolve("top.raw")),
                    "read-only, and nobody else may read what the 0600 backing file holds");
            assertEquals(sha256(SECRET), sha256Of(as("sha256sum", mnt.resolve("top.raw").toString())), "the owner reads it");
            assertDenied(Qedfs.run(List.of("runuser", "-u", "nobody", "--", "cat", mnt.resolve("top.raw").toString())));
        } finally {
            Qedfs.unmount(mnt);
        }
    }

    @Test
    void legitimateChainsStillReadTheirData() throws Exception {
        // root's image naming root's QED base by a relative name into another directory, over a raw file by an
        // absolute one; and the second user's image over the second user's QED image elsewhere
        Path rootBase = Files.createDirectory(dir.resolve("root-base")).resolve("base.raw");
        Files.write(rootBase, SECRET);
        Path middle = dir.resolve("root-base").resolve("middle.qed");
        ok(Qedfs.run(List.of("qemu-img", "create", "-q", "-f", "qed", "-b", rootBase.toString(), "-F", "raw", middle.toString())), "create");
        ok(Qedfs.run(List.of("qemu-io", "-c", "write -P 0x44 64k 64k", middle.toString())), "qemu-io");
        Path rootTop = Files.createDirectory(dir.resolve("root-top")).resolve("top.qed");
        ok(Qedfs.run(List.of("qemu-img", "create", "-q", "-f", "qed", "-b", "../root-base/middle.qed", "-F", "qed",
                rootTop.toString())), "create");
        byte[] expected = SECRET.clone();
        Arrays.fill(expected, 65536, 131072, (byte) 0x44);

        Path userBase = userDir("ubase").resolve("base.qed");
        ok(Qedfs.run(List.of("qemu-img", "create", "-q", "-f", "qed", userBase.toString(), Integer.toString(SIZE))), "create");
        ok(Qedfs.run(List.of("qemu-io", "-c", "write -P 0x66 0 128k", userBase.toString())), "qemu-io");
        chownAndChmod(userBase, user, "rw-------");
        Path userTop = userDir("utop").resolve("top.qed");
        ok(Qedfs.run(List.of("qemu-img", "create", "-q", "-f", "qed", "-b", userBase.toString(), "-F", "qed", userTop.toString())), "create");
        chownAndChmod(userTop, user, "rw-------");
        byte[] userExpected = new byte[SIZE];
        Arrays.fill(userExpected, 0, 131072, (byte) 0x66);

        Qedfs.mount("-r", "-o", "allow_other", rootTop.toString(), mnt.toString());
        try {
            assertArrayEquals(expected, Files.readAllBytes(mnt.resolve("top.raw")));
        } finally {
            Qedfs.unmount(mnt);
        }
        Path userMount = Files.createDirectory(dir.resolve("mnt2"));
        Qedfs.mount("-r", "-o", "allow_other", userTop.toString(), userMount.toString());
        try {
            assertArrayEquals(userExpected, Files.readAllBytes(userMount.resolve("top.raw")));
            assertEquals(sha256(userExpected), sha256Of(as("sha256sum", userMount.resolve("top.raw").toString())));
        } finally {
            Qedfs.unmount(userMount);
        }
        String info = ok(qedfs("info", userTop.toString()), "info").out();
        assertTrue(info.contains("owner: " + user + " (uid "), info);
        assertTrue(info.contains("backing chain:\n    " + userBase.toRealPath() + ": qed, owner " + user + " (uid "), info);
    }

    /**
     * Backing names in an image of the second user that reach what that user could not read, or what is no disk:
     * every command refuses them with one line naming the image, the backing file and why, and mounts nothing.
     */
    @Test
    void backingNamesBeyondTheOwnersReachAreRefused() throws Exception {
        Path rootOnly = Files.createDirectory(dir.resolve("rootonly"));
        Files.setPosixFilePermissions(rootOnly, PosixFilePermissions.fromString("rwx------"));
        Path secret = rootOnly.resolve("secret.raw");
        Files.write(secret, SECRET);
        Path shared = Files.createDirectory(dir.resolve("shared"));
        Path closedFile = shared.resolve("closed.raw");
        Files.write(closedFile, SECRET);
        Files.setPosixFilePermissions(closedFile, PosixFilePermissions.fromString("rw-------"));
        Path home = userDir("home");
        Path fifo = home.resolve("fifo");
        ok(Qedfs.run(List.of("mkfifo", fifo.toString())), "mkfifo");
        Path aDir = Files.createDirectory(home.resolve("adir"));
        Path link = Files.createSymbolicLink(home.resolve("link"), secret);
        for (Path p : List.of(fifo, aDir, link)) {
            Files.setOwner(p, principal(user));
        }
        String searchRootOnly = "may not search its directory " + rootOnly + " (drwx------ root root)";
        Map<String, String> cases = new LinkedHashMap<>(); // backing name -> what the refusal says
        cases.put(secret.toString(), "backing file " + secret + " refused: " + user + " (uid ");
        cases.put(closedFile.toString(), "may not read it (-rw------- root root); add --trust-backing to open it anyway");
        cases.put("link", "backing file " + link + " (that is " + secret + ") refused");
        cases.put("../rootonly/secret.raw", "(that is " + secret + ") refused");
        cases.put("adir", "backing file " + aDir + " is a directory, not a regular file");
        cases.put("/dev/zero", "backing file /dev/zero is a character device, not a regular file");
        cases.put("fifo", "backing file " + fifo + " is a FIFO (named pipe), not a regular file");
        int n = 0;
        for (Map.Entry<String, String> c : cases.entrySet()) {
            Path evil = home.resolve("evil" + n++ + ".qed");
            ok(Qedfs.run(List.of("qemu-img", "create", "-q", "-f", "qed", "-u", "-b", c.getKey(), "-F", "raw", evil.toString(),
                    Integer.toString(SIZE))), "create");
            Files.setOwner(evil, principal(user));
            Qedfs.Result r = qedfs("mount", "-r", "-o", "allow_other", evil.toString(), mnt.toString());
            assertRefused(r, evil, c.getValue());
            assertFalse(MountTable.isMountPoint(mnt), "nothing mounted for " + c.getKey());
            if (c.getKey().startsWith("..") || c.getKey().equals(secret.toString())) {
                assertTrue(r.err().contains(searchRootOnly), r.err());
            }
        }

        // every command that opens backing files, on the link to root's file
        Path evil = home.resolve("linked.qed");
        ok(Qedfs.run(List.of("qemu-img", "create", "-q", "-f", "qed", "-b", link.toString(), "-F", "raw", evil.toString())), "create");
        Files.setOwner(evil, principal(user));
        String sha = sha256(Files.readAllBytes(evil));
        String refusal = "(that is " + secret + ") refused: " + user + " (uid ";
        List<List<String>> commands = List.of(List.of("info"), List.of("info", "--backing-chain"), List.of("map"),
                List.of("check"), List.of("check", "-r", "all"), List.of("convert", "-O", "raw"), List.of("compact"),
                List.of("commit"), List.of("rebase", "-b", ""), List.of("resize"));
        for (List<String> command : commands) {
            List<String> args = new ArrayList<>(command);
            args.add(evil.toString());
            if (command.get(0).equals("convert")) {
                args.add(dir.resolve("out.raw").toString());
            } else if (command.get(0).equals("resize")) {
                args.add("2M");
            }
            assertRefused(qedfs(args.toArray(String[]::new)), evil, refusal);
        }
        assertEquals(sha, sha256(Files.readAllBytes(evil)), "the image is unchanged");
        assertFalse(Files.exists(dir.resolve("out.raw")));

        // root allows it deliberately: then the image reads the file it names
        ok(qedfs("mount", "-r", "--trust-backing", evil.toString(), mnt.toString()), "mount --trust-backing");
        try {
            assertArrayEquals(SECRET, Files.readAllBytes(mnt.resolve("linked.raw")));
        } finally {
            Qedfs.unmount(mnt);
        }
    }

    /** A commit writes into the overlay's backing file: only into one the overlay's owner could write. */
    @Test
    void commitWritesOnlyWhereTheOverlaysOwnerCould() throws Exception {
        Path target = Files.createDirectory(dir.resolve("etc")).resolve("passwd");
        Files.write(target, SECRET);
        Path overlay = userDir("ovl").resolve("ovl.qed");
        ok(Qedfs.run(List.of("qemu-img", "create", "-q", "-f", "qed", "-b", target.toString(), "-F", "raw", overlay.toString())), "create");
        ok(Qedfs.run(List.of("qemu-io", "-c", "write -P 0x66 0 64k", overlay.toString())), "qemu-io");
        Files.setOwner(overlay, principal(user));
        assertRefused(qedfs("commit", overlay.toString()), overlay,
                "commit into backing file " + target + " refused: " + user + " (uid ");
        assertArrayEquals(SECRET, Files.readAllBytes(target), "the backing file is unchanged");
    }

    /** A block device is a backing file only when asked for, and then reads as the device. */
    @Test
    void aBlockDeviceIsABackingFileOnlyWithTrustBacking() throws Exception {
        Path backingFile = dir.resolve("device.img");
        Files.write(backingFile, SECRET);
        String loop = ok(Qedfs.run(List.of("losetup", "-f", "--show", "-r", backingFile.toString())), "losetup").out().strip();
        try {
            Path top = dir.resolve("on-device.qed");
            ok(Qedfs.run(List.of("qemu-img", "create", "-q", "-f", "qed", "-b", loop, "-F", "raw", top.toString())), "create");
            assertRefused(qedfs("mount", "-r", top.toString(), mnt.toString()), top,
                    "backing file " + loop + " is a block device; add --trust-backing to open a device as a backing file");
            assertFalse(MountTable.isMountPoint(mnt));
            ok(qedfs("mount", "-r", "--trust-backing", top.toString(), mnt.toString()), "mount --trust-backing");
            try {
                assertArrayEquals(SECRET, Files.readAllBytes(mnt.resolve("on-device.raw")));
            } finally {
                Qedfs.unmount(mnt);
            }
        } finally {
            ok(Qedfs.run(List.of("losetup", "-d", loop)), "losetup -d");
        }
    }

    @Test
    void overlaysAreNoMoreVisibleThanTheirImages() throws Exception {
        Path img = image(dir.resolve("disk.qed"), "root", "rw-r-----", 0x77);
        Path kept = dir.resolve("ovl");
        Qedfs.mount("--overlay-dir", kept.toString(), "-o", "allow_other", img.toString(), mnt.toString());
        try {
            assertEquals("-rw-r-----", modeAndOwner(kept.resolve("disk.overlay.qed")).split(" ")[0]);
            assertEquals("-rw-r----- root", modeAndOwner(mnt.resolve("disk.raw")));
            assertDenied(as("cat", mnt.resolve("disk.raw").toString()));
        } finally {
            Qedfs.unmount(mnt);
        }

        // temporary overlays leave nothing in $TMPDIR, not even when the server is killed
        Path tmp = Files.createDirectory(dir.resolve("tmp"));
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxrwxrwx"));
        Qedfs.Result r = Qedfs.run(List.of("env", "TMPDIR=" + tmp, "java", "-jar", Qedfs.jar().toString(), "mount", "--overlay",
                "-o", "allow_other", img.toString(), mnt.toString()));
        ok(r, "mount --overlay");
        long pid = MountTable.find(mnt).orElseThrow().pid();
        assertEquals("-rw-r----- root", modeAndOwner(mnt.resolve("disk.raw")));
        ok(Qedfs.run(List.of("dd", "if=/dev/urandom", "of=" + mnt.resolve("disk.raw"), "bs=64k", "count=4", "conv=notrunc,fsync")), "dd");
        assertEquals(List.of(), list(tmp), "no overlay file while mounted");
        ok(Qedfs.run(List.of("kill", "-9", Long.toString(pid))), "kill -9");
        Qedfs.waitExit(pid, 30);
        assertTrue(Qedfs.waitUnmounted(mnt, 30), "auto_unmount");
        assertEquals(List.of(), list(tmp), "nothing left after a crash");
        assertContent(img, pattern(SIZE, 0x77));
    }

    /** The second user runs qedfs on another's image that names the user's own private file: refused too. */
    @Test
    void anotherOwnersImageCannotReadTheCallersPrivateFiles() throws Exception {
        Path home = userDir("own");
        Path mine = home.resolve("mine.raw");
        Files.write(mine, SECRET);
        chownAndChmod(mine, user, "rw-------");
        Path theirs = userDir("theirs").resolve("theirs.qed");
        ok(Qedfs.run(List.of("qemu-img", "create", "-q", "-f", "qed", "-b", mine.toString(), "-F", "raw", theirs.toString())), "create");
        chownAndChmod(theirs, "nobody", "rw-r--r--");
        Qedfs.Result r = as(javaBinary(), "-jar", jarDir.resolve("qedfs.jar").toString(), "info", theirs.toString());
        assertRefused(r, theirs, "backing file " + mine + " refused: nobody (uid ");
        assertTrue(r.err().contains("may not read it (-rw------- " + user + " root)"), r.err());

        Path ours = home.resolve("ours.qed");
        ok(Qedfs.run(List.of("qemu-img", "create", "-q", "-f", "qed", "-b", mine.toString(), "-F", "raw", ours.toString())), "create");
        chownAndChmod(ours, user, "rw-------");
        Qedfs.Result own = as(javaBinary(), "-jar", jarDir.resolve("qedfs.jar").toString(), "info", ours.toString());
        ok(own, "info of the user's own chain");
        assertTrue(own.out().contains("backing chain:\n    " + mine + ": raw, owner " + user), own.out());
    }

    // ---- helpers

    /** A QED image of SIZE bytes full of {@code fill}, owned by {@code owner} with {@code perms}. */
    private static Path image(Path path, String owner, String perms, int fill) throws Exception {
        ok(Qedfs.run(List.of("qemu-img", "create", "-q", "-f", "qed", path.toString(), Integer.toString(SIZE))), "create");
        ok(Qedfs.run(List.of("qemu-io", "-c", String.format("write -P 0x%x 0 %d", fill, SIZE), path.toString())), "qemu-io");
        chownAndChmod(path, owner, perms);
        return path;
    }

    /** A directory of the second user's (rwxr-xr-x). */
    private Path userDir(String name) throws IOException {
        Path d = Files.createDirectory(dir.resolve(name));
        chownAndChmod(d, user, "rwxr-xr-x");
        return d;
    }

    private static void chownAndChmod(Path p, String owner, String perms) throws IOException {
        Files.setOwner(p, principal(owner));
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(perms));
    }

    private static java.nio.file.attribute.UserPrincipal principal(String name) throws IOException {
        UserPrincipalLookupService lookup = Path.of("/").getFileSystem().getUserPrincipalLookupService();
        return lookup.lookupPrincipalByName(name);
    }

    /** {@code -rw-r--r-- root}: what ls -l shows of mode and owner. */
    private static String modeAndOwner(Path p) throws IOException {
        return "-" + PosixFilePermissions.toString(Files.getPosixFilePermissions(p)) + " " + Files.getOwner(p).getName();
    }

    /** Runs {@code cmd} as the second user, in the test directory. */
    private Qedfs.Result as(String... cmd) throws Exception {
        List<String> all = new ArrayList<>(List.of("runuser", "-u", user, "--"));
        all.addAll(List.of(cmd));
        Path out = Files.createTempFile(dir, "as-", ".out");
        Path err = Files.createTempFile(dir, "as-", ".err");
        Process p = new ProcessBuilder(all).directory(dir.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + all);
        }
        Qedfs.Result r = new Qedfs.Result(p.exitValue(), Files.readString(out), Files.readString(err));
        Files.delete(out);
        Files.delete(err);
        return r;
    }

    private static void assertDenied(Qedfs.Result r) {
        assertNotEquals(0, r.exit(), r.all());
        assertTrue(r.err().contains("Permission denied") || r.err().contains("Operation not permitted"), r.all());
    }

    /** Exit 1, one line on stderr naming the image and saying {@code why}, no stack trace. */
    private static void assertRefused(Qedfs.Result r, Path image, String why) {
        assertEquals(1, r.exit(), r.all());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("qedfs: "), r.err());
        assertTrue(r.err().contains(image.getFileName().toString()), () -> "names " + image + ": " + r.err());
        assertTrue(r.err().contains(why), () -> "says " + why + ": " + r.err());
        assertFalse(r.err().contains("Exception"), r.err());
    }

    private void assertContent(Path img, byte[] expected) throws Exception {
        Path raw = dir.resolve("content.raw");
        Files.write(raw, expected);
        Qedfs.Result r = Qedfs.run(List.of("qemu-img", "compare", "-f", "qed", "-F", "raw", img.toString(), raw.toString()));
        Files.delete(raw);
        assertEquals(0, r.exit(), img + ": " + r.all());
    }

    private static List<String> list(Path d) throws IOException {
        try (var s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static byte[] pattern(int size, int fill) {
        byte[] b = new byte[size];
        Arrays.fill(b, (byte) fill);
        return b;
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    private static String sha256Of(Qedfs.Result sha256sum) {
        return ok(sha256sum, "sha256sum").out().split(" ")[0];
    }
}
