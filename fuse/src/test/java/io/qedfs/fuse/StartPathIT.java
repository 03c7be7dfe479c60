package io.qedfs.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The way to a ready mount, through the launcher script as {@code make install} installs it: the script starts
 * the serving JVM itself and returns once that JVM reports the mount ready, with the mount answering at once
 * and the caller's output released; {@code unmount} returns once the server is gone. A mount that fails says
 * why on one line with a non-zero exit, through the launcher and through {@code java -jar} alike. Nothing here
 * sleeps or polls: each command is expected to have finished what it promises when it returns.
 */
@Timeout(300)
class StartPathIT extends MountTestBase {
    private Path launcher;

    /** The launcher for the jar this build made (the archive and jffi's library, which only speed it up, are left out). */
    @BeforeEach
    void launcher() throws Exception {
        Path lib = Files.createDirectory(lib());
        Files.createSymbolicLink(lib.resolve("qedfs.jar"), Qedfs.jar().toAbsolutePath());
        String script = Files.readString(Path.of("src/main/sh/qedfs.in")).replace("@LIB@", lib.toString());
        launcher = lib.resolve("qedfs");
        Files.writeString(launcher, script);
        assertTrue(launcher.toFile().setExecutable(true), "chmod +x");
    }

    private Path lib() {
        return dir.resolve("lib");
    }

    @Test
    void launcherReturnsWithTheMountReadyAndItsOutputReleased() throws Exception {
        Path img = image("disk.qed");
        byte[] expected = content(img); // read before the mount: the mount locks the image, as QEMU does
        // the launcher's pid is the shell's ($$, then exec); the output goes through a pipe the caller reads to
        // its end, which a server holding the caller's stdout or stderr would keep open until the timeout
        Qedfs.Result r = Qedfs.sh("timeout 120 bash -c 'echo $$; exec \"$0\" mount \"$1\" \"$2\" 2>&1' " + launcher + " "
                + img + " " + mnt + " | cat; exit ${PIPESTATUS[0]}");
        assertEquals(0, r.exit(), r.all());
        List<String> out = r.out().lines().toList();
        assertEquals(2, out.size(), r.out());
        long launcherPid = Long.parseLong(out.get(0));
        MountTable.Entry entry = MountTable.find(mnt).orElseThrow(() -> new AssertionError("not mounted: " + r.all()));
        assertEquals("qedfs: mounted at " + mnt + " (process " + entry.pid() + ")", out.get(1));
        assertArrayEquals(expected, Files.readAllBytes(mnt.resolve("disk.raw")), "the mount answers with the image's content");

        // one JVM: the launcher itself started the server, with the caller's own arguments, and waited for it
        List<String> cmdline = List.of(new String(Files.readAllBytes(Path.of("/proc", Long.toString(entry.pid()), "cmdline")),
                StandardCharsets.UTF_8).split("\0"));
        assertEquals(List.of("-jar", lib().resolve("qedfs.jar").toString(), "mount", img.toString(), mnt.toString()),
                cmdline.subList(cmdline.size() - 5, cmdline.size()), "the server's command line: " + cmdline);
        assertEquals(Long.toString(launcherPid), environment(entry.pid()).get("QEDFS_MOUNT_PARENT"));
        String[] stat = stat(entry.pid());
        assertEquals(Long.toString(entry.pid()), stat[3], "the server leads a session of its own (setsid)");
        assertEquals(Path.of("/"), Files.readSymbolicLink(Path.of("/proc", Long.toString(entry.pid()), "cwd")), "runs in /");

        Qedfs.Result u = Qedfs.run(List.of(launcher.toString(), "unmount", mnt.toString()));
        assertEquals(0, u.exit(), u.all());
        assertEquals("", u.all());
        assertFalse(MountTable.isMountPoint(mnt), "unmounted");
        assertTrue(ended(entry.pid()), "the server has exited when unmount returns");
        Qedfs.ok(Qedfs.run(List.of("qemu-img", "check", img.toString())), "qemu-img check after unmount");
    }

    /**
     * On the way to a ready mount the server neither builds picocli's model nor searches the class path for
     * slf4j's provider or slf4j-simple's settings: a server without --log binds slf4j's no-operation provider,
     * by name, and so does unmount. Nor, under the C.UTF-8 locale (English without a country), do they set up
     * the CLDR locale data for jffi's String.format. With --log the server logs through slf4j-simple as before.
     */
    @Test
    void serverLoadsNeitherPicocliNorSlf4jsSearchesNorLocaleDataAndStillLogsWithLog() throws Exception {
        Path img = image("disk.qed");
        Path classes = dir.resolve("server-classes.log");
        Path unmountClasses = dir.resolve("unmount-classes.log");
        String logged = "LC_ALL=C.UTF-8 QEDFS_JAVA_OPTS=-Xlog:class+load:file=";
        Qedfs.Result r = Qedfs.sh(logged + classes + ":none " + launcher + " mount -q " + img + " " + mnt);
        assertEquals(0, r.exit(), r.all());
        assertEquals("", r.all());
        Qedfs.Result u = Qedfs.sh(logged + unmountClasses + ":none " + launcher + " unmount " + mnt);
        assertEquals(0, u.exit(), u.all());
        assertEquals("", u.all());
        for (Path log : List.of(classes, unmountClasses)) {
            List<String> loaded = Files.readAllLines(log).stream().map(l -> l.split(" ")[0]).toList(); // "NAME source: ..."
            assertTrue(loaded.contains("io.qedfs.cli.Main"), log + " lists the classes loaded: " + loaded.size());
            assertTrue(loaded.contains("org.slf4j.LoggerFactory"), log + ": slf4j is bound");
            for (String unwanted : List.of("org.slf4j.simple.SimpleServiceProvider", "org.slf4j.simple.SimpleLoggerConfiguration",
                    "picocli.CommandLine", "sun.util.cldr.CLDRLocaleProviderAdapter")) {
                assertFalse(loaded.contains(unwanted), log + " loads " + unwanted);
            }
        }

        Path mountLog = dir.resolve("mount.log");
        Qedfs.Result withLog = Qedfs.run(List.of(launcher.toString(), "mount", "-q", "--log", mountLog.toString(), img.toString(),
                mnt.toString()));
        assertEquals(0, withLog.exit(), withLog.all());
        assertEquals("", withLog.all());
        Qedfs.ok(Qedfs.run(List.of(launcher.toString(), "unmount", mnt.toString())), "unmount");
        String text = Files.readString(mountLog);
        assertTrue(text.contains("[INFO] MountSession - serving 1 image(s) at "), text);
        assertTrue(text.contains("every image flushed, marked clean and closed"), text);
    }

