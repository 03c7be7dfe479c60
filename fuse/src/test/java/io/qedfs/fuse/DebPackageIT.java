package io.qedfs.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code make deb} as a Debian user meets it: {@code apt-get install ./qedfs_VERSION_all.deb} on a machine where
 * qedfs is not installed, then the installed {@code qedfs} (from /usr/bin, with its man pages and completion)
 * creates and mounts an image whose content reads back, and {@code apt-get purge} leaves none of the package's
 * files, nor what its postinst made. Root only: it installs into the system. The jar is the one this build made
 * ({@code -o} keeps make from calling Maven inside Maven).
 */
@Timeout(600)
class DebPackageIT {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path LIB = Path.of("/usr/lib/qedfs");

    @TempDir
    Path dir;

    private boolean installed;

    @AfterEach
    void purgeWhatTheTestInstalled() throws Exception {
        if (installed) {
            apt("purge", "qedfs");
        }
    }

    @Test
    void installsMountsAndPurgesWithoutLeftovers() throws Exception {
        assumeTrue(Qedfs.isRoot(), "installs a package: needs root");
        assumeTrue(Qedfs.onPath("dpkg-deb") && Qedfs.onPath("apt-get") && Qedfs.onPath("make"), "needs dpkg-deb, apt-get and make");
        assumeTrue(Qedfs.onPath("asciidoctor"), "asciidoctor is not installed, so there are no man pages to package (make deps)");
        Qedfs.assumeFuse();
        assumeTrue((dpkgStatus().isEmpty() || dpkgStatus().endsWith("not-installed"))
                && !Files.exists(Path.of("/usr/bin/qedfs")) && !Files.exists(LIB),
                "qedfs is installed on this machine: the test installs and purges its own");

        Path jar = Qedfs.jar().toAbsolutePath();
        Qedfs.ok(Qedfs.sh("DEBFULLNAME='Ada Packager' DEBEMAIL=ada@example.org make -C " + ROOT + " --no-print-directory -o " + jar
                + " deb JAR=" + jar + " COMPLETION="
                + dir.resolve("qedfs.bash-completion") + " DEB_STAGE=" + dir.resolve("stage")
                + " DEB_DIR=" + dir), "make deb");
        String version = Qedfs.ok(Qedfs.qedfs("--version"), "--version").out().strip().replace("qedfs ", "");
        Path deb = dir.resolve("qedfs_" + version + "_all.deb");
        assertTrue(Files.isRegularFile(deb), "make deb made no " + deb);
        String depends = Qedfs.ok(Qedfs.run(List.of("dpkg-deb", "-f", deb.toString(), "Depends")), "dpkg-deb -f").out();
        assertTrue(depends.contains("java17-runtime-headless") && depends.contains("libfuse2") && depends.contains("fuse3"), depends);
        assertEquals("Ada Packager <ada@example.org>", Qedfs.ok(Qedfs.run(List.of("dpkg-deb", "-f", deb.toString(), "Maintainer")),
                "dpkg-deb -f").out().strip(), "the Maintainer from DEBFULLNAME and DEBEMAIL, as dch takes it");

        installed = true;
        apt("install", "./" + deb.getFileName());
        List<Path> files = new ArrayList<>();
        for (String line : Qedfs.ok(Qedfs.run(List.of("dpkg", "-L", "qedfs")), "dpkg -L").out().lines().toList()) {
            Path p = Path.of(line);
            if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) || Files.isSymbolicLink(p)) {
                files.add(p);
            }
        }
        for (String expected : List.of("/usr/bin/qedfs", "/usr/lib/qedfs/qedfs.jar", "/usr/share/bash-completion/completions/qedfs",
                "/usr/share/man/man1/qedfs.1.gz", "/usr/share/man/man1/qedfs-mount.1.gz", "/usr/share/doc/qedfs/copyright",
                "/usr/sbin/mount.fuse.qedfs", "/usr/sbin/mount.qedfs", "/usr/sbin/umount.fuse.qedfs")) {
            assertTrue(files.contains(Path.of(expected)), expected + " is not in the package: " + files);
        }
        assertTrue(Files.isRegularFile(LIB.resolve("qedfs.jsa")), "the postinst made no class-data archive");
        Qedfs.Result man = Qedfs.ok(Qedfs.run(List.of("env", "LC_ALL=C", "man", "qedfs-mount")), "man qedfs-mount");
        assertTrue(man.out().contains("--read-only"), man.out());

        // the installed command, as a user types it: a pattern written through the mount reads back after a remount
        Path image = dir.resolve("disk.qed");
        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        Path pattern = dir.resolve("pattern");
        byte[] bytes = new byte[3 << 20];
        new Random(18).nextBytes(bytes);
        Files.write(pattern, bytes);
        try {
            Qedfs.ok(Qedfs.run(List.of("/usr/bin/qedfs", "create", "-q", image.toString(), "64M")), "qedfs create");
            Qedfs.ok(Qedfs.run(List.of("/usr/bin/qedfs", "mount", "-q", image.toString(), mnt.toString())), "qedfs mount");
            Qedfs.ok(Qedfs.sh("dd if=" + pattern + " of=" + mnt.resolve("disk.raw") + " bs=64k seek=5 conv=notrunc,fsync status=none"), "dd");
            Qedfs.ok(Qedfs.run(List.of("/usr/bin/qedfs", "unmount", mnt.toString())), "qedfs unmount");
            Qedfs.ok(Qedfs.run(List.of("/usr/bin/qedfs", "mount", "-q", "-r", image.toString(), mnt.toString())), "qedfs mount -r");
            Path copy = dir.resolve("copy");
            Qedfs.ok(Qedfs.sh("dd if=" + mnt.resolve("disk.raw") + " of=" + copy + " bs=64k skip=5 count=48 status=none"), "dd back");
            assertArrayEquals(bytes, Files.readAllBytes(copy), "the pattern read back through the installed qedfs");
            Qedfs.ok(Qedfs.run(List.of("/usr/bin/qedfs", "unmount", mnt.toString())), "qedfs unmount");
        } finally {
            Qedfs.cleanUp(dir);
        }
        Qedfs.ok(Qedfs.run(List.of("qemu-img", "check", image.toString())), "qemu-img check");

        apt("purge", "qedfs");
        installed = false;
        for (Path f : files) {
            assertFalse(Files.exists(f, LinkOption.NOFOLLOW_LINKS), f + " is left after the purge");
        }
        assertFalse(Files.exists(LIB), LIB + " is left after the purge (what the postinst made?)");
        assertFalse(Files.exists(Path.of("/usr/share/doc/qedfs")), "/usr/share/doc/qedfs is left after the purge");
        assertTrue(dpkgStatus().isEmpty() || dpkgStatus().endsWith("not-installed"), "dpkg still has qedfs: " + dpkgStatus());
    }

    /**
     * Without DEBFULLNAME/DEBEMAIL and without git's user.name/user.email (a HOME and git config of the test's own),
     * make deb says in one line what to set, instead of building a package with a made-up Maintainer.
     */
    @Test
    void aPackageWithoutAMaintainerIsRefusedInOneLine() throws Exception {
        Path home = Files.createDirectory(dir.resolve("home"));
        Qedfs.Result r = Qedfs.run(List.of("env", "-u", "DEBFULLNAME", "-u", "DEBEMAIL", "-u", "GIT_CONFIG_GLOBAL", "HOME=" + home,
                "XDG_CONFIG_HOME=" + home, "GIT_CONFIG_NOSYSTEM=1", ROOT.resolve("packaging/deb/make-deb.sh").toString(),
                dir.resolve("stage").toString(), dir.toString()));
        assertEquals(1, r.exit(), r.all());
        assertEquals("make-deb: who maintains the package? set DEBFULLNAME and DEBEMAIL (as for dch), or git config user.name"
                + " and user.email\n", r.err());
        try (var listing = Files.list(dir)) {
            assertEquals(List.of(home), listing.toList(), "no package written");
        }
    }

    /** What dpkg knows of the package qedfs ("install ok installed", "deinstall ok config-files", ...), or "". */
    private static String dpkgStatus() throws Exception {
        return Qedfs.sh("dpkg-query -W -f '${Status}' qedfs 2>/dev/null").out().strip();
    }

    /** apt-get as a user runs it, from the directory the package is in; waits for another apt or dpkg to finish. */
    private void apt(String action, String what) throws Exception {
        Qedfs.Result r = Qedfs.sh("cd " + dir + " && DEBIAN_FRONTEND=noninteractive apt-get " + action
                + " -y -q -o DPkg::Lock::Timeout=120 " + what + " </dev/null");
        assertEquals(0, r.exit(), "apt-get " + action + " " + what + ": " + r.all());
    }
}
