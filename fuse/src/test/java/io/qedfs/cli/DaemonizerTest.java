package io.qedfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class DaemonizerTest {
    @Test
    void serverGetsTheCallersOptionsAndASmallHeapByDefault() {
        assertEquals(List.of("-Dqedfs.x=1", "-Xmx192m", "-XX:+UseSerialGC"),
                Daemonizer.serverJvmOptions(List.of("-Dqedfs.x=1", "-agentlib:jdwp=transport=dt_socket,server=y")));
        assertEquals(List.of("-Xmx1g", "-XX:+UseG1GC"), Daemonizer.serverJvmOptions(List.of("-Xmx1g", "-XX:+UseG1GC")));
    }
}
