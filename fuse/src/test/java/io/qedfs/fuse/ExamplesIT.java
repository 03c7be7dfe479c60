package io.qedfs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The scripts in examples/ and `make demo` run as the README says and do what they claim. */
@Timeout(300)
class ExamplesIT {
    private static final Path EXAMPLES = Path.of("..", "examples").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    @BeforeEach
    void needFuse() {
        Qedfs.assumeFuse();
    }

    private Qedfs.Result example(String script, String... args) throws Exception {
        StringBuilder cmd = new StringBuilder("cd " + dir + " && TMPDIR=" + dir + " QEDFS='java -jar " + Qedfs.jar().toAbsolutePath()
                + "' " + EXAMPLES.resolve(script));
        for (String a : args) {
            cmd.append(' ').append(a);
        }
        Qedfs.Result r = Qedfs.sh(cmd.toString());
        assertEquals(0, r.exit(), script + ": " + r.all());
        return r;
    }

    @Test
    void ddTestReadsBackEveryPatternAndQemuAgrees() throws Exception {
        Qedfs.Result r = example("dd-test.sh");
        assertEquals(5, r.out().lines().filter(l -> l.contains("read back identical")).count(), r.out());
        assertTrue(r.out().contains("No errors were found") && r.out().contains("qemu-img convert sees the same pattern"), r.out());
    }

    @Test
    void ddTestOnAGivenImageLeavesItUnchanged() throws Exception {
        Path img = dir.resolve("given.qed");
        Qedfs.ok(Qedfs.run(java.util.List.of("qemu-img", "create", "-q", "-f", "qed", img.toString(), "64M")), "create");
        Qedfs.ok(Qedfs.run(java.util.List.of("qemu-io", "-c", "write -P 0x5a 0 2M", "-c", "write -P 0xa5 1048576 4096", img.toString())),
                "someone's data");
        byte[] before = java.nio.file.Files.readAllBytes(img);
        Qedfs.Result r = example("dd-test.sh", "given.qed");
        assertEquals(4, r.out().lines().filter(l -> l.contains("read back identical")).count(), r.out());
        assertTrue(r.out().contains("offset 123456789: skipped, past the end") && r.out().contains("No errors were found")
                && r.out().contains("qemu-img convert sees the same pattern"), r.out());
        org.junit.jupiter.api.Assertions.assertArrayEquals(before, java.nio.file.Files.readAllBytes(img), "dd-test.sh changed the image it was given");
    }

    @Test
    void everyScriptAnswersHelpAndDoesNothingElse() throws Exception {
        for (String script : new String[] {"dd-test.sh", "inspect.sh", "loop-mount.sh", "demo.sh"}) {
            Qedfs.Result r = Qedfs.sh("cd " + dir + " && TMPDIR=" + dir + " " + EXAMPLES.resolve(script) + " --help </dev/null");
            assertEquals(0, r.exit(), script + ": " + r.all());
            assertTrue(r.out().startsWith("usage: ") && r.err().isEmpty(), script + ": " + r.all());
            try (java.util.stream.Stream<Path> left = java.nio.file.Files.list(dir)) {
                assertEquals(java.util.List.of(), left.toList(), script + " --help left files behind");
            }
        }
    }

    @Test
    void loopMountRefusesADiskWithDataButNoFileSystem() throws Exception {
        assumeTrue(Qedfs.isRoot(), "loop devices need root");
        Path img = dir.resolve("data.qed");
        Qedfs.ok(Qedfs.run(java.util.List.of("qemu-img", "create", "-q", "-f", "qed", img.toString(), "64M")), "create");
        Qedfs.ok(Qedfs.run(java.util.List.of("qemu-io", "-c", "write -P 0x5a 0 1M", img.toString())), "someone's data");
        byte[] before = java.nio.file.Files.readAllBytes(img);
        Qedfs.Result r = Qedfs.sh("cd " + dir + " && TMPDIR=" + dir + " QEDFS='java -jar " + Qedfs.jar().toAbsolutePath() + "' "
                + EXAMPLES.resolve("loop-mount.sh") + " data.qed");
        assertEquals(1, r.exit(), r.all());
        assertTrue(r.err().contains("data.qed holds data but no file system") && r.err().contains("nothing changed"), r.all());
        org.junit.jupiter.api.Assertions.assertArrayEquals(before, java.nio.file.Files.readAllBytes(img), "loop-mount.sh changed the image");
    }

    @Test
    void loopMountThenInspect() throws Exception {
        assumeTrue(Qedfs.isRoot(), "loop devices need root");
        Qedfs.ok(Qedfs.sh("qemu-img create -q -f qed " + dir.resolve("g.qed") + " 64M && echo hello-guest > " + dir.resolve("note.txt")), "create");
        Qedfs.Result loop = example("loop-mount.sh", "g.qed", dir.resolve("note.txt").toString());
        assertTrue(loop.out().contains("note.txt") && loop.out().contains("No errors were found"), loop.out());
        Qedfs.Result inspect = example("inspect.sh", "g.qed");
        assertTrue(inspect.out().contains("TYPE=\"ext4\"") && inspect.out().contains("note.txt"), inspect.out());
        assertTrue(inspect.out().contains("-r--r--r--"), "read-only mount: " + inspect.out());
    }

    @Test
    void demoShowsTheGuestsFiles() throws Exception {
        writeLauncherAsMakeBuildDoes();
        Qedfs.Result r = Qedfs.sh("cd " + EXAMPLES.getParent() + " && TMPDIR=" + dir + " examples/demo.sh");
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.out().contains("docs/hello.txt says: Hello from inside a QED image."), r.out());
        assertTrue(r.out().contains("No errors were found on the image."), r.out());
        // what to try next is about an image that is really there, and the commands name it
        java.util.regex.Matcher kept = java.util.regex.Pattern.compile("\n  cd (/\\S+)\n").matcher(r.out());
        assertTrue(kept.find(), r.out());
        Path image = Path.of(kept.group(1)).resolve("disk.qed");
        assertTrue(image.startsWith(dir) && java.nio.file.Files.isRegularFile(image), "kept: " + image);
        assertTrue(r.out().contains("the example image stays in " + kept.group(1)) && r.out().contains("qedfs mount disk.qed mnt"), r.out());
        Qedfs.ok(Qedfs.run(java.util.List.of("qemu-img", "check", image.toString())), "qemu-img check of the kept image");
    }

    @Test
    void scriptsWithoutTheirArgumentSayHowToCallThem() throws Exception {
        for (String script : new String[] {"inspect.sh", "loop-mount.sh"}) {
            Qedfs.Result r = Qedfs.sh(EXAMPLES.resolve(script) + " </dev/null");
            assertEquals(2, r.exit(), script + ": " + r.all());
            assertTrue(r.err().startsWith("usage: ") && r.err().contains("IMAGE.qed"), r.err());
        }
    }

    /** The demo runs the launcher `make demo` builds; `make test` builds only the jar, so the test writes it. */
    private static void writeLauncherAsMakeBuildDoes() throws java.io.IOException {
        Path jar = Qedfs.jar().toAbsolutePath();
        Path launcher = jar.resolveSibling("qedfs");
        if (!java.nio.file.Files.exists(launcher)) {
            java.nio.file.Files.writeString(launcher, java.nio.file.Files.readString(Path.of("src/main/sh/qedfs.in"))
                    .replace("@LIB@", jar.getParent().toString()));
            java.nio.file.Files.setPosixFilePermissions(launcher,
                    java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }
}
