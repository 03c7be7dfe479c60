package io.qedfs.fuse;

import static io.qedfs.fuse.Qedfs.ok;
import static io.qedfs.fuse.Qedfs.sh;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedTools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * SEEK_DATA and SEEK_HOLE on the served files. The data ranges the kernel reports, to this JVM's lseek and to
 * {@code qemu-img map -f raw} of the raw file, are those {@code qemu-img map} reports for the image; a write still
 * in the write-behind queue counts. {@code cp --sparse=always}, {@code qemu-img convert -f raw} and
 * {@code tar --sparse} then copy only the data, and their copies equal qemu-img's conversion of the image byte
 * for byte. Partition files answer within their window, and an overlay's file has its base's data beneath.
 */
@Timeout(600)
class SparseFilesIT extends MountTestBase {
    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;
    private static final long GIB = 1024 * MIB;
    private static final Pattern EXTENT = Pattern.compile(
            "\\{ \"start\": (\\d+), \"length\": (\\d+), [^}]*\"data\": (true|false)");

    @Test
    void sparseCopiesOfAnEightGibImageHoldItsBytesAndNoMore() throws Exception {
        long size = 8 * GIB;
        Path img = dir.resolve("disk.qed");
        QedTools.create(img, QedCreateOptions.ofSize(size));
        ok(Qedfs.run(List.of("qemu-io", "-f", "qed", "-c", "write -P 17 0 1M", "-c", "write -P 34 3221225572 200k",
                "-c", "write -z 5G 1M", "-c", "write -P 51 " + (size - 64 * KIB) + " 64k", img.toString())), "qemu-io");
        Path raw = mnt.resolve("disk.raw");
        Qedfs.mount(img.toString(), mnt.toString());
        // acknowledged from the write-behind queue: the seeks below must count it as data
        ok(sh("head -c 300000 /dev/urandom | dd of=" + raw + " bs=300000 seek=" + (6 * GIB + 12345)
                + " oflag=seek_bytes conv=notrunc iflag=fullblock status=none"), "dd into the mount");

        List<long[]> seen = Lseek.dataRanges(raw);
        assertEquals(-Lseek.ENXIO, Lseek.seek(raw, size, Lseek.SEEK_DATA), "SEEK_DATA at the end");
        assertEquals(-Lseek.ENXIO, Lseek.seek(raw, size, Lseek.SEEK_HOLE), "SEEK_HOLE at the end");
        assertEquals(size - 1, Lseek.seek(raw, size - 1, Lseek.SEEK_DATA), "SEEK_DATA inside data");
        assertEquals(size, Lseek.seek(raw, size - 1, Lseek.SEEK_HOLE), "data up to the end: the end is the hole");
        assertEquals(100, Lseek.seek(raw, 100, Lseek.SEEK_DATA), "SEEK_DATA inside data is the offset");
        assertEquals(MIB, Lseek.seek(raw, 100, Lseek.SEEK_HOLE));
        assertEquals(3 * GIB, Lseek.seek(raw, MIB, Lseek.SEEK_DATA), "whole clusters: data from its cluster's start");
        assertEquals(Lseek.describe(qemuDataRanges("-f", "raw", raw.toString())), Lseek.describe(seen),
                "QEMU's raw driver sees the same holes");

        Path copy = dir.resolve("cp.raw");
        Path converted = dir.resolve("convert.raw");
        Path tar = dir.resolve("sparse.tar");
        ok(sh("cp --sparse=always " + raw + " " + copy), "cp --sparse=always");
        ok(Qedfs.run(List.of("qemu-img", "convert", "-f", "raw", "-O", "raw", raw.toString(), converted.toString())), "convert");
        ok(sh("tar --sparse -cf " + tar + " -C " + mnt + " disk.raw"), "tar --sparse");
        Qedfs.unmount(mnt);

        assertEquals(Lseek.describe(qemuDataRanges("-f", "qed", img.toString())), Lseek.describe(seen),
                "the raw file's data ranges are the image's");
        Path reference = dir.resolve("reference.raw");
        ok(Qedfs.run(List.of("qemu-img", "convert", "-f", "qed", "-O", "raw", img.toString(), reference.toString())), "reference");
        Path untarred = Files.createDirectory(dir.resolve("untarred"));
        ok(sh("tar -xf " + tar + " -C " + untarred), "untar");
        for (Path c : List.of(copy, converted, untarred.resolve("disk.raw"))) {
            assertSameBytes(reference, c);
            long blocks = Long.parseLong(ok(sh("stat -c %b " + c), "stat").out().strip());
            assertTrue(blocks * 512 <= 4 * MIB, c.getFileName() + " occupies " + blocks + " blocks for 1.6 MiB of data");
        }
    }

