package io.qedfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class DaemonizerTest {
    @Test
    void serverGetsTheCallersOptionsASmallHeapByDefaultAndCrashReportsBesideTheLog() {
        Path logDir = Path.of("/var/log/q");
        assertEquals(List.of("-Dqedfs.x=1", "-Xmx192m", "-XX:+UseG1GC", "-XX:ErrorFile=/var/log/q/hs_err_pid%p.log"),
                Daemonizer.serverJvmOptions(List.of("-Dqedfs.x=1", "-agentlib:jdwp=transport=dt_socket,server=y"), logDir));
        assertEquals(List.of("-Xmx1g", "-XX:+UseSerialGC", "-XX:ErrorFile=/e/%p"),
                Daemonizer.serverJvmOptions(List.of("-Xmx1g", "-XX:+UseSerialGC", "-XX:ErrorFile=/e/%p"), logDir));
        assertEquals(logDir, Daemonizer.crashReportDir(logDir.resolve("mount.log")));
        assertEquals(Path.of(System.getProperty("java.io.tmpdir")), Daemonizer.crashReportDir(null));
    }

    @Test
    void classPathEntriesBecomeAbsoluteForAServerRunningInTheRootDirectory() {
        String cwd = Path.of("").toAbsolutePath().toString();
        assertEquals(cwd + "/target/qedfs.jar:/opt/q/lib.jar", Daemonizer.absoluteClassPath("target/qedfs.jar:/opt/q/lib.jar"));
    }
}
