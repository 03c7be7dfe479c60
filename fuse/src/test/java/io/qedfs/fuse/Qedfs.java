package io.qedfs.fuse;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the built qedfs jar and other commands for the mount tests, and cleans up mounts they leave. */
final class Qedfs {
    record Result(int exit, String out, String err) {
        String all() {
            return out + err;
        }
    }

    private Qedfs() {
    }

    /** Skips the test, with the reason, where FUSE cannot be used. */
    static void assumeFuse() {
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "no /dev/fuse on this machine");
        assumeTrue(Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libfuse.so.2")) || Files.exists(Path.of("/lib/x86_64-linux-gnu/libfuse.so.2")),
                "libfuse2 is not installed (make deps)");
        assumeTrue(onPath("fusermount") || onPath("fusermount3"), "fusermount is not installed (make deps: fuse3)");
        assumeTrue(onPath("qemu-img"), "qemu-img is not installed (make deps: qemu-utils)");
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return Files.isExecutable(Path.of("/usr/sbin", tool)) || Files.isExecutable(Path.of("/sbin", tool));
    }

    static Path jar() {
        return Path.of(System.getProperty("qedfs.jar", "target/qedfs.jar"));
    }

    /** qedfs with these arguments. */
    static Result qedfs(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("java", "-jar", jar().toString()));
        cmd.addAll(Arrays.asList(args));
        return run(cmd);
    }

    static Result sh(String script) throws IOException, InterruptedException {
        return run(List.of("bash", "-c", script));
    }

    static Result run(List<String> cmd) throws IOException, InterruptedException {
        Path out = Files.createTempFile("qedfs-it-", ".out");
        Path err = Files.createTempFile("qedfs-it-", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(600, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + cmd);
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    static Result ok(Result r, String what) {
        if (r.exit() != 0) {
            throw new AssertionError(what + " exited " + r.exit() + ": " + r.all());
        }
        return r;
    }

    /** Mounts in the background and asserts it worked; returns the serving process id. */
    static long mount(String... args) throws IOException, InterruptedException {
        List<String> all = new ArrayList<>(List.of("mount"));
        all.addAll(Arrays.asList(args));
        ok(qedfs(all.toArray(String[]::new)), "qedfs " + all);
        Path mp = Path.of(args[args.length - 1]);
        return MountTable.find(mp).orElseThrow(() -> new AssertionError("not in the mount table: " + mp)).pid();
    }

    static void unmount(Path mp) throws IOException, InterruptedException {
        ok(qedfs("unmount", mp.toString()), "qedfs unmount " + mp);
    }

    /** After a test: whatever is still mounted under {@code dir} is detached. */
    static void cleanUp(Path dir) throws IOException, InterruptedException {
        byte[] prefix = MountTable.bytes(dir.toAbsolutePath());
        for (MountInfo.Line line : MountInfo.read()) { // bytes, as the kernel has them: any path on the machine
            byte[] mp = line.mountPoint();
            if (mp.length >= prefix.length && Arrays.equals(mp, 0, prefix.length, prefix, 0, prefix.length)) {
                run(List.of("umount", "-l", new String(mp, System.getProperty("sun.jnu.encoding", "UTF-8"))));
            }
        }
        // root's mounts that a test ended without umount(8) or qedfs unmount (a signal) leave their utab entries
        // (UmountHelperEntry); the machine's /run/mount/utab keeps none of a test's
        if (isRoot() && Files.exists(Path.of("/run/mount/utab"))) {
            for (UmountHelperEntry.Entry e : UmountHelperEntry.parse(Files.readAllBytes(Path.of("/run/mount/utab")))) {
                byte[] target = e.target();
                if (target.length >= prefix.length && Arrays.equals(target, 0, prefix.length, prefix, 0, prefix.length)) {
                    run(List.of("umount", "--fake", "-i", "--", new String(target, System.getProperty("sun.jnu.encoding", "UTF-8"))));
                }
            }
        }
    }

    /** Waits until nothing is mounted at {@code mp} (auto_unmount after a crash), at most {@code seconds}. */
    static boolean waitUnmounted(Path mp, int seconds) throws IOException, InterruptedException {
        for (int i = 0; i < seconds * 20; i++) {
            if (!MountTable.isMountPoint(mp)) {
                return true;
            }
            Thread.sleep(50);
        }
        return false;
    }

    static void waitExit(long pid, int seconds) {
        ProcessHandle.of(pid).ifPresent(h -> {
            try {
                h.onExit().get(seconds, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError("process " + pid + " did not exit in " + seconds + " s", e);
            }
        });
    }
}