    @Test
    void partitionAndOverlayFilesSeekWithinTheirWindows() throws Exception {
        assumeTrue(Qedfs.onPath("sfdisk"), "sfdisk missing (make deps: fdisk)");
        Path disk = dir.resolve("disk.raw");
        ok(sh("truncate -s 256M " + disk + " && printf 'label: dos\\nstart=2048, size=64M, type=83\\nsize=100M, type=83\\n'"
                + " | sfdisk -q " + disk), "sfdisk");
        long p1Start = MIB;
        long p1Length = 64 * MIB;
        // inside p1; across p1's end into p2; inside p2
        for (long at : new long[] {p1Start + 64 * KIB + 5, p1Start + p1Length - 4 * KIB, 100 * MIB}) {
            ok(sh("head -c 131072 /dev/urandom | dd of=" + disk + " bs=131072 seek=" + at
                    + " oflag=seek_bytes conv=notrunc iflag=fullblock status=none"), "dd");
        }
        Path img = dir.resolve("disk.qed");
        ok(Qedfs.run(List.of("qemu-img", "convert", "-f", "raw", "-O", "qed", disk.toString(), img.toString())), "convert");
        Path overlays = dir.resolve("overlays");
        Qedfs.mount("--partitions", "--overlay-dir", overlays.toString(), img.toString(), mnt.toString());
        Path p1 = mnt.resolve("disk-p1.raw");
        ok(sh("head -c 4096 /dev/urandom | dd of=" + p1 + " bs=4096 seek=" + (10 * MIB + 1)
                + " oflag=seek_bytes conv=notrunc iflag=fullblock status=none"), "dd into the overlay");

        List<long[]> wholeDisk = Lseek.dataRanges(mnt.resolve("disk.raw"));
        List<long[]> inP1 = Lseek.dataRanges(p1);
        List<long[]> inP2 = Lseek.dataRanges(mnt.resolve("disk-p2.raw"));
        assertEquals(p1Length, Lseek.seek(p1, p1Length - 1, Lseek.SEEK_HOLE), "data up to p1's end: its end is the hole");
        assertEquals(-Lseek.ENXIO, Lseek.seek(p1, p1Length, Lseek.SEEK_DATA), "nothing past p1's end, p2's data neither");
        Path copy = dir.resolve("p1.copy");
        ok(sh("cp --sparse=always " + p1 + " " + copy), "cp --sparse=always");
        Qedfs.unmount(mnt);

        Path overlay = overlays.resolve(Overlays.overlayName("disk.raw"));
        List<long[]> expected = qemuDataRanges("-f", "qed", overlay.toString());
        assertEquals(Lseek.describe(expected), Lseek.describe(wholeDisk), "the overlay's file: its data and its base's");
        assertEquals(Lseek.describe(window(expected, p1Start, p1Length)), Lseek.describe(inP1), "p1's window");
        assertEquals(Lseek.describe(window(expected, p1Start + p1Length, 100 * MIB)), Lseek.describe(inP2), "p2's window");
        assertTrue(inP1.size() == 3 && inP2.size() == 2, Lseek.describe(inP1) + " / " + Lseek.describe(inP2));
        Path reference = dir.resolve("reference.raw");
        ok(Qedfs.run(List.of("qemu-img", "convert", "-f", "qed", "-O", "raw", overlay.toString(), reference.toString())), "reference");
        assertArrayEquals(read(reference, p1Start, (int) p1Length), read(copy, 0, (int) p1Length), "the copy of p1 is p1");
    }

    /** The ranges qemu-img map reports as data (adjacent ones merged), for {@code -f FORMAT FILE}. */
    private static List<long[]> qemuDataRanges(String... formatAndFile) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("qemu-img", "map", "-U", "--output=json"));
        cmd.addAll(List.of(formatAndFile));
        Matcher m = EXTENT.matcher(ok(Qedfs.run(cmd), "qemu-img map").out());
        List<long[]> out = new ArrayList<>();
        while (m.find()) {
            long start = Long.parseLong(m.group(1));
            long length = Long.parseLong(m.group(2));
            if (!Boolean.parseBoolean(m.group(3))) {
                continue;
            }
            long[] last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && last[0] + last[1] == start) {
                last[1] += length;
            } else {
                out.add(new long[] {start, length});
            }
        }
        return out;
    }

    /** {@code ranges} clipped to {@code [start, start+length)}, relative to {@code start}. */
    private static List<long[]> window(List<long[]> ranges, long start, long length) {
        List<long[]> out = new ArrayList<>();
        for (long[] r : ranges) {
            long from = Math.max(r[0], start);
            long to = Math.min(r[0] + r[1], start + length);
            if (from < to) {
                out.add(new long[] {from - start, to - from});
            }
        }
        return out;
    }

    /**
     * Byte-for-byte equality of two sparse host files without reading gigabytes of holes: equal sizes, and equal
     * bytes wherever either holds data (what is a hole in both reads as zeroes in both).
     */
    private static void assertSameBytes(Path expected, Path actual) throws IOException {
        assertEquals(Files.size(expected), Files.size(actual), actual.getFileName() + ": size");
        List<long[]> ranges = new ArrayList<>(Lseek.dataRanges(expected));
        ranges.addAll(Lseek.dataRanges(actual));
        for (long[] r : ranges) {
            for (long done = 0; done < r[1]; done += MIB) {
                int n = (int) Math.min(MIB, r[1] - done);
                assertArrayEquals(read(expected, r[0] + done, n), read(actual, r[0] + done, n),
                        actual.getFileName() + ": bytes at " + (r[0] + done));
            }
        }
    }

    private static byte[] read(Path file, long pos, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        try (FileChannel ch = FileChannel.open(file)) {
            while (b.hasRemaining() && ch.read(b, pos + b.position()) >= 0) {
                // a short read just continues
            }
        }
        assertEquals(n, b.position(), file + ": short at " + pos);
        return b.array();
    }
}
