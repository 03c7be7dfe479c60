package io.qedfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.ParseResult;

/**
 * The mount and unmount shortcuts and picocli must read an argument list alike: the same settings, field by
 * field; and whatever the shortcut does not take (help, -f, clustered options, repeats, bad values) it leaves
 * to picocli, which answers with its help or its usage error.
 */
class MountShortcutTest {
    private static final List<List<String>> MOUNTS = List.of(
            List.of("mount", "a.qed", "/mnt/q"),
            List.of("mount", "a.qed", "b.qed", "dir", "/mnt/q"),
            List.of("mount", "-r", "a.qed", "/mnt/q"),
            List.of("mount", "--read-only", "a.qed", "/mnt/q", "-q"),
            List.of("mount", "--partitions", "--sync-writes", "--trust-backing", "-v", "a.qed", "/mnt/q"),
            List.of("mount", "--overlay", "a.qed", "/mnt/q"),
            List.of("mount", "--overlay-dir", "ovl", "a.qed", "/mnt/q"),
            List.of("mount", "--overlay-dir=ovl", "--overlay", "a.qed", "/mnt/q"),
            List.of("mount", "--check", "always", "a.qed", "/mnt/q"),
            List.of("mount", "--check=NEVER", "a.qed", "/mnt/q"),
            List.of("mount", "--check-before-ready", "--check", "always", "a.qed", "/mnt/q"),
            List.of("mount", "-o", "allow_other", "-o", "uid=5,gid=6", "a.qed", "/mnt/q"),
            List.of("mount", "--log", "m.log", "--verbose", "--quiet", "a.qed", "/mnt/q"),
            List.of("mount", "--log=/var/log/m.log", "a.qed", "/mnt/q"),
            List.of("mount", "--fuse-debug", "--fuse-threads", "3", "a.qed", "/mnt/q"),
            List.of("mount", "--no-mtab", "-q", "a.qed", "/mnt/q"),
            List.of("mount", "--fuse-threads=12", "--debug", "a.qed", "/mnt/q"));

    private static final List<List<String>> UNMOUNTS = List.of(
            List.of("unmount", "/mnt/q"),
            List.of("umount", "/mnt/q"),
            List.of("unmount", "--timeout", "600", "/mnt/q"),
            List.of("unmount", "/mnt/q", "--timeout=0", "--debug"));

    @Test
    void readsPlainMountsAsPicocliDoes() {
        for (List<String> line : MOUNTS) {
            MountCommand viaShortcut = MountShortcut.parseMount(line.toArray(String[]::new));
            assertNotNull(viaShortcut, () -> "the shortcut takes " + line);
            assertEquals(settings(viaPicocli(line, MountCommand.class)), settings(viaShortcut), () -> "settings of " + line);
        }
    }

    @Test
    void readsPlainUnmountsAsPicocliDoes() {
        for (List<String> line : UNMOUNTS) {
            UnmountCommand viaShortcut = MountShortcut.parseUnmount(line.toArray(String[]::new));
            assertNotNull(viaShortcut, () -> "the shortcut takes " + line);
            UnmountCommand viaPicocli = viaPicocli(line, UnmountCommand.class);
            assertEquals(viaPicocli.mountPoint, viaShortcut.mountPoint, () -> "mountpoint of " + line);
            assertEquals(viaPicocli.timeoutSeconds, viaShortcut.timeoutSeconds, () -> "timeout of " + line);
        }
    }

    @Test
    void leavesTheRestToPicocli() {
        List<List<String>> declined = List.of(List.of("mount"), List.of("mount", "a.qed"), List.of("mount", "--help"),
                List.of("mount", "-h", "a.qed", "/m"), List.of("mount", "-f", "a.qed", "/m"), List.of("mount", "-rq", "a.qed", "/m"),
                List.of("mount", "-r", "-r", "a.qed", "/m"), List.of("mount", "-r", "--read-only", "a.qed", "/m"),
                List.of("mount", "--check", "sometimes", "a.qed", "/m"), List.of("mount", "--check", "a.qed", "/m"),
                List.of("mount", "--log", "a.log", "--log", "b.log", "a.qed", "/m"), List.of("mount", "-oallow_other", "a.qed", "/m"),
                List.of("mount", "-o", "-r", "a.qed", "/m"), List.of("mount", "--fuse-threads", "0", "a.qed", "/m"),
                List.of("mount", "--fuse-threads", "x", "a.qed", "/m"), List.of("mount", "--fuse-loop", "pool", "a.qed", "/m"),
                List.of("mount", "--overlay", "-r", "a.qed", "/m"), List.of("mount", "--quiet=true", "a.qed", "/m"),
                List.of("mount", "--", "a.qed", "/m"), List.of("mount", "@args", "/m"), List.of("mount", "", "/m"),
                List.of("mount", "--bogus", "a.qed", "/m"), List.of("mount", "--check-before-ready=x", "a.qed", "/m"), List.of("mount", "a.qed", "-r", "/m"), List.of("--debug", "mount", "a.qed", "/m"),
                List.of("unmount"), List.of("unmount", "/a", "/b"), List.of("unmount", "--timeout", "-1", "/m"),
                List.of("unmount", "--timeout", "soon", "/m"), List.of("unmount", "--help"), List.of("unmount", "-f", "/m"),
                List.of("info", "a.qed"), List.of());
        for (List<String> line : declined) {
            assertNull(MountShortcut.parse(line.toArray(String[]::new)), () -> "left to picocli: " + line);
        }
        Cli.runThroughPicocli("mount", "-r", "-r", "a.qed", "/m").assertUsageError("qedfs mount");
        Cli.runThroughPicocli("mount", "--check", "sometimes", "a.qed", "/m").assertUsageError("qedfs mount");
        Cli.runThroughPicocli("unmount", "/a", "/b").assertUsageError("qedfs unmount");
        Cli.runThroughPicocli("mount", "a.qed", "-r", "/m").assertUsageError("qedfs mount");
        assertEquals(0, Cli.runThroughPicocli("mount", "--help").exit());
    }

    private static <T> T viaPicocli(List<String> line, Class<T> type) {
        String[] args = line.toArray(String[]::new);
        ParseResult parsed = QedfsCommand.commandLine(args).parseArgs(args);
        return type.cast(parsed.subcommand().commandSpec().userObject());
    }

    private static Map<String, Object> settings(MountCommand m) {
        return Map.ofEntries(Map.entry("foreground", m.foreground), Map.entry("readOnly", m.readOnly),
                Map.entry("partitions", m.partitions), Map.entry("overlay", m.overlay),
                Map.entry("overlayDir", String.valueOf(m.overlayDir)), Map.entry("check", m.check),
                Map.entry("syncWrites", m.syncWrites), Map.entry("checkBeforeReady", m.checkBeforeReady),
                Map.entry("trustBacking", m.backingTrust.trusted),
                Map.entry("fuseOptions", List.copyOf(m.fuseOptions)), Map.entry("log", String.valueOf(m.log)),
                Map.entry("verbose", m.verbose), Map.entry("quiet", m.quiet), Map.entry("fuseDebug", m.fuseDebug),
                Map.entry("noMtab", m.noMtab),
                Map.entry("fuseThreads", String.valueOf(m.fuseThreads)),
                Map.entry("paths", List.copyOf(m.paths)));
    }
}
