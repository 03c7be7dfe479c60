package io.qedfs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code make install} as the README says: the installed launcher runs, and bash, with the installed completion
 * script sourced, completes qedfs's commands, their options and option values; {@code make uninstall} removes
 * it all. The jar is the one this build made ({@code -o} keeps make from calling Maven inside Maven).
 */
@Timeout(300)
class InstallIT {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    @BeforeEach
    void needMake() {
        assumeTrue(Qedfs.onPath("make"), "make is not installed");
    }

    /** make TARGET with these variables, the completion generated afresh into the test's directory. */
    private Qedfs.Result make(String target, String... vars) throws Exception {
        Path jar = Qedfs.jar().toAbsolutePath();
        StringBuilder cmd = new StringBuilder("make -C " + ROOT + " --no-print-directory -o " + jar + " " + target
                + " JAR=" + jar + " COMPLETION=" + dir.resolve("qedfs.bash-completion"));
        for (String v : vars) {
            cmd.append(' ').append(v);
        }
        return Qedfs.ok(Qedfs.sh(cmd.toString()), "make " + target);
    }

    @Test
    void installedLauncherRunsAndUninstallRemovesEverything() throws Exception {
        Path prefix = dir.resolve("prefix");
        // root would get mount(8)'s helper in /sbin, the machine's: the test keeps it in its own prefix
        make("install", "PREFIX=" + prefix, "MOUNT_HELPER_DIR=" + prefix.resolve("sbin"));
        Path launcher = prefix.resolve("bin/qedfs");
        assertTrue(Files.isExecutable(launcher), "launcher");
        Path helper = prefix.resolve("sbin/mount.fuse.qedfs");
        assertTrue(Files.isExecutable(helper) && Files.readString(helper).contains("qedfs='" + launcher + "'"), "mount helper");
        assertEquals(Path.of("mount.fuse.qedfs"), Files.readSymbolicLink(prefix.resolve("sbin/mount.qedfs")));
        Path umountHelper = prefix.resolve("sbin/umount.fuse.qedfs");
        assertTrue(Files.isExecutable(umountHelper) && Files.readString(umountHelper).contains("qedfs='" + launcher + "'"),
                "umount(8)'s helper");
        assertTrue(Files.isRegularFile(prefix.resolve("lib/qedfs/qedfs.jar")), "jar");
        assertTrue(Files.isRegularFile(prefix.resolve("share/bash-completion/completions/qedfs")), "completion");

        Qedfs.Result version = Qedfs.ok(Qedfs.run(List.of(launcher.toString(), "--version")), "--version");
        assertTrue(version.out().matches("qedfs \\d+\\.\\d+\\.\\d+\\n"), version.out());
        // what makes it start faster: the JVM maps the commands' classes from the archive made for this jar
        assertTrue(Files.isRegularFile(prefix.resolve("lib/qedfs/qedfs.jsa")), "class-data archive");
        Qedfs.Result loads = Qedfs.ok(Qedfs.sh("QEDFS_JAVA_OPTS=-Xlog:class+load '" + launcher + "' --version"), "--version");
        assertTrue(loads.out().contains("io.qedfs.cli.Main source: shared objects file"),
                "classes not from the archive: " + loads.out().lines().filter(l -> l.contains("io.qedfs")).findFirst());
        if ("amd64".equals(System.getProperty("os.arch"))) {
            assertTrue(Files.isRegularFile(prefix.resolve("lib/qedfs/libjffi-1.2.so")), "jffi's library beside the jar");
        }
        // short commands get the quick compiler alone, a mount (a long-lived server) and map the full JIT
        assertEquals("1", tieredStopAtLevel(launcher, "--debug check --help"));
        assertEquals("4", tieredStopAtLevel(launcher, "--debug mount --help"));
        assertEquals("4", tieredStopAtLevel(launcher, "map --help"));
        String image = dir.resolve("disk.qed").toString();
        Qedfs.ok(Qedfs.run(List.of(launcher.toString(), "create", "-q", image, "96M")), "create");
        Qedfs.Result info = Qedfs.ok(Qedfs.run(List.of(launcher.toString(), "info", image)), "info");
        assertTrue(info.out().contains("virtual size: 96 MiB (100663296 bytes)"), info.out());
        if (Qedfs.onPath("qemu-img")) {
            Qedfs.Result qemu = Qedfs.ok(Qedfs.run(List.of("qemu-img", "info", image)), "qemu-img info");
            assertTrue(qemu.out().contains("file format: qed") && qemu.out().contains("(100663296 bytes)"), qemu.out());
        }

        if (Files.isRegularFile(Path.of("target/man/qedfs-mount.1")) && Qedfs.onPath("man")) {
            Qedfs.Result man = Qedfs.ok(Qedfs.run(List.of("env", "LC_ALL=C", "man", "-M", prefix.resolve("share/man").toString(),
                    "qedfs-mount")), "man qedfs-mount");
            assertTrue(man.out().contains("qedfs-mount - ") && man.out().contains("--read-only"), man.out());
        }

        make("uninstall", "PREFIX=" + prefix, "MOUNT_HELPER_DIR=" + prefix.resolve("sbin"));
        assertFalse(Files.exists(prefix.resolve("share/man/man1/qedfs-mount.1")), "man page left behind");
        assertFalse(Files.exists(launcher), "launcher left behind");
        assertFalse(Files.exists(helper) || Files.isSymbolicLink(prefix.resolve("sbin/mount.qedfs")) || Files.exists(umountHelper),
                "mount helpers left behind");
        assertFalse(Files.exists(prefix.resolve("lib/qedfs")), "jar left behind");
        assertFalse(Files.exists(prefix.resolve("share/bash-completion/completions/qedfs")), "completion left behind");
    }

