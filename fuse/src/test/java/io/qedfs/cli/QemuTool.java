package io.qedfs.cli;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/** qemu-img, the oracle; tests that need it are skipped with a reason when it is not installed. */
final class QemuTool {
    record Result(int exit, String out) {
    }

    private QemuTool() {
    }

    static void assumeAvailable() {
        assumeTrue(available(), "qemu-img is not on PATH (install qemu-utils); skipping the qemu comparison");
    }

    static boolean available() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "qemu-img"))) {
                return true;
            }
        }
        return false;
    }

    /** Runs a command (stdout and stderr together). */
    static Result run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + Arrays.toString(cmd));
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    static String ok(String... cmd) throws IOException, InterruptedException {
        Result r = run(cmd);
        if (r.exit() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " exited " + r.exit() + ": " + r.out());
        }
        return r.out();
    }
}