    @Test
    void failuresReachTheCallerOnOneLineWithAnExitCode() throws Exception {
        Path img = image("disk.qed");
        Path other = image("other.qed");
        Path zeros = dir.resolve("zeros.qed");
        Files.write(zeros, new byte[65536]);
        Path full = Files.createDirectory(dir.resolve("full"));
        Files.writeString(full.resolve("file"), "not empty");
        for (boolean viaLauncher : List.of(true, false)) {
            String how = viaLauncher ? "launcher" : "java -jar";
            assertFailure(mount(viaLauncher, zeros.toString(), mnt.toString()), 1, zeros + ": not a QED image", how);
            assertFailure(mount(viaLauncher, dir.resolve("missing.qed").toString(), mnt.toString()), 1,
                    "missing.qed: no such file or directory", how);
            // a mountpoint with files in it is refused before libfuse is asked, the cause first
            assertFailure(mount(viaLauncher, img.toString(), full.toString()), 1, full + ": the mountpoint is not empty", how);
            assertFalse(MountTable.isMountPoint(full), how);
            // an option libfuse2 refuses: its own words come on the same line, in brackets
            assertFailure(mount(viaLauncher, "-o", "no_such_option", img.toString(), mnt.toString()), 1,
                    "[fuse: unknown option", how);
            assertFalse(MountTable.isMountPoint(mnt), how);

            Qedfs.Result first = mount(viaLauncher, "-q", img.toString(), mnt.toString());
            assertEquals(0, first.exit(), first.all());
            assertEquals("", first.all(), "-q: " + how);
            assertFailure(mount(viaLauncher, other.toString(), mnt.toString()), 1, "something is already mounted there", how);
            Qedfs.unmount(mnt);
        }
        // through the launcher, the server itself reads the arguments: its usage errors and -f come through as well
        Qedfs.Result usage = Qedfs.run(List.of(launcher.toString(), "mount", "--bogus", img.toString(), mnt.toString()));
        assertEquals(io.qedfs.cli.QedfsCommand.EXIT_USAGE, usage.exit(), usage.all());
        assertTrue(usage.err().startsWith("qedfs mount: unknown option '--bogus'\n"), usage.err());
        assertEquals("", usage.out());
        // -f among other options: the launcher runs it again, in the foreground
        assertFailure(Qedfs.run(List.of(launcher.toString(), "mount", "-qf", dir.resolve("missing.qed").toString(),
                mnt.toString())), 1, "missing.qed: no such file or directory", "launcher, -qf");
        assertFalse(MountTable.isMountPoint(mnt), "nothing left mounted");
    }

    private Qedfs.Result mount(boolean viaLauncher, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(viaLauncher ? List.of(launcher.toString()) : List.of("java", "-jar", Qedfs.jar().toString()));
        cmd.add("mount");
        cmd.addAll(List.of(args));
        return Qedfs.run(cmd);
    }

    private void assertFailure(Qedfs.Result r, int exit, String says, String how) throws Exception {
        assertEquals(exit, r.exit(), () -> how + ": " + r.all());
        assertEquals(1, r.err().lines().count(), () -> how + ", one line: " + r.err());
        assertTrue(r.err().startsWith("qedfs: ") && r.err().contains(says), () -> how + ": " + r.err());
        assertEquals("", r.out(), how);
    }

    private Path image(String name) throws Exception {
        Path img = dir.resolve(name);
        Qedfs.ok(Qedfs.run(List.of("qemu-img", "create", "-q", "-f", "qed", img.toString(), "16M")), "create");
        Qedfs.ok(Qedfs.run(List.of("qemu-io", "-f", "qed", "-c", "write -P 90 0 1M", "-c", "write -P 165 5M 64k",
                img.toString())), "qemu-io write");
        return img;
    }

    private static java.util.Map<String, String> environment(long pid) throws Exception {
        java.util.Map<String, String> env = new java.util.HashMap<>();
        String all = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "environ")), StandardCharsets.UTF_8);
        for (String kv : all.split("\0")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                env.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
        }
        return env;
    }

    /** /proc/PID/stat's fields from the state on: [0] state, [1] ppid, [2] pgrp, [3] session. */
    private static String[] stat(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    }

    /** The process has exited (gone, or a zombie waiting for its reaper). */
    private static boolean ended(long pid) {
        try {
            String state = stat(pid)[0];
            return state.equals("Z") || state.equals("X");
        } catch (Exception e) {
            return !Files.exists(Path.of("/proc", Long.toString(pid)));
        }
    }
}
