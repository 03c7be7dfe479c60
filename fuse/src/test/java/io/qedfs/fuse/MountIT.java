package io.qedfs.fuse;

import static io.qedfs.fuse.Qedfs.ok;
import static io.qedfs.fuse.Qedfs.qedfs;
import static io.qedfs.fuse.Qedfs.sh;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.QedTools;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Really mounts: I/O through the raw file against a reference, several images, errors, truncate, fallocate. */
@Timeout(300)
class MountIT extends MountTestBase {

    @Test
    void randomUnalignedWritesAndReadsMatchAReference() throws Exception {
        long seed = Long.getLong("qedfs.seed", System.nanoTime());
        Random rnd = new Random(seed);
        // 4 KiB clusters, table_size 2: an L2 table maps 4 MiB, so requests cross L2 boundaries often. The file
        // stays below 16 MiB, where qemu-img check starts reporting phantom leaks for 4 KiB clusters.
        int size = 12 << 20;
        Path img = dir.resolve("disk.qed");
        QedTools.create(img, QedCreateOptions.ofSize(size).withClusterSize(4096).withTableSize(2));
        byte[] model = new byte[size];
        Qedfs.mount("--log", dir.resolve("log").toString(), img.toString(), mnt.toString());
        Path raw = mnt.resolve("disk.raw");
        assertEquals(size, Files.size(raw));
        try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            for (int i = 0; i < 1500; i++) {
                int len = rnd.nextInt(3) == 0 ? 1 + rnd.nextInt(64) : 1 + rnd.nextInt(128 << 10);
                long pos = rnd.nextLong(size - len);
                if (rnd.nextInt(3) > 0) {
                    byte[] data = new byte[len];
                    rnd.nextBytes(data);
                    writeFully(ch, pos, data);
                    System.arraycopy(data, 0, model, (int) pos, len);
                } else {
                    ByteBuffer got = ByteBuffer.allocate(len);
                    readFully(ch, pos, got);
                    assertArrayEquals(Arrays.copyOfRange(model, (int) pos, (int) pos + len), got.array(),
                            "seed " + seed + ": read at " + pos + " len " + len);
                }
            }
            ch.force(true);
        }
        // dd through the mount too, unaligned, with conv=notrunc as a disk needs
        Path pattern = dir.resolve("pattern");
        byte[] pat = new byte[1_000_001];
        rnd.nextBytes(pat);
        Files.write(pattern, pat);
        ok(sh("dd if=" + pattern + " of=" + raw + " bs=65537 seek=5777777 oflag=seek_bytes conv=notrunc,fsync status=none"), "dd");
        System.arraycopy(pat, 0, model, 5777777, pat.length);
        assertArrayEquals(model, Files.readAllBytes(raw), "seed " + seed + ": whole file through the mount");
        Qedfs.unmount(mnt);
        assertFalse(MountTable.isMountPoint(mnt));

