package io.qedfs.fuse;

import static io.qedfs.fuse.Qedfs.ok;
import static io.qedfs.fuse.Qedfs.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedTools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code mount --partitions}: a GPT written through a first mount, ext4 made on each partition file, a loop
 * mount of a partition file, a read-only remount; qemu-img's raw conversion is the oracle for the bytes, and
 * writes to one partition are shown to leave every byte outside it alone.
 */
@Timeout(600)
class PartitionsIT extends MountTestBase {
    private static final long MIB = 1 << 20;
    private static final long P1_START = 1 * MIB;
    private static final long P1_LENGTH = 64 * MIB;
    private static final long P2_START = P1_START + P1_LENGTH;

    @Test
    void ext4InAGptPartitionSurvivesARemountAndMatchesQemuImg() throws Exception {
        assumeTrue(Qedfs.isRoot(), "loop devices need root");
        assumeTrue(Qedfs.onPath("sfdisk") && Qedfs.onPath("mkfs.ext4"), "sfdisk / e2fsprogs missing (make deps)");
        Path img = dir.resolve("disk.qed");
        QedTools.create(img, QedCreateOptions.ofSize(256 * MIB));
        Path guest = Files.createDirectory(dir.resolve("guest"));
        Path raw = mnt.resolve("disk.raw");
        Path p1 = mnt.resolve("disk-p1.raw");
        Path p2 = mnt.resolve("disk-p2.raw");

        Qedfs.mount(img.toString(), mnt.toString());
        ok(sh("printf 'label: gpt\\nstart=" + P1_START / 512 + ", size=" + P1_LENGTH / 512 + "\\n,,L\\n' | sfdisk -q " + raw), "sfdisk");
        String dump = ok(sh("sfdisk --dump " + raw), "sfdisk --dump").out();
        long p2Length = 512 * Long.parseLong(dump.replaceAll("(?s).*disk.raw2 : start=\\s*" + P2_START / 512 + ", size=\\s*(\\d+),.*", "$1"));
        assertEquals(List.of("disk.raw"), list(), "without --partitions, only the disk");
        Qedfs.unmount(mnt);

        Path log = dir.resolve("rw.log");
        Qedfs.mount("--partitions", "--log", log.toString(), img.toString(), mnt.toString());
        assertEquals(List.of("disk-p1.raw", "disk-p2.raw", "disk.raw"), list());
        assertEquals(P1_LENGTH, Files.size(p1));
        assertEquals(p2Length, Files.size(p2));
        assertTrue(Files.readString(log).contains("GPT partition table, 2 partition file(s)"), Files.readString(log));

        ok(sh("mkfs.ext4 -q -F " + p2), "mkfs.ext4 p2");
        ok(sh("mount -o loop " + p2 + " " + guest), "loop mount of disk-p2.raw");
        ok(sh("head -c 3000000 /dev/urandom > " + guest + "/a && mkdir " + guest + "/d && head -c 777 /dev/urandom > "
                + guest + "/d/b && sync"), "copy files in");
        String sums = ok(sh("cd " + guest + " && sha256sum a d/b"), "sums").out();
        ok(sh("umount " + guest), "umount guest");
        long blocks = Long.parseLong(ok(sh("stat -c %b " + p2), "stat").out().strip());
        assertTrue(blocks > 0 && blocks * 512 < p2Length, "st_blocks of p2 counts its data clusters: " + blocks);

        String outsideP1 = outside(raw);
        ok(sh("mkfs.ext4 -q -F " + p1), "mkfs.ext4 p1");
        ok(sh("head -c 1000000 /dev/urandom | dd of=" + p1 + " bs=4096 seek=" + (P1_LENGTH - 1_000_000) + " oflag=seek_bytes"
                + " conv=notrunc status=none"), "write up to the last byte of p1");
        ok(sh("fallocate -p -o 0 -l 65536 " + p1), "punch a hole at the start of p1");
        Qedfs.Result pastEnd = sh("dd if=/dev/zero of=" + p1 + " bs=4096 seek=" + P1_LENGTH / 4096 + " count=1 conv=notrunc status=none");
        assertTrue(pastEnd.exit() != 0 && pastEnd.err().contains("No space left on device"), pastEnd.all());
        assertEquals("0", ok(sh("dd if=" + p1 + " bs=4096 skip=" + P1_LENGTH / 4096 + " count=1 status=none | wc -c"), "read").out().strip(),
                "a read past the end of p1 is short");
        assertEquals(outsideP1, outside(raw), "writes to p1 leave every byte outside p1 unchanged");
        assertEquals(sha(p1, 0, P1_LENGTH), sha(raw, P1_START, P1_LENGTH), "p1 is disk.raw's window at the partition's offset");
        assertEquals(ok(sh("head -c 65536 /dev/zero | sha256sum"), "zeros").out(), sha(raw, P1_START, 65536), "the punched hole reads as zeroes");
        Qedfs.unmount(mnt);
        assertEquals(0, Qedfs.run(List.of("qemu-img", "check", img.toString())).exit(), "qemu-img check after unmount");

        Path converted = dir.resolve("converted.raw");
        ok(Qedfs.run(List.of("qemu-img", "convert", "-f", "qed", "-O", "raw", img.toString(), converted.toString())), "convert");
        String before = ok(sh("sha256sum < " + img), "sha").out();
        Qedfs.mount("-r", "--partitions", img.toString(), mnt.toString());
        assertEquals("-r--r--r--", ok(sh("stat -c %A " + p2), "stat").out().strip());
        assertEquals(sha(converted, P2_START, p2Length), sha(p2, 0, p2Length), "p2's bytes equal qemu-img's at the partition offset");
        assertEquals(sha(converted, P1_START, P1_LENGTH), sha(p1, 0, P1_LENGTH), "p1's too");
        ok(sh("mount -o loop,ro " + p2 + " " + guest), "read-only loop mount of disk-p2.raw");
        assertEquals(sums, ok(sh("cd " + guest + " && sha256sum a d/b"), "sums").out(), "the files survive unmount and read-only remount");
        ok(sh("umount " + guest), "umount guest");
        Qedfs.Result write = sh("dd if=/dev/zero of=" + p1 + " bs=4k count=1 conv=notrunc status=none");
        assertTrue(write.exit() != 0 && write.err().contains("Read-only file system"), write.all());
        Qedfs.unmount(mnt);
        assertEquals(before, ok(sh("sha256sum < " + img), "sha").out(), "a read-only mount leaves the image byte-for-byte unchanged");
    }