    /**
     * The installed launcher's mount: its server's classes come from the class-data archive too (the FUSE binding,
     * the session loop), and no class is generated for the binding at run time (jnr-ffi's ASM).
     */
    @Test
    void installedMountServesFromTheArchive() throws Exception {
        Qedfs.assumeFuse();
        assumeTrue(Qedfs.isRoot(), "the training mount of make install and this mount need FUSE as root");
        Path prefix = dir.resolve("prefix");
        // not root's default, the machine's /sbin: a helper left there would outlive the prefix it runs
        make("install", "PREFIX=" + prefix, "MOUNT_HELPER_DIR=" + prefix.resolve("sbin"));
        Path launcher = prefix.resolve("bin/qedfs");
        Path image = dir.resolve("disk.qed");
        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        Path classes = dir.resolve("classes.log");
        Qedfs.ok(Qedfs.run(List.of("qemu-img", "create", "-q", "-f", "qed", image.toString(), "64M")), "create");
        try {
            Qedfs.ok(Qedfs.sh("QEDFS_JAVA_OPTS=-Xlog:class+load:file=" + classes + " '" + launcher + "' mount -q " + image + " " + mnt),
                    "mount");
            Qedfs.ok(Qedfs.run(List.of("dd", "if=" + mnt.resolve("disk.raw"), "of=/dev/null", "bs=1M", "count=4")), "read");
            Qedfs.ok(Qedfs.run(List.of(launcher.toString(), "unmount", mnt.toString())), "unmount");
        } finally {
            Qedfs.cleanUp(dir);
        }
        String loaded = Files.readString(classes);
        for (String c : List.of("io.qedfs.fuse.SessionLoop", "io.qedfs.fuse.NativeOperations", "io.qedfs.fuse.MountSession",
                "io.qedfs.qed.QedImage", "jnr.ffi.Runtime")) {
            assertTrue(loaded.contains(c + " source: shared objects file"), c + " not from the archive");
        }
        assertFalse(loaded.contains("] org.objectweb.asm."), "jnr-ffi generated classes with ASM"); // not the JDK's own
    }

