package io.qedfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine;

/** Runs {@code qedfs} in-process with captured stdout and stderr. */
final class Cli {
    record Result(int exit, String out, String err) {
        /** Asserts a one-line error naming {@code file}, exit 1, and nothing that looks like a stack trace. */
        Result assertOneLineError(String file) {
            assertEquals(1, exit, () -> "exit code; stderr: " + err);
            assertEquals(1, err.lines().count(), () -> "one line on stderr: " + err);
            assertTrue(err.startsWith("qedfs: "), err);
            assertTrue(err.contains(file), () -> "names " + file + ": " + err);
            assertNoStackTrace();
            return this;
        }

        /**
         * Asserts bad usage: exit 64 (no exit code of check's), one message line naming {@code command}
         * ({@code qedfs info: ...}) and the "Try ... --help" line.
         */
        Result assertUsageError(String command) {
            assertEquals(64, exit, () -> "exit code; stderr: " + err);
            assertEquals(2, err.lines().count(), () -> "two lines on stderr: " + err);
            assertTrue(err.startsWith(command + ": "), err);
            assertTrue(err.contains("Try '" + command + " --help' for more information."), err);
            assertNoStackTrace();
            return this;
        }

        void assertNoStackTrace() {
            assertFalse(err.contains("Exception"), err);
            assertFalse(err.contains("\tat "), err);
            assertFalse(err.contains("at io."), err);
        }

        Result assertOk() {
            assertEquals(0, exit, () -> "exit code; stderr: " + err + " stdout: " + out);
            return this;
        }
    }

    private Cli() {
    }

    /** The thread bounded runs use: a command that hangs fails its test instead of the whole build. */
    private static final ExecutorService BOUNDED = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "bounded-command");
        t.setDaemon(true);
        return t;
    });

    /** Runs the command, failing the test (naming {@code ctx}) if it takes longer than {@code seconds}. */
    static Result runWithin(long seconds, List<String> args, String ctx) throws Exception {
        Future<Result> f = BOUNDED.submit(() -> run(args.toArray(String[]::new)));
        try {
            return f.get(seconds, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            return fail(ctx + ": " + args + " did not finish in " + seconds + " s");
        }
    }

    /** Runs {@code args} as {@code qedfs} does: a plain check through {@link CheckShortcut}, the rest through picocli. */
    static Result run(String... args) {
        Result shortcut = runShortcutOnly(args);
        return shortcut != null ? shortcut : runThroughPicocli(args);
    }

    /** Runs {@code args} through picocli, even when the shortcut would take them. */
    static Result runThroughPicocli(String... args) {
        CommandLine cl = QedfsCommand.commandLine(args);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    /** What {@link CheckShortcut} does with {@code args}: null when it leaves them to picocli. */
    static Result runShortcutOnly(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        Integer exit = CheckShortcut.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return exit == null ? null : new Result(exit, out.toString(), err.toString());
    }
}
