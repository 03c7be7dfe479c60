package io.qedfs.cli;

import io.qedfs.fuse.MountRecord;
import io.qedfs.fuse.ServerSignals;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts the serving process in its own session (so a terminal's Ctrl-C does not reach it) and returns only
 * when the mount is really ready, as the process reports it ({@link ServerReport}: recorded in the mount table
 * as its own, and its first file answers); if the mount fails, the process's one-line error becomes ours. This
 * is {@code qedfs mount} under {@code java -jar}; the launcher script starts the serving process itself.
 *
 * <p>The process runs in {@code /}, as a daemon should: it keeps no directory of the caller busy, and writes no
 * file into one (a JVM crash report goes into the user's private record directory, see {@link #crashReportFile}). It gets
 * {@code _JAVA_SR_SIGNUM} so that a stray SIGUSR2 is not the JVM's thread-suspend signal (see ServerSignals).
 */
final class Daemonizer {
    private static final long READY_TIMEOUT_MILLIS = 600_000; // a dirty multi-terabyte image takes a while to check

    private final PrintWriter err;

    Daemonizer(PrintWriter err) {
        this.err = err;
    }

    /** Runs {@code qedfs ARGS} as the serving process; its report goes to {@code out} and our stderr; the exit code. */
    int start(List<String> args, PrintWriter out) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("setsid", javaBinary()));
        cmd.addAll(serverJvmOptions(ManagementFactory.getRuntimeMXBean().getInputArguments(), crashReportFile()));
        cmd.addAll(List.of("-cp", absoluteClassPath(System.getProperty("java.class.path")), Main.class.getName()));
        cmd.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(cmd).directory(new java.io.File("/"))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        builder.environment().putIfAbsent(ServerSignals.SUSPEND_SIGNAL_VARIABLE, ServerSignals.SUSPEND_SIGNAL);
        builder.environment().put(ServerReport.PARENT_ENV, Long.toString(ProcessHandle.current().pid()));
        Process child = builder.start();
        // Ctrl-C (or SIGTERM, SIGHUP) while waiting stops the server too: it runs in a session of its own, where
        // the signal never reaches it; a SIGKILL here is seen by the server's ParentWatch instead
        Thread stopChild = new Thread(child::destroy, "qedfs-stop-server");
        Runtime.getRuntime().addShutdownHook(stopChild);
        Thread timeout = startTimeout(child);
        try {
            // not closed: fusermount, the server's child, holds the pipe while the mount lasts (see ServerReport)
            BufferedReader report = new BufferedReader(new InputStreamReader(child.getErrorStream(), StandardCharsets.UTF_8));
            ServerReport.Result r = ServerReport.follow(report, out, err);
            return switch (r.outcome()) {
                case READY -> 0;
                case EXIT -> r.exitCode() == 0 ? 1 : r.exitCode();
                case FOREGROUND -> 1; // never asked for: its arguments have no -f
                case ENDED -> ended(child, r.lastLine());
            };
        } finally {
            timeout.interrupt();
            try {
                Runtime.getRuntime().removeShutdownHook(stopChild);
            } catch (IllegalStateException e) {
                // already shutting down: the hook is stopping the server
            }
        }
    }

    /** The serving process ended without a report: killed, or its JVM could not start. */
    private int ended(Process child, String lastLine) throws InterruptedException {
        int exit = child.waitFor();
        err.println("qedfs: the mount process exited with code " + exit + " before the mount was ready: " + lastLine);
        err.flush();
        return exit == 0 ? 1 : exit;
    }

    /** Stops the server (SIGTERM: it unmounts and closes what it opened) if it is not ready in time. */
    private Thread startTimeout(Process child) {
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(READY_TIMEOUT_MILLIS);
                err.println("qedfs: the mount did not become ready within " + READY_TIMEOUT_MILLIS / 1000 + " s; stopping it");
                err.flush();
                child.destroy();
            } catch (InterruptedException e) {
                // ready, or failed, in time
            }
        }, "qedfs-mount-timeout");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** The --log file among the serving process's arguments, or null. */

    /**
     * The JVM options this command was started with (QEDFS_JAVA_OPTS, -D settings) go to the serving process
     * too, except a debugger agent, which would fight over its port. Unless they say otherwise, the server gets
     * a heap sized for what it holds (the L2 cache, 64 MiB by default, and request buffers): JVM defaults would
     * size the heap from the machine's memory and keep hundreds of MB resident. And G1, as the launcher gives it
     * (qedfs.in): under G1 alone the JVM maps a class-data archive's heap objects instead of building them again.
     * A crash report goes to {@code crashFile} (the process runs in /).
     */
    static List<String> serverJvmOptions(List<String> own, String crashFile) {
        List<String> opts = new ArrayList<>();
        for (String o : own) {
            if (!o.startsWith("-agentlib:jdwp") && !o.startsWith("-Xrunjdwp")) {
                opts.add(o);
            }
        }
        if (opts.stream().noneMatch(o -> o.startsWith("-Xmx") || o.startsWith("-XX:MaxRAM"))) {
            opts.add("-Xmx192m");
        }
        if (opts.stream().noneMatch(o -> o.matches("-XX:\\+Use\\w+GC"))) {
            opts.add("-XX:+UseG1GC");
        }
        if (opts.stream().noneMatch(o -> o.startsWith("-XX:ErrorFile="))) {
            opts.add("-XX:ErrorFile=" + crashFile);
        }
        return opts;
    }

    /**
     * Where a JVM crash report of the serving process goes: the user's mount-record directory, private to the
     * user. The JVM opens the report following links and truncating, so a shared directory such as /tmp would let
     * another user plant a link there and have a root server overwrite any file. None usable: no report.
     */
    static String crashReportFile() {
        try {
            return MountRecord.ownDirectory().resolve("hs_err_pid%p.log").toString();
        } catch (IOException e) {
            return "/dev/null";
        }
    }

    /** The class path with every entry made absolute: the serving process runs in another directory. */
    static String absoluteClassPath(String classPath) {
        List<String> entries = new ArrayList<>();
        for (String e : classPath.split(java.io.File.pathSeparator)) {
            entries.add(e.isEmpty() ? e : Path.of(e).toAbsolutePath().toString());
        }
        return String.join(java.io.File.pathSeparator, entries);
    }

    private static String javaBinary() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }
}