    /** The JIT level the launcher gives the JVM for {@code args}, from the JVM's own list of its flags. */
    private static String tieredStopAtLevel(Path launcher, String args) throws Exception {
        Qedfs.Result r = Qedfs.ok(Qedfs.sh("QEDFS_JAVA_OPTS=-XX:+PrintFlagsFinal '" + launcher + "' " + args), args);
        Matcher m = Pattern.compile("TieredStopAtLevel\\s+= (\\d+)").matcher(r.out());
        assertTrue(m.find(), r.out());
        return m.group(1);
    }

    @Test
    void destdirStagesTheFilesForThePrefix() throws Exception {
        Path stage = dir.resolve("stage");
        make("install", "DESTDIR=" + stage, "PREFIX=/usr");
        String launcher = Files.readString(stage.resolve("usr/bin/qedfs"));
        assertTrue(launcher.contains("lib='/usr/lib/qedfs'"), "the launcher names the final place: " + launcher);
        assertFalse(launcher.contains(stage.toString()), launcher);
        assertFalse(Files.exists(stage.resolve("usr/lib/qedfs/qedfs.jsa")), "an archive made for the staging path");
        assertTrue(Files.isRegularFile(stage.resolve("usr/share/bash-completion/completions/qedfs")));
        assertTrue(Files.readString(stage.resolve("usr/sbin/mount.fuse.qedfs")).contains("qedfs='/usr/bin/qedfs'"), "mount helper");
        assertTrue(Files.readString(stage.resolve("usr/sbin/umount.fuse.qedfs")).contains("qedfs='/usr/bin/qedfs'"), "umount helper");
        make("uninstall", "DESTDIR=" + stage, "PREFIX=/usr");
        assertFalse(Files.exists(stage.resolve("usr/bin/qedfs")));
        assertFalse(Files.exists(stage.resolve("usr/sbin/mount.fuse.qedfs")));
        assertFalse(Files.exists(stage.resolve("usr/sbin/umount.fuse.qedfs")));
        assertFalse(Files.exists(stage.resolve("usr/share/bash-completion/completions/qedfs")));
    }

    @Test
    void bashCompletesCommandsOptionsAndValues() throws Exception {
        Path prefix = dir.resolve("prefix");
        make("install", "PREFIX=" + prefix, "MOUNT_HELPER_DIR=" + prefix.resolve("sbin"));
        Path script = dir.resolve("complete.sh");
        // what bash does on TAB: set COMP_WORDS/COMP_CWORD and call the function `complete -p` names
        Files.writeString(script, String.join("\n",
                "source " + prefix.resolve("share/bash-completion/completions/qedfs"),
                "fn=$(complete -p qedfs | sed -n 's/.*-F \\([^ ]*\\) qedfs$/\\1/p')",
                "[ -n \"$fn\" ] || { echo 'no completion function for qedfs' >&2; exit 1; }",
                "comp() {",
                "  COMP_WORDS=(\"$@\"); COMP_CWORD=$(( $# - 1 )); COMP_LINE=\"$*\"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()",
                "  \"$fn\" qedfs \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD-1]}\" 2>/dev/null",
                "  echo \"${COMPREPLY[*]}\"",
                "}",
                "comp qedfs ''",
                "comp qedfs conv",
                "comp qedfs check -",
                "comp qedfs mount --",
                "comp qedfs check -r ''",
                "comp qedfs info --output ''",
                "comp qedfs convert -O ''",
                ""));
        Qedfs.Result r = Qedfs.ok(Qedfs.run(List.of("bash", "--norc", "--noprofile", script.toString())), "completion");
        List<String> lines = r.out().lines().toList();
        assertEquals(7, lines.size(), r.out());
        assertTrue(words(lines.get(0)).containsAll(Set.of("mount", "unmount", "create", "info", "check", "map", "convert",
                "resize")), "subcommands: " + lines.get(0));
        assertEquals(Set.of("convert"), words(lines.get(1)), "qedfs conv<TAB>");
        assertTrue(words(lines.get(2)).containsAll(Set.of("-r", "--output", "-p", "-q", "--help")), "check's options: " + lines.get(2));
        assertTrue(words(lines.get(3)).containsAll(Set.of("--read-only", "--check", "--log", "--quiet")), "mount's: " + lines.get(3));
        assertFalse(words(lines.get(3)).contains("--fuse-debug"), "hidden options stay hidden: " + lines.get(3));
        assertEquals(Set.of("leaks", "all"), words(lines.get(4)), "check -r");
        assertEquals(Set.of("human", "json"), words(lines.get(5)), "info --output");
        assertEquals(Set.of("raw", "qed"), words(lines.get(6)), "convert -O");
    }

