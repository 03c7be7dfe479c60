package io.qedfs.fuse;

import static io.qedfs.fuse.Qedfs.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Real dd without {@code conv=notrunc} onto a mounted disk, as people type it: its O_TRUNC open keeps the disk's
 * size and bytes (as a block device and QEMU's FUSE export do), a truncate to the current size succeeds, a shrink
 * is refused with a log line saying why, and a grow resizes the image. Content is checked against QEMU's reading.
 */
@Timeout(300)
class DdWithoutNotruncIT extends MountTestBase {
    private static final int SIZE = 8 << 20;

    @Test
    void ddWithoutSeekWritesInPlaceAndKeepsTheSize() throws Exception {
        Path img = image();
        byte[] expected = content(img);
        byte[] pattern = random(300_001, 1);
        Path in = Files.write(dir.resolve("pattern"), pattern);
        Qedfs.mount(img.toString(), mnt.toString());
        Path raw = mnt.resolve("disk.raw");
        Qedfs.Result dd = Qedfs.run(List.of("dd", "if=" + in, "of=" + raw, "bs=4096", "status=none"));
        assertEquals(0, dd.exit(), dd.all());
        assertEquals("", dd.err());
        assertEquals(SIZE, Files.size(raw), "the disk keeps its size");
        Qedfs.unmount(mnt);
        System.arraycopy(pattern, 0, expected, 0, pattern.length);
        assertArrayEquals(expected, content(img), "the pattern in place, every other byte as before");
    }

    @Test
    void ddWithSeekWritesAndItsShrinkIsRefusedWithAReasonInTheLog() throws Exception {
        Path img = image();
        byte[] expected = content(img);
        byte[] pattern = random(100_000, 2);
        Path in = Files.write(dir.resolve("pattern"), pattern);
        Path log = dir.resolve("mount.log");
        Qedfs.mount("--log", log.toString(), img.toString(), mnt.toString());
        Path raw = mnt.resolve("disk.raw");
        // dd truncates its output to seek * bs first: a shrink, refused, which dd reports and goes on from
        Qedfs.Result dd = Qedfs.run(List.of("dd", "if=" + in, "of=" + raw, "bs=4096", "seek=10", "status=none"));
        assertTrue(dd.err().contains("failed to truncate to 40960 bytes") && dd.err().contains("Invalid argument"), dd.all());
        // a truncate to the current size (dd's when seek * bs is the disk's end) succeeds and changes nothing
        ok(Qedfs.run(List.of("truncate", "-s", Integer.toString(SIZE), raw.toString())), "truncate to the current size");
        Qedfs.Result shrink = Qedfs.run(List.of("truncate", "-s", "1M", raw.toString()));
        assertEquals(1, shrink.exit(), shrink.all());
        assertEquals(SIZE, Files.size(raw));
        Qedfs.unmount(mnt);
        System.arraycopy(pattern, 0, expected, 40960, pattern.length);
        assertArrayEquals(expected, content(img));
        String text = Files.readString(log);
        assertTrue(text.contains("truncate /disk.raw to 40960 refused: a disk does not shrink")
                && text.contains("truncate /disk.raw to 1048576 refused: a disk does not shrink"), text);
    }

    @Test
    void aGrowResizesTheImage() throws Exception {
        Path img = image();
        byte[] before = content(img);
        Qedfs.mount(img.toString(), mnt.toString());
        Path raw = mnt.resolve("disk.raw");
        ok(Qedfs.run(List.of("truncate", "-s", Integer.toString(2 * SIZE), raw.toString())), "truncate to twice the size");
        assertEquals(2 * SIZE, Files.size(raw));
        // dd at the new end: its truncate is to the current size, and its write past the end finds no space
        Qedfs.Result dd = Qedfs.run(List.of("dd", "if=/dev/zero", "of=" + raw, "bs=1M", "count=1", "seek=16", "status=none"));
        assertTrue(dd.exit() != 0 && dd.err().contains("No space left on device") && !dd.err().contains("truncate"), dd.all());
        Qedfs.unmount(mnt);
        byte[] after = content(img);
        assertEquals(2 * SIZE, after.length, "qemu-img sees the grown size");
        assertArrayEquals(before, Arrays.copyOf(after, SIZE));
        assertArrayEquals(new byte[SIZE], Arrays.copyOfRange(after, SIZE, 2 * SIZE), "the new range reads as zeros");
    }

    /** An 8 MiB image with data in most of its first 4 MiB, written by QEMU. */
    private Path image() throws Exception {
        Path img = dir.resolve("disk.qed");
        ok(Qedfs.run(List.of("qemu-img", "create", "-q", "-f", "qed", img.toString(), Integer.toString(SIZE))), "create");
        ok(Qedfs.run(List.of("qemu-io", "-c", "write -P 0x33 0 3M", "-c", "write -P 0x44 65536 4096", img.toString())), "qemu-io");
        return img;
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }
}
