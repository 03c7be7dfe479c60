package io.qedfs.qed;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs qemu-img / qemu-io, the oracle, and captures what they print. The one helper for it: the engine's tests
 * use it directly, the command line's through the engine's test jar. Tests that need QEMU and do not find it
 * are skipped with the reason.
 */
public final class Qemu {
    /** Exit status, and stdout and stderr together. */
    public record Result(int exit, String out) {
    }

    private Qemu() {
    }

    public static boolean available() {
        return Files.isExecutable(Path.of("/usr/bin/qemu-img")) || onPath("qemu-img");
    }

    public static void assumeAvailable() {
        assumeTrue(available(), "qemu-img is not installed (make deps installs qemu-utils)");
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /** Runs {@code cmd}, whatever its exit status; a command that runs for two minutes fails the test. */
    public static Result run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + Arrays.toString(cmd));
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    /** Runs {@code cmd} and returns what it printed; fails the test when it exits non-zero. */
    public static String ok(String... cmd) throws IOException, InterruptedException {
        Result r = run(cmd);
        if (r.exit() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " exited " + r.exit() + ": " + r.out());
        }
        return r.out();
    }

    /** qemu-io with one -c per command, on a QED image. */
    public static String io(Path image, String... commands) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "qed"));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        cmd.add(image.toString());
        return ok(cmd.toArray(String[]::new));
    }

    /** The flattened raw contents of an image, as QEMU sees them. */
    public static byte[] toRaw(Path image, Path dir) throws IOException, InterruptedException {
        Path raw = Files.createTempFile(dir, "qemu-", ".raw");
        ok("qemu-img", "convert", "-f", "qed", "-O", "raw", image.toString(), raw.toString());
        byte[] b = Files.readAllBytes(raw);
        Files.delete(raw);
        return b;
    }

    /** qemu-img check of a QED image: its exit status (0 clean, 2 corrupt, 3 leaks) and report. */
    public static Result check(Path image) throws IOException, InterruptedException {
        return run("qemu-img", "check", "-f", "qed", image.toString());
    }
}
