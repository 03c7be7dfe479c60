package io.qedfs.fuse;

import static io.qedfs.fuse.Qedfs.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code make demo} as a normal Debian user: a user created for this test (useradd -M, removed after), with the
 * PATH such a user has (no /usr/sbin, where mkfs.ext4 and debugfs live), runs examples/demo.sh from a copy of
 * the tree; then the commands it suggests are run as written, the user's as the user and the {@code sudo} ones
 * as root, and must show the guest's files. Root only: it creates a user.
 *
 * <p>fusermount3 opens /dev/fuse as the calling user, and Debian's udev makes it 0666; a machine without udev
 * (a container, a VM started without it) may leave it 0600. The test therefore runs in a mount namespace of its
 * own where /dev/fuse is a 0666 node of the same device, as on Debian, and leaves the machine's as it is.
 */
@Timeout(600)
class NonRootDemoIT {
    private static final String USER_PATH = "/usr/local/bin:/usr/bin:/bin";

    @TempDir
    Path dir;
    private String user;
    private Path tmp;
    private Process namespace; // holds the test's mount namespace open; every command enters it

    @BeforeEach
    void createUser() throws Exception {
        assumeTrue(Qedfs.isRoot(), "needs root: creates a second local user");
        Qedfs.assumeFuse();
        user = "qedfs-demo" + ProcessHandle.current().pid() % 100_000;
        ok(Qedfs.run(List.of("useradd", "-M", "-s", "/bin/sh", user)), "useradd " + user);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        tmp = Files.createDirectory(dir.resolve("tmp"));
        ok(Qedfs.run(List.of("chown", user, tmp.toString())), "chown");
        Path fuse = dir.resolve("fuse");
        namespace = new ProcessBuilder("unshare", "-m", "--propagation", "private", "bash", "-c",
                "mknod " + fuse + " c $((0x$(stat -c %t /dev/fuse))) $((0x$(stat -c %T /dev/fuse))) && chmod 666 " + fuse + " && mount --bind " + fuse + " /dev/fuse && echo ready && exec sleep 600")
                .redirectErrorStream(true).start();
        String ready = new java.io.BufferedReader(new java.io.InputStreamReader(namespace.getInputStream())).readLine();
        assertEquals("ready", ready, "a mount namespace with /dev/fuse open to users");
    }

    @AfterEach
    void removeUser() throws Exception {
        if (namespace != null) {
            namespace.destroy(); // the last process in the namespace: its mounts go with it
            namespace.waitFor();
        }
        if (user != null) {
            ok(Qedfs.run(List.of("userdel", user)), "userdel " + user);
        }
    }

    @Test
    void demoAndItsHintsWorkForAUserWithoutSbinOnThePath() throws Exception {
        // the tree as a fresh clone has it after make build, readable by everyone
        Path repo = Files.createDirectories(dir.resolve("repo"));
        Files.createDirectories(repo.resolve("examples"));
        Files.createDirectories(repo.resolve("fuse/target"));
        Path demo = Files.copy(Path.of("..", "examples", "demo.sh"), repo.resolve("examples/demo.sh"));
        Files.setPosixFilePermissions(demo, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path jar = Files.copy(Qedfs.jar(), repo.resolve("fuse/target/qedfs.jar"));
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
        // the launcher, as make build writes it for the tree
        Path launcher = Files.writeString(repo.resolve("fuse/target/qedfs"),
                Files.readString(Path.of("src/main/sh/qedfs.in")).replace("@LIB@", jar.getParent().toString()));
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        ok(Qedfs.run(List.of("chmod", "-R", "go+rX", repo.toString())), "chmod");

        Qedfs.Result r = asUser("bash " + demo);
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.out().contains("docs/hello.txt says: Hello from inside a QED image."), r.out());

        // the suggestions, from the alias for the launcher (when qedfs is not installed) to root's unmount, run as
        // written: the user's with the alias defined as the first line says
        String next = r.out().substring(r.out().indexOf("Try next"));
        String alias = "";
        if (asUser("command -v qedfs").exit() != 0) {
            Matcher a = Pattern.compile("\n  (alias qedfs=(\\S+) .*)\n").matcher(next);
            assertTrue(a.find(), "an alias for the launcher: " + next);
            assertEquals(launcher.toString(), a.group(2), next);
            alias = "shopt -s expand_aliases\n" + a.group(1) + "\n";
        }
        Matcher cd = Pattern.compile("\n  cd (/\\S+)\n").matcher(next);
        assertTrue(cd.find(), next);
        Path work = Path.of(cd.group(1));
        assertTrue(work.startsWith(tmp), work.toString());
        List<String> lines = new ArrayList<>(next.substring(cd.end()).lines().map(String::strip).toList());
        int last = lines.indexOf(lines.stream().filter(l -> l.startsWith("sudo umount")).findFirst().orElseThrow(() -> new AssertionError(next)));
        StringBuilder userOut = new StringBuilder();
        StringBuilder rootOut = new StringBuilder();
        for (String line : lines.subList(0, last + 1)) {
            if (line.startsWith("#")) {
                continue;
            }
            Qedfs.Result step = line.startsWith("sudo ")
                    ? asRoot("cd " + work + " && " + line.replace("sudo ", ""))
                    : asUser(alias + "cd " + work + " && " + line);
            assertEquals(0, step.exit(), line + ": " + step.all());
            (line.startsWith("sudo ") ? rootOut : userOut).append(step.out());
        }
        assertTrue(userOut.toString().contains("hello.txt"), "debugfs as the user: " + userOut);
        assertTrue(rootOut.toString().contains("docs") && rootOut.toString().contains("random.bin"), "ls guest as root: " + rootOut);
        ok(asRoot("! mountpoint -q " + work.resolve("mnt") + " && ! mountpoint -q " + work.resolve("guest")), "all unmounted");
        ok(Qedfs.run(List.of("qemu-img", "check", work.resolve("disk.qed").toString())), "qemu-img check");
    }

    /** A login-less shell of the second user in the test's namespace, with the environment a normal user has. */
    private Qedfs.Result asUser(String script) throws Exception {
        return Qedfs.run(List.of("nsenter", "-t", Long.toString(namespace.pid()), "-m", "--", "runuser", "-u", user, "--",
                "env", "-i", "PATH=" + USER_PATH, "HOME=" + tmp, "TMPDIR=" + tmp, "bash", "-c", script));
    }

    private Qedfs.Result asRoot(String script) throws Exception {
        return Qedfs.run(List.of("nsenter", "-t", Long.toString(namespace.pid()), "-m", "--", "bash", "-c", script));
    }
}