        assertEquals(0, Qedfs.run(List.of("qemu-img", "check", img.toString())).exit(), "qemu-img check is clean");
        try (QedImage q = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            assertFalse(q.needsCheck(), "unmount clears NEED_CHECK");
        }
        Path reference = dir.resolve("reference.raw");
        Files.write(reference, model);
        Qedfs.Result cmp = Qedfs.run(List.of("qemu-img", "compare", "-f", "qed", "-F", "raw", img.toString(), reference.toString()));
        assertEquals(0, cmp.exit(), "seed " + seed + ": " + cmp.all());
    }

    @Test
    void directoryOfImagesWithRawAndQedBackingFiles() throws Exception {
        Path images = Files.createDirectory(dir.resolve("images"));
        Path bases = Files.createDirectory(dir.resolve("bases"));
        byte[] base = new byte[3 << 20];
        new Random(5).nextBytes(base);
        Files.write(bases.resolve("base.raw"), base);
        ok(sh("cd " + bases + " && qemu-img create -q -f qed -b base.raw -F raw mid.qed 8M"
                + " && qemu-io -f qed -c 'write -P 0x44 1M 100k' mid.qed"), "make mid.qed");
        QedTools.create(images.resolve("plain.qed"), QedCreateOptions.ofSize(16 << 20));
        QedTools.create(images.resolve("over-raw.qed"), QedCreateOptions.ofSize(4 << 20).withBacking("../bases/base.raw", "raw"));
        QedTools.create(images.resolve("over-qed.qed"), QedCreateOptions.ofSize(8 << 20).withBacking("../bases/mid.qed", "qed"));
        Files.writeString(images.resolve("notes.txt"), "not an image");
        Qedfs.mount(images.toString(), mnt.toString());
        try (var list = Files.list(mnt)) {
            assertEquals(List.of("over-qed.raw", "over-raw.raw", "plain.raw"),
                    list.map(p -> p.getFileName().toString()).sorted().toList());
        }
        ok(sh("printf 'hello' | dd of=" + mnt.resolve("over-raw.raw") + " bs=1 seek=1000 conv=notrunc status=none"), "write");
        ok(sh("printf 'world' | dd of=" + mnt.resolve("over-qed.raw") + " bs=1 seek=1048600 conv=notrunc status=none"), "write");
        for (String name : List.of("plain", "over-raw", "over-qed")) {
            Path q = images.resolve(name + ".qed");
            Path expected = dir.resolve(name + ".expected");
            // the mount holds the image: QEMU reads it with -U (no lock), as qemu-img info needs while qedfs writes
            ok(Qedfs.run(List.of("qemu-img", "convert", "-U", "-f", "qed", "-O", "raw", q.toString(), expected.toString())), "convert");
            assertArrayEquals(Files.readAllBytes(expected), Files.readAllBytes(mnt.resolve(name + ".raw")), name);
        }
        byte[] overRaw = Files.readAllBytes(mnt.resolve("over-raw.raw"));
        assertEquals("hello", new String(overRaw, 1000, 5));
        assertEquals(base[999], overRaw[999], "copy-on-write kept the backing bytes around the write");
        Qedfs.unmount(mnt);
        for (String name : List.of("plain", "over-raw", "over-qed")) {
            assertEquals(0, Qedfs.run(List.of("qemu-img", "check", images.resolve(name + ".qed").toString())).exit(), name);
        }
    }

    @Test
    void truncateGrowsRefusesToShrinkAndWritesPastTheEndFail() throws Exception {
        Path img = dir.resolve("disk.qed");
        QedTools.create(img, QedCreateOptions.ofSize(8 << 20));
        Qedfs.mount(img.toString(), mnt.toString());
        Path raw = mnt.resolve("disk.raw");
        ok(sh("truncate -s 24M " + raw), "grow");
        assertEquals(24 << 20, Files.size(raw));
        Qedfs.Result shrink = sh("truncate -s 1M " + raw);
        assertTrue(shrink.exit() != 0 && shrink.err().contains("Invalid argument"), shrink.all());
        Qedfs.Result past = sh("dd if=/dev/zero of=" + raw + " bs=1M seek=24 count=1 conv=notrunc status=none");
        assertTrue(past.exit() != 0 && past.err().contains("No space left on device"), past.all());
        // a write straddling the end stores what fits, and only that
        byte[] straddling = new byte[8192];
        new Random(24).nextBytes(straddling);
        Files.write(dir.resolve("straddling"), straddling);
        Qedfs.Result straddle = sh("dd if=" + dir.resolve("straddling") + " of=" + raw + " bs=8192 seek=$((24*1024*1024-4096))"
                + " oflag=seek_bytes conv=notrunc status=none");
        assertTrue(straddle.err().contains("No space left on device"), straddle.all());
        Qedfs.unmount(mnt);
        try (QedImage q = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            assertEquals(24 << 20, q.size());
            ByteBuffer tail = ByteBuffer.allocate(8192);
            q.read((24 << 20) - 8192, tail);
            byte[] expected = new byte[8192];
            System.arraycopy(straddling, 0, expected, 4096, 4096); // zeroes before it, its first half at the end
            assertArrayEquals(expected, tail.array(), "the part that fits is stored");
        }
        assertEquals(0, Qedfs.run(List.of("qemu-img", "check", img.toString())).exit());
    }

    @Test
    void punchHoleAndZeroRangeGiveSpaceBack() throws Exception {
        Path img = dir.resolve("disk.qed");
        QedTools.create(img, QedCreateOptions.ofSize(64 << 20));
        Qedfs.mount(img.toString(), mnt.toString());
        Path raw = mnt.resolve("disk.raw");
        byte[] model = new byte[64 << 20];
        new Random(32).nextBytes(model);
        Arrays.fill(model, 32 << 20, model.length, (byte) 0);
        Files.write(dir.resolve("fill"), Arrays.copyOf(model, 32 << 20));
        ok(sh("dd if=" + dir.resolve("fill") + " of=" + raw + " bs=1M conv=notrunc,fsync status=none"), "fill");
        long before = Long.parseLong(ok(sh("stat -c %b " + img), "stat").out().strip());
        ok(sh("fallocate -p -o 1M -l 8M " + raw), "punch");
        ok(sh("fallocate -z -o 20M -l 4M " + raw), "zero range");
        ok(sh("fallocate -p -o 100 -l 5000 " + raw), "partial punch");
        long after = Long.parseLong(ok(sh("stat -c %b " + img), "stat").out().strip());
        assertTrue(after * 512 <= before * 512 - (11 << 20), "12 MiB of space returned: " + before + " -> " + after + " blocks");
        for (int[] r : new int[][] {{100, 5100}, {1 << 20, 9 << 20}, {20 << 20, 24 << 20}}) {
            Arrays.fill(model, r[0], r[1], (byte) 0);
        }
        byte[] all = Files.readAllBytes(raw);
        for (int i = 0; i < model.length; i++) { // the first difference, by offset, rather than a 64 MiB dump
            if (all[i] != model[i]) {
                throw new AssertionError("byte " + i + ": " + all[i] + " instead of " + model[i]
                        + " (zero inside the punched and zeroed ranges, the data written everywhere else)");
            }
        }
        long blocks = Long.parseLong(ok(sh("stat -c %b " + raw), "stat").out().strip());
        assertEquals(after, blocks, "st_blocks of the raw file is the image's real allocation");
        Qedfs.unmount(mnt);
        assertEquals(0, Qedfs.run(List.of("qemu-img", "check", img.toString())).exit());
    }

    @Test
    void idleImageIsMarkedCleanWhileMounted() throws Exception {
        Path img = dir.resolve("disk.qed");
        QedTools.create(img, QedCreateOptions.ofSize(16 << 20));
        Qedfs.mount(img.toString(), mnt.toString());
        ok(sh("head -c 1M /dev/urandom | dd of=" + mnt.resolve("disk.raw") + " bs=64k conv=notrunc status=none"), "write");
        assertTrue(needCheck(img), "NEED_CHECK is set while allocations are fresh");
        for (int i = 0; i < 200 && needCheck(img); i++) {
            Thread.sleep(100);
        }
        assertFalse(needCheck(img), "marked clean after a few idle seconds, still mounted");
        Qedfs.unmount(mnt);
    }

    @Test
    void secondMountAndQemuWritersAreRefused() throws Exception {
        Path img = dir.resolve("disk.qed");
        QedTools.create(img, QedCreateOptions.ofSize(16 << 20));
        Path mnt2 = Files.createDirectory(dir.resolve("mnt2"));
        Qedfs.mount(img.toString(), mnt.toString());
        Qedfs.Result second = qedfs("mount", img.toString(), mnt2.toString());
        assertEquals(1, second.exit(), second.all());
        assertTrue(second.err().contains("in use") && second.err().strip().lines().count() == 1, second.err());
        assertFalse(MountTable.isMountPoint(mnt2), "nothing left mounted");
        Qedfs.Result qemu = Qedfs.run(List.of("qemu-io", "-f", "qed", "-c", "write 0 4k", img.toString()));
        assertTrue(qemu.all().contains("lock"), qemu.all());
        Qedfs.unmount(mnt);
    }

    @Test
    void missingOrCorruptImagesFailWithOneLineAndLeaveNothingMounted() throws Exception {
        Path bad = dir.resolve("bad.qed");
        Files.write(bad, new byte[] {'Q', 'E', 'D', 0, 1, 2, 3});
        Path corrupt = dir.resolve("corrupt.qed");
        QedTools.create(corrupt, QedCreateOptions.ofSize(1 << 20));
        try (FileChannel ch = FileChannel.open(corrupt, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 12345), 4); // cluster_size
        }
        for (Path p : List.of(dir.resolve("missing.qed"), bad, corrupt)) {
            Qedfs.Result r = qedfs("mount", p.toString(), mnt.toString());
            assertEquals(1, r.exit(), r.all());
            assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
            assertTrue(r.err().startsWith("qedfs: ") && r.err().contains(p.getFileName().toString()), r.err());
            assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), r.err());
            assertFalse(MountTable.isMountPoint(mnt));
        }
        Qedfs.Result usage = qedfs("mount", mnt.toString());
        assertEquals(64, usage.exit(), "bad usage: " + usage.all());
        Qedfs.Result notMounted = qedfs("unmount", mnt.toString());
        assertEquals(3, notMounted.exit());
        assertTrue(notMounted.err().contains("not mounted"), notMounted.err());
    }

    static boolean needCheck(Path img) throws Exception {
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(b, 16);
            return (b.getLong(0) & 2) != 0;
        }
    }

    static void writeFully(FileChannel ch, long pos, byte[] data) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(data);
        while (b.hasRemaining()) {
            ch.write(b, pos + b.position());
        }
    }

    static void readFully(FileChannel ch, long pos, ByteBuffer b) throws Exception {
        while (b.hasRemaining()) {
            if (ch.read(b, pos + b.position()) < 0) {
                throw new AssertionError("EOF at " + (pos + b.position()));
            }
        }
    }
}
