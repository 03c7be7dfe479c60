package io.qedfs.fuse;

import static io.qedfs.fuse.Qedfs.ok;
import static io.qedfs.fuse.Qedfs.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedTools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A crashing serving process writes its JVM crash report into its user's private record directory, never into
 * a shared one: the JVM opens the report following links and truncating, so a link another user plants in /tmp
 * under the name the report would get must not aim a root server at a file of the attacker's choosing. The crash
 * is real (SIGSEGV sent to the server, which HotSpot reports like any other), through the launcher and through
 * {@code java -jar} (the Daemonizer) alike.
 */
@Timeout(120)
class CrashReportIT extends MountTestBase {
    private static final String VICTIM_TEXT = "a file the attacker wants overwritten\n";

    @Test
    void launchersServerReportsACrashPrivately() throws Exception {
        Path lib = Files.createDirectory(dir.resolve("lib"));
        Files.createSymbolicLink(lib.resolve("qedfs.jar"), Qedfs.jar().toAbsolutePath());
        Path launcher = lib.resolve("qedfs");
        Files.writeString(launcher, Files.readString(Path.of("src/main/sh/qedfs.in")).replace("@LIB@", lib.toString()));
        assertTrue(launcher.toFile().setExecutable(true), "chmod +x");
        crashAndCheck(launcher + " mount");
    }

    @Test
    void daemonizedServerReportsACrashPrivately() throws Exception {
        crashAndCheck("java -jar " + Qedfs.jar().toAbsolutePath() + " mount");
    }

    private void crashAndCheck(String mountCommand) throws Exception {
        Qedfs.assumeFuse();
        Path img = dir.resolve("d.qed");
        QedTools.create(img, QedCreateOptions.ofSize(16 << 20));
        ok(sh(mountCommand + " -q " + img + " " + mnt), "mount");
        long pid = MountTable.find(mnt).orElseThrow().pid();

        Path victim = Files.writeString(dir.resolve("victim"), VICTIM_TEXT);
        String name = "hs_err_pid" + pid + ".log";
        List<Path> planted = List.of(Path.of("/tmp", name), Path.of(System.getProperty("java.io.tmpdir"), name));
        Path report = MountRecord.ownDirectory().resolve(name);
        try {
            for (Path link : planted) {
                if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.createSymbolicLink(link, victim);
                }
            }
            ok(sh("kill -SEGV " + pid), "kill -SEGV");
            Qedfs.waitExit(pid, 60);
            assertEquals(VICTIM_TEXT, Files.readString(victim), "the planted link was not followed");
            assertTrue(Files.readString(report).contains("SIGSEGV"), "the crash report is in " + report.getParent());
            assertTrue(Qedfs.waitUnmounted(mnt, 30), "auto_unmount cleans up after the crash");
        } finally {
            for (Path link : planted) {
                if (Files.isSymbolicLink(link)) {
                    Files.delete(link);
                }
            }
            Files.deleteIfExists(report);
        }
    }
}