    /**
     * {@code make install PREFIX=~/.local} for a user whose PATH lacks ~/.local/bin says when it will be there, and
     * it is: a new login shell (with Debian's ~/.profile, as useradd copies it) finds qedfs, and, with the
     * bash-completion package that make deps installs, completes it without anything sourced by hand.
     */
    @Test
    void aUserInstallIsFoundAndCompletedInNewLoginShells() throws Exception {
        Path home = Files.createDirectories(dir.resolve("home"));
        Path prefix = home.resolve(".local");
        String path = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
        String helperDir = " MOUNT_HELPER_DIR=" + prefix.resolve("sbin"); // not the machine's /sbin, as root would
        Qedfs.Result install = make("install", "PREFIX=" + prefix + " HOME=" + home + " PATH=" + path + helperDir);
        assertTrue(install.out().contains("note: " + prefix + "/bin is not on this shell's PATH; ~/.profile puts it there in"
                + " new login shells"), install.out());
        Qedfs.Result again = make("install", "PREFIX=" + prefix + " HOME=" + home + " PATH=" + prefix + "/bin:" + path + helperDir);
        assertFalse(again.out().contains("note:"), "on the PATH already: " + again.out());

        Path skel = Path.of("/etc/skel/.profile");
        assumeTrue(Files.isReadable(skel) && Files.readString(skel).contains(".local/bin"),
                "this system's ~/.profile template does not add ~/.local/bin");
        Files.copy(skel, home.resolve(".profile"));
        String login = "env -i HOME=" + home + " PATH=" + path + " TERM=dumb bash -l -i -c ";
        Qedfs.Result found = Qedfs.ok(Qedfs.sh(login + "'command -v qedfs' </dev/null"), "a new login shell");
        assertEquals(prefix.resolve("bin/qedfs").toString(), found.out().strip(), found.all());

        assumeTrue(Files.isRegularFile(Path.of("/usr/share/bash-completion/bash_completion")),
                "bash-completion is not installed (make deps installs it)");
        // what bash-completion does on the first TAB after `qedfs`: load the command's completion from the
        // user's and the system's completion directories, then complete
        Files.writeString(home.resolve("tab.sh"), String.join("\n",
                "_completion_loader qedfs",
                "fn=$(complete -p qedfs | sed -n 's/.*-F \\([^ ]*\\) qedfs$/\\1/p')",
                "COMP_WORDS=(qedfs conv); COMP_CWORD=1; COMP_LINE='qedfs conv'; COMP_POINT=${#COMP_LINE}; COMPREPLY=()",
                "\"$fn\" qedfs conv qedfs; echo \"completed: ${COMPREPLY[*]}\"", ""));
        Qedfs.Result tab = Qedfs.ok(Qedfs.sh(login + "'source ~/tab.sh' </dev/null"), "completion in a new login shell");
        assertTrue(tab.out().contains("completed: convert"), tab.all());
    }

    private static Set<String> words(String line) {
        return new HashSet<>(Arrays.asList(line.strip().split("\\s+")));
    }
}
