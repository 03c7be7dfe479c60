package io.qedfs.cli;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code qedfs} in a JVM of its own (this test's class path), with JVM options such as a small heap, and
 * kills it when it outlives its time: a command that hangs in a system call (a FIFO's open) or runs out of
 * memory fails its test instead of stalling or poisoning the test JVM.
 */
final class Forked {
    private Forked() {
    }

    /** Runs {@code qedfs args} with {@code jvmOptions}; fails the test if it takes longer than {@code seconds}. */
    static Cli.Result run(long seconds, List<String> jvmOptions, List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(args);
        Path out = Files.createTempFile("qedfs-forked-", ".out");
        Path err = Files.createTempFile("qedfs-forked-", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                fail("qedfs " + String.join(" ", args) + " did not finish in " + seconds + " s (killed); stderr: "
                        + Files.readString(err, StandardCharsets.UTF_8));
            }
            return new Cli.Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
