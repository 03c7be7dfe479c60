package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * examples/library, the engine used as a library, runs as its comment says: against the packaged engine jar
 * and its runtime dependencies alone (what a program depending on io.qedfs:qed has), as a single-file program.
 * It writes a fresh image QEMU made, and QEMU then reads exactly those bytes and finds the image clean.
 */
@Timeout(120)
class LibraryExampleIT {
    private static final Path EXAMPLE = Path.of("..", "examples", "library", "src", "main", "java", "Example.java")
            .toAbsolutePath().normalize();
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    @BeforeEach
    void needQemu() {
        Qemu.assumeAvailable();
    }

    @Test
    void theExampleWritesAnImageThatQemuReadsBackAndFindsClean() throws Exception {
        Path img = dir.resolve("disk.qed");
        Qemu.ok("qemu-img", "create", "-q", "-f", "qed", img.toString(), "16M");

        Qemu.Result r = example(img.toString());
        assertEquals(0, r.exit(), r.out());
        assertEquals(img + ": 16777216 bytes of guest data, 65536-byte clusters\n"
                + "read back what was written\n"
                + "check: 17 of 256 clusters allocated, 0 corruptions, 0 leaks, 0 check errors\n", r.out());

        byte[] expected = new byte[16 * MIB];
        byte[] greeting = "Hello from the qedfs engine\n".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(greeting, 0, expected, 0, greeting.length);
        Arrays.fill(expected, MIB, 2 * MIB, (byte) 0x5a);
        assertArrayEquals(expected, Qemu.toRaw(img, dir), "QEMU reads what the example wrote, and nothing else");
        Qemu.Result check = Qemu.check(img);
        assertEquals(0, check.exit(), "qemu-img check: " + check.out());
        assertTrue(Qemu.ok("qemu-img", "info", img.toString()).contains("file format: qed"));
    }

    @Test
    void theExampleRunsOnTheModulePathToo() throws Exception {
        Path img = dir.resolve("disk.qed");
        Qemu.ok("qemu-img", "create", "-q", "-f", "qed", img.toString(), "16M");

        Qemu.Result r = run(List.of("--module-path", jar() + File.pathSeparator + dependencies(), "--add-modules",
                "io.qedfs.qed"), img.toString());
        assertEquals(0, r.exit(), r.out());
        assertEquals(img + ": 16777216 bytes of guest data, 65536-byte clusters\n"
                + "read back what was written\n"
                + "check: 17 of 256 clusters allocated, 0 corruptions, 0 leaks, 0 check errors\n", r.out());
        Qemu.Result check = Qemu.check(img);
        assertEquals(0, check.exit(), "qemu-img check: " + check.out());
    }

    @Test
    void theJarIsAModuleThatExportsOnlyTheApi() throws Exception {
        ModuleDescriptor module = ModuleFinder.of(jar()).find("io.qedfs.qed")
                .orElseThrow(() -> new AssertionError(jar() + " holds no module io.qedfs.qed")).descriptor();
        assertFalse(module.isAutomatic(), "module-info.class names what is exported");
        assertEquals(Set.of("io.qedfs.qed"), module.exports().stream().map(ModuleDescriptor.Exports::source)
                .collect(Collectors.toSet()));
        assertTrue(module.exports().stream().noneMatch(ModuleDescriptor.Exports::isQualified), module.toString());
        assertTrue(module.packages().contains("io.qedfs.qed.host"), "the host helpers are in the jar, unexported");
    }

    @Test
    void badInputIsOneLineAndChangesNothing() throws Exception {
        Path notAnImage = dir.resolve("notes.txt");
        byte[] text = "not a QED image\n".repeat(1000).getBytes(StandardCharsets.US_ASCII);
        Files.write(notAnImage, text);

        Qemu.Result r = example(notAnImage.toString());
        assertEquals(1, r.exit(), r.out());
        assertEquals(1, r.out().lines().count(), "one line: " + r.out());
        assertTrue(r.out().startsWith("Example: ") && r.out().contains(notAnImage.toString()), r.out());
        assertArrayEquals(text, Files.readAllBytes(notAnImage), "the file is not changed");

        Qemu.Result missing = example(dir.resolve("gone.qed").toString());
        assertEquals(1, missing.exit(), missing.out());
        assertEquals("Example: " + dir.resolve("gone.qed") + ": no such file\n", missing.out());
        assertTrue(Files.notExists(dir.resolve("gone.qed")), "nothing is created");
    }

    /** The example as a single-file program, with the engine jar and its runtime dependencies as class path. */
    private static Qemu.Result example(String... args) throws Exception {
        return run(List.of("-cp", jar() + File.pathSeparator + dependencies()), args);
    }

    /** The packaged engine jar. */
    private static Path jar() {
        Path jar = Path.of(System.getProperty("qed.jar", "target/qed.jar"));
        assertTrue(Files.isRegularFile(jar), "the engine jar is built (mvn package): " + jar);
        return jar;
    }

    /** The engine's runtime dependencies, as a path list. */
    private static String dependencies() {
        String dependencies = System.getProperty("qed.runtimeClasspath", "");
        assertTrue(dependencies.contains("jnr-ffi"), "the engine's runtime class path: " + dependencies);
        return dependencies;
    }

    /** The example as a single-file program run with {@code javaOptions} (where the engine comes from). */
    private static Qemu.Result run(List<String> javaOptions, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(javaOptions);
        cmd.add(EXAMPLE.toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the example ends");
        return new Qemu.Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
