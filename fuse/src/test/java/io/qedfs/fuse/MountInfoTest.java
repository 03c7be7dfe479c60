package io.qedfs.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The mount table parsed as the kernel writes it: bytes, octal escapes, paths that are not UTF-8. */
class MountInfoTest {
    private static byte[] bytes(Object... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object p : parts) {
            if (p instanceof String s) {
                out.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
            } else {
                out.writeBytes((byte[]) p);
            }
        }
        return out.toByteArray();
    }

    @Test
    void pathsAreBytesWithOctalEscapesUndone() {
        byte[] notUtf8 = {(byte) 0xff, (byte) 0xfe, 'x'};
        byte[] table = bytes(
                "22 27 0:21 / /proc rw,relatime - proc proc rw\n",
                "90 27 0:50 / /tmp/", notUtf8, " rw,relatime shared:1 - tmpfs tmpfs rw\n",
                "91 27 0:51 / /tmp/a\\040b\\011c\\012d\\134e rw master:2 propagate_from:1 - fuse.y x rw,user_id=1000,group_id=1000\n",
                "garbage without a separator\n",
                "92 27 0:52 / /tmp/\\303\\251t\\303\\251 rw - fuse qedfs:7 rw,user_id=0\n");
        List<MountInfo.Line> lines = MountInfo.parse(table);
        assertEquals(4, lines.size(), "the malformed line is skipped, not fatal");
        assertArrayEquals(bytes("/tmp/", notUtf8), lines.get(1).mountPoint());
        assertEquals("tmpfs", lines.get(1).fsType());
        assertFalse(lines.get(1).isFuse());

        MountInfo.Line fuse = lines.get(2);
        assertArrayEquals(bytes("/tmp/a b\tc\nd\\e"), fuse.mountPoint());
        assertEquals("0:51", fuse.device());
        assertEquals("fuse.y", fuse.fsType());
        assertEquals("x", fuse.source());
        assertTrue(fuse.isFuse(), "a FUSE mount whatever its subtype");
        assertEquals(1000, fuse.ownerUid());

        assertArrayEquals("/tmp/\u00e9t\u00e9".getBytes(StandardCharsets.UTF_8), lines.get(3).mountPoint(), "escaped UTF-8 stays UTF-8");
        assertEquals(0, lines.get(3).ownerUid());
        assertEquals(-1, lines.get(0).ownerUid());
    }

    @Test
    void aBackslashThatIsNotAnEscapeStays() {
        assertArrayEquals(bytes("a\\9b\\12"), MountInfo.unescape(bytes("a\\9b\\12")));
        assertArrayEquals(new byte[] {(byte) 0xff}, MountInfo.unescape(bytes("\\377")));
    }

    @Test
    void theTopmostMountAtAPathDecides() {
        List<MountInfo.Line> lines = MountInfo.parse(bytes(
                "40 27 0:40 / /m rw - fuse.qedfs qedfs:1 rw,user_id=0\n",
                "41 27 0:41 / /m/sub rw - fuse.qedfs qedfs:2 rw,user_id=0\n",
                "42 40 0:42 / /m rw - fuse.other o rw,user_id=0\n"));
        assertEquals("0:42", MountTable.topmostFuse(lines, Path.of("/m")).orElseThrow().device());
        List<MountInfo.Line> covered = MountInfo.parse(bytes(
                "40 27 0:40 / /m rw - fuse.qedfs qedfs:1 rw,user_id=0\n",
                "43 40 0:43 / /m rw - tmpfs tmpfs rw\n"));
        assertTrue(MountTable.topmostFuse(covered, Path.of("/m")).isEmpty(), "a tmpfs over it hides the FUSE mount");
    }

    @Test
    void recordsKeepAnyPathAndEveryErrorLine() {
        byte[] path = bytes("/tmp/", new byte[] {(byte) 0xff, ' ', '\\', '\n'}, "m");
        MountRecord.Contents c = new MountRecord.Contents(123, 456, "0:57", path, MountRecord.State.FAILED,
                List.of("/a.qed: a write acknowledged earlier could not be applied (File too large)", "/b.qed: x"));
        MountRecord.Contents back = MountRecord.decode(MountRecord.encode(c));
        assertArrayEquals(path, back.mountPoint());
        assertEquals(List.of(123L, 456L, "0:57", MountRecord.State.FAILED, c.errors()),
                List.of(back.pid(), back.startTicks(), back.device(), back.state(), back.errors()));
        assertTrue(back.isFrom(123, 456) && !back.isFrom(123, 457), "a reused pid is another process");
        assertNull(MountRecord.decode(bytes("pid 1\nstate serving\n")), "an incomplete record is none");
    }
}
