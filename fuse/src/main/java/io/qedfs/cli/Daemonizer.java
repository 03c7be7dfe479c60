package io.qedfs.cli;

import io.qedfs.fuse.MountTable;
import io.qedfs.fuse.ServerSignals;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Starts the serving process in its own session (so a terminal's Ctrl-C does not reach it) and returns only
 * when the mount is really ready: the mount table lists a mount at the mountpoint's real path that this very
 * process has recorded as its own, and its first file answers. If the process exits first, its one-line error
 * becomes ours.
 *
 * <p>The process runs in {@code /}, as a daemon should: it keeps no directory of the caller busy, and writes no
 * file into one (a JVM crash report goes beside the log, else into the temporary directory). It gets
 * {@code _JAVA_SR_SIGNUM} so that a stray SIGUSR2 is not the JVM's thread-suspend signal (see ServerSignals).
 */
final class Daemonizer {
    private static final long READY_TIMEOUT_MILLIS = 600_000; // a dirty multi-terabyte image takes a while to check

    /** Where the "mounted at" line goes; null: nowhere (mount -q). */
    private final PrintWriter out;
    private final PrintWriter err;

    Daemonizer(PrintWriter out, PrintWriter err) {
        this.out = out;
        this.err = err;
    }

    int start(List<String> args, Path mountPoint, String probeName, Path log) throws IOException, InterruptedException {
        Path errors = Files.createTempFile("qedfs-mount-", ".err");
        List<String> cmd = new ArrayList<>(List.of("setsid", javaBinary()));
        cmd.addAll(serverJvmOptions(ManagementFactory.getRuntimeMXBean().getInputArguments(), crashReportDir(log)));
        cmd.addAll(List.of("-cp", absoluteClassPath(System.getProperty("java.class.path")), Main.class.getName()));
        cmd.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(cmd).directory(new java.io.File("/"))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(errors.toFile());
        builder.environment().putIfAbsent(ServerSignals.SUSPEND_SIGNAL_VARIABLE, ServerSignals.SUSPEND_SIGNAL);
        builder.environment().put(ParentWatch.PARENT_ENV, Long.toString(ProcessHandle.current().pid()));
        Process child = builder.start();
        // The process has the file open now; without a name it leaves nothing in the temporary directory, even
        // if this command is killed before the mount is ready.
        FileChannel errorsRead = FileChannel.open(errors, StandardOpenOption.READ);
        Files.delete(errors);
        // Ctrl-C (or SIGTERM, SIGHUP) while waiting stops the server too: it runs in a session of its own, where
        // the signal never reaches it; a SIGKILL here is seen by the server's ParentWatch instead
        Thread stopChild = new Thread(child::destroy, "qedfs-stop-server");
        Runtime.getRuntime().addShutdownHook(stopChild);
        try {
            long deadline = System.currentTimeMillis() + READY_TIMEOUT_MILLIS;
            while (System.currentTimeMillis() < deadline) {
                if (!child.isAlive()) {
                    err.println(lastError(errorsRead, child.exitValue()));
                    return child.exitValue() == 0 ? 1 : child.exitValue();
                }
                Optional<MountTable.Entry> entry = MountTable.find(mountPoint);
                if (entry.isPresent() && entry.get().pid() == child.pid() && entry.get().isServed()
                        && Files.exists(mountPoint.resolve(probeName))) {
                    if (out != null) {
                        out.println("qedfs: mounted at " + mountPoint + " (process " + child.pid()
                                + (log == null ? "" : ", log " + log.toAbsolutePath()) + ")");
                    }
                    return 0;
                }
                Thread.sleep(20);
            }
            child.destroy(); // SIGTERM: the process unmounts and closes what it opened
            err.println("qedfs: " + mountPoint + ": the mount did not become ready within "
                    + READY_TIMEOUT_MILLIS / 1000 + " s; stopped it");
            return 1;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(stopChild);
            } catch (IllegalStateException e) {
                // already shutting down: the hook is stopping the server
            }
            errorsRead.close();
        }
    }

    /**
     * The serving process's own error line ("qedfs: ..."), with what libfuse and fusermount said (their lines
     * would otherwise be lost with the process's stderr), or its last words.
     */
    static String lastError(FileChannel errors, int exit) throws IOException {
        List<String> lines = new String(Channels.newInputStream(errors.position(0)).readAllBytes(), StandardCharsets.UTF_8)
                .lines().toList();
        String last = null;
        List<String> fuse = new ArrayList<>();
        for (String l : lines) {
            if (l.startsWith("qedfs: ")) {
                last = l;
            } else if (l.startsWith("fuse: ") || l.startsWith("fusermount")) {
                fuse.add(l.strip());
            }
        }
        if (last != null) {
            return fuse.isEmpty() ? last : last + " [" + String.join("; ", fuse) + "]";
        }
        String tail = lines.isEmpty() ? "no output" : lines.get(lines.size() - 1).strip();
        return "qedfs: the mount process exited with code " + exit + " before the mount was ready: " + tail;
    }

    /**
     * The JVM options this command was started with (QEDFS_JAVA_OPTS, -D settings) go to the serving process
     * too, except a debugger agent, which would fight over its port. Unless they say otherwise, the server gets
     * a heap sized for what it holds (the L2 cache, 64 MiB by default, and request buffers) and the serial
     * collector: JVM defaults would size the heap from the machine's memory and keep hundreds of MB resident.
     * A crash report goes into {@code crashDir} (the process runs in /).
     */
    static List<String> serverJvmOptions(List<String> own, Path crashDir) {
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
            opts.add("-XX:+UseSerialGC");
        }
        if (opts.stream().noneMatch(o -> o.startsWith("-XX:ErrorFile="))) {
            opts.add("-XX:ErrorFile=" + crashDir.resolve("hs_err_pid%p.log"));
        }
        return opts;
    }

    /** Where a JVM crash report of the serving process goes: beside its log, else the temporary directory. */
    static Path crashReportDir(Path log) {
        Path dir = log == null ? null : log.toAbsolutePath().getParent();
        return dir != null ? dir : Path.of(System.getProperty("java.io.tmpdir"));
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
