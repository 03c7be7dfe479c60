package io.qedfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class DaemonizerTest {
    @Test
    void serverGetsTheCallersOptionsASmallHeapByDefaultAndItsCrashReportFile() {
        String report = "/run/qedfs/hs_err_pid%p.log";
        assertEquals(List.of("-Dqedfs.x=1", "-Xmx192m", "-XX:+UseG1GC", "-XX:ErrorFile=" + report),
                Daemonizer.serverJvmOptions(List.of("-Dqedfs.x=1", "-agentlib:jdwp=transport=dt_socket,server=y"), report));
        assertEquals(List.of("-Xmx1g", "-XX:+UseSerialGC", "-XX:ErrorFile=/e/%p"),
                Daemonizer.serverJvmOptions(List.of("-Xmx1g", "-XX:+UseSerialGC", "-XX:ErrorFile=/e/%p"), report));
    }

    @Test
    void classPathEntriesBecomeAbsoluteForAServerRunningInTheRootDirectory() {
        String cwd = Path.of("").toAbsolutePath().toString();
        assertEquals(cwd + "/target/qedfs.jar:/opt/q/lib.jar", Daemonizer.absoluteClassPath("target/qedfs.jar:/opt/q/lib.jar"));
    }
}
