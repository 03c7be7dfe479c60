package io.qedfs.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** utab's lines as libmount writes them: octal escapes in the values, fields that are not a qedfs mount's. */
class UmountHelperEntryTest {
    @Test
    void readsSourceTargetAndOptionsOfEveryLine() {
        String utab = "SRC=qedfs:41 TARGET=/tmp/my\\040mp ROOT=/ OPTS=helper=fuse.qedfs\n"
                + "SRC=/img/a\\134b.qed TARGET=/mnt/q ROOT=/ OPTS=user=joe\n"
                + "TARGET=/no/source ROOT=/\n"
                + "SRC=/dev/sda1 TARGET=/boot ROOT=/ ATTRS=x-systemd\n";
        List<UmountHelperEntry.Entry> entries = UmountHelperEntry.parse(utab.getBytes(StandardCharsets.UTF_8));
        assertEquals(3, entries.size(), "a line without a source is skipped: " + entries);
        assertEquals("qedfs:41", entries.get(0).source());
        assertArrayEquals("/tmp/my mp".getBytes(StandardCharsets.UTF_8), entries.get(0).target());
        assertEquals("helper=fuse.qedfs", entries.get(0).options());
        assertEquals("/img/a\\b.qed", entries.get(1).source());
        assertEquals("user=joe", entries.get(1).options());
        assertEquals("", entries.get(2).options());
    }
}