    @Test
    void mbrLogicalsAreNumberedFromFiveAndADiskWithoutATableGetsNoExtraFiles() throws Exception {
        assumeTrue(Qedfs.onPath("sfdisk"), "sfdisk missing (make deps: fdisk)");
        Path disk = dir.resolve("disk.raw");
        ok(sh("truncate -s 64M " + disk + " && printf 'label: dos\\n" + "disk.raw1 : start=2048, size=8M, type=83\\n"
                + "disk.raw2 : size=40M, type=5\\ndisk.raw5 : size=10M\\ndisk.raw6 : size=12M\\n' | sfdisk -q " + disk), "sfdisk");
        Path images = Files.createDirectory(dir.resolve("images"));
        ok(Qedfs.run(List.of("qemu-img", "convert", "-f", "raw", "-O", "qed", disk.toString(), images.resolve("mbr.qed").toString())), "convert");
        QedTools.create(images.resolve("blank.qed"), QedCreateOptions.ofSize(16 * MIB));
        Path log = dir.resolve("log");
        Qedfs.mount("--partitions", "--log", log.toString(), images.toString(), mnt.toString());
        assertEquals(List.of("blank.raw", "mbr-p1.raw", "mbr-p5.raw", "mbr-p6.raw", "mbr.raw"), list());
        String dump = ok(sh("sfdisk --dump " + disk), "dump").out();
        for (int n : new int[] {1, 5, 6}) {
            String line = dump.lines().filter(l -> l.startsWith(disk + Integer.toString(n) + " ")).findFirst().orElseThrow();
            long start = 512 * Long.parseLong(line.replaceAll(".*start=\\s*(\\d+),.*", "$1"));
            long length = 512 * Long.parseLong(line.replaceAll(".*size=\\s*(\\d+),.*", "$1"));
            Path file = mnt.resolve("mbr-p" + n + ".raw");
            assertEquals(length, Files.size(file), line);
            assertEquals(sha(disk, start, length), sha(file, 0, length), line);
        }
        Qedfs.unmount(mnt);
        assertTrue(Files.readString(log).contains("blank.qed: no partition table (sector 0 has no boot signature (0x55 0xAA))"),
                Files.readString(log));
    }

    private List<String> list() throws Exception {
        try (var names = Files.list(mnt)) {
            return names.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** sha256 of {@code length} bytes of {@code file} from {@code start}. */
    private static String sha(Path file, long start, long length) throws Exception {
        return ok(sh("tail -c +" + (start + 1) + " " + file + " | head -c " + length + " | sha256sum"), "sha of " + file).out();
    }

    /** sha256s of the bytes of the disk before p1 and after it. */
    private static String outside(Path raw) throws Exception {
        return sha(raw, 0, P1_START) + sha(raw, P1_START + P1_LENGTH, Files.size(raw));
    }
}
