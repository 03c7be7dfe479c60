package io.qedfs.fuse;

import static io.qedfs.fuse.MountIT.readFully;
import static io.qedfs.fuse.MountIT.writeFully;
import static io.qedfs.fuse.Qedfs.ok;
import static io.qedfs.fuse.Qedfs.qedfs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qedfs.qed.CheckReport;
import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.QedTools;
import io.qedfs.qed.RepairMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The mount under hostile conditions: the host file system fills up under a writer, the image's tables are
 * corrupt, and fio's checksummed random writes from several jobs at once.
 */
@Timeout(300)
class HostileMountIT extends MountTestBase {
    private static final int MIB = 1 << 20;

    /** A tmpfs this test mounted (unmounted again in tearDown), or null. */
    Path smallFs;

    @AfterEach
    void tearDown() throws Exception {
        if (dir != null) {
            Qedfs.cleanUp(dir); // the qedfs mount and the tmpfs under dir, whatever the test left
        }
        if (smallFs != null && MountTable.isMountPoint(smallFs)) {
            Qedfs.run(List.of("umount", "-l", smallFs.toString()));
        }
    }

    /**
     * The image lives on a 24 MiB tmpfs and claims 256 MiB. Sequential 1 MiB writes must end with ENOSPC (not
     * EIO, not a silent short file); everything acknowledged before reads back, in-place overwrites still
     * work, the unmount is clean and no check finds corruption.
     */
    @Test
    void hostFileSystemFullGivesEnospcAndKeepsEverythingAcknowledged() throws Exception {
        assumeTrue(Qedfs.isRoot(), "mounting a tmpfs needs root");
        smallFs = Files.createDirectory(dir.resolve("small"));
        ok(Qedfs.run(List.of("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", smallFs.toString())), "mount tmpfs");
        long seed = Long.getLong("qedfs.seed", System.nanoTime());
        Random rnd = new Random(seed);
        long size = 256L << 20;
        int cluster = QedCreateOptions.DEFAULT_CLUSTER_SIZE;
        Path img = smallFs.resolve("disk.qed");
        QedTools.create(img, QedCreateOptions.ofSize(size));
        Path log = dir.resolve("log"); // not on the full file system
        Qedfs.mount("--log", log.toString(), img.toString(), mnt.toString());
        Path raw = mnt.resolve("disk.raw");
        assertEquals(size, Files.size(raw));

        byte[] model = new byte[64 * MIB]; // far more than 24 MiB can hold
        long acked = 0;
        long failedChunk = -1;
        byte[] attempted = null;
        IOException failure = null;
        try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            for (long pos = 0; pos < model.length && failure == null; pos += MIB) {
                byte[] data = new byte[MIB];
                rnd.nextBytes(data);
                ByteBuffer b = ByteBuffer.wrap(data);
                try {
                    while (b.hasRemaining()) {
                        ch.write(b, pos + b.position());
                    }
                } catch (IOException e) {
                    failure = e;
                    failedChunk = pos;
                    attempted = data;
                }
                System.arraycopy(data, 0, model, (int) pos, b.position()); // what write() acknowledged
                acked = pos + b.position();
            }
            String ctx = "seed " + seed + ", " + acked + " bytes acknowledged";
            assertNotNull(failure, ctx + ": 64 MiB went into a 24 MiB file system without an error");
            assertEquals("No space left on device", failure.getMessage(), ctx + ": the mount answers ENOSPC: " + failure);
            assertTrue(acked >= 16L * MIB && acked < 24L * MIB, ctx + ": the space was used before the error");

            // Past the acknowledged end, each cluster of the failed chunk reads as zeroes or as the bytes sent (the
            // failing request may have written its share of an already allocated cluster before its allocation
            // failed), never anything else.
            for (long c = acked; c < failedChunk + MIB; c = (c / cluster + 1) * cluster) {
                long end = Math.min(failedChunk + MIB, (c / cluster + 1) * cluster);
                ByteBuffer got = ByteBuffer.allocate((int) (end - c));
                readFully(ch, c, got);
                byte[] sent = Arrays.copyOfRange(attempted, (int) (c - failedChunk), (int) (end - failedChunk));
                assertTrue(Arrays.equals(got.array(), new byte[got.capacity()]) || Arrays.equals(got.array(), sent),
                        ctx + ": unacknowledged cluster at " + c + " holds neither zeroes nor the data sent");
            }

            // Overwrites of allocated clusters need no new space: they must succeed on the full file system.
            for (int i = 0; i < 4; i++) {
                int len = 1 + rnd.nextInt(300_000);
                long pos = rnd.nextLong(acked - len);
                byte[] data = new byte[len];
                rnd.nextBytes(data);
                writeFully(ch, pos, data);
                System.arraycopy(data, 0, model, (int) pos, len);
            }
            ch.force(true);
            for (long pos = 0; pos < acked; pos += MIB) {
                int len = (int) Math.min(MIB, acked - pos);
                ByteBuffer got = ByteBuffer.allocate(len);
                readFully(ch, pos, got);
                assertArrayEquals(Arrays.copyOfRange(model, (int) pos, (int) pos + len), got.array(),
                        ctx + ": read back at " + pos + " through the mount");
            }
        }
        String logText = Files.readString(log);
        assertTrue(logText.contains("No space left on device"), logText);
        assertFalse(logText.contains("[ERROR]"), "ENOSPC is not logged as an I/O error: " + logText);
        Qedfs.unmount(mnt);
        assertFalse(MountTable.isMountPoint(mnt));
        assertFalse(MountIT.needCheck(img), "closed clean although the file system is full");

        // A failed allocating write gives its clusters back (the file is cut where they began), so neither
        // check finds anything: no corruption and no leak.
        Qedfs.Result qemu = Qedfs.run(List.of("qemu-img", "check", img.toString()));
        assertEquals(0, qemu.exit(), "qemu-img check after disk full: " + qemu.all());
        try (QedImage q = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            CheckReport r = q.check(RepairMode.NONE);
            assertEquals(0, r.exitCode(), r.toString());
            assertFalse(q.needsCheck());
            assertImage(q, model, acked, "engine read after unmount (seed " + seed + ")");
        }
        System.out.printf("disk full: ENOSPC after %d bytes acknowledged; qemu-img check clean%n", acked);
    }

    /**
     * One L2 entry points past the end of the file and one L1 entry is garbage. A read-only mount serves the
     * valid ranges exactly, fails reads of the damaged ones with EIO, and leaves the image byte-identical; a
     * read-write mount with --check always repairs it. A separate-thread time-out: a read stuck in the kernel
     * would not notice an interrupt, and "nothing hangs" must fail as a time-out, not block the build.
     */
    @Test
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void corruptTablesGiveEioReadOnlyAndAreRepairedReadWrite() throws Exception {
        int cluster = 64 << 10;
        Path img = dir.resolve("disk.qed");
        QedTools.create(img, QedCreateOptions.ofSize(8L << 30).withClusterSize(cluster).withTableSize(4)); // an L2 maps 2 GiB
        Random rnd = new Random(42);
        // the valid data, under L1 entries 0, 1 and 3
        List<Range> valid = List.of(new Range(MIB + 4113, bytes(rnd, 300_000)), new Range((2L << 30) + 5 * MIB, bytes(rnd, 200_000)),
                new Range((6L << 30) + 7 * MIB + 100, bytes(rnd, 100_000)));
        // The victims, written last: the clusters that repair orphans (the victim cluster, and the data and L2
        // table behind the bad L1 entry) lie at the end of the file and are truncated away. Orphans inside the
        // file would be punched out instead, which qemu-img check still lists as leaks (it has no notion of holes).
        Range l2Victim = new Range(10L * MIB, bytes(rnd, cluster));          // L1[0], L2 entry 160
        Range l1Victim = new Range((4L << 30) + 3 * MIB, bytes(rnd, 2 * cluster)); // L1[2]
        try (QedImage q = QedImage.open(img, QedOpenOptions.readWrite())) {
            for (Range r : valid) {
                q.write(r.pos, ByteBuffer.wrap(r.data));
            }
            q.write(l2Victim.pos, ByteBuffer.wrap(l2Victim.data));
            q.write(l1Victim.pos, ByteBuffer.wrap(l1Victim.data));
        }

        // corrupt the tables, reading the layout from the header (little-endian)
        long fileLength = Files.size(img);
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer h = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, 0, h);
            assertEquals(cluster, h.getInt(4));
            int tableSize = h.getInt(8);
            long l1 = h.getLong(40);
            long entries = (long) tableSize * cluster / 8;
            long l2 = readLong(ch, l1);
            long l2Index = (l2Victim.pos / cluster) % entries;
            assertEquals(160, l2Index);
            assertTrue(readLong(ch, l2 + 8 * l2Index) != 0, "the victim cluster is allocated");
            writeLong(ch, l2 + 8 * l2Index, (fileLength / cluster + 1000) * cluster); // aligned, past the end of the file
            long l1Index = l1Victim.pos / (entries * cluster);
            assertEquals(2, l1Index);
            writeLong(ch, l1 + 8 * l1Index, 0x7777_1234_5678L); // unaligned and past the end of the file
        }
        assertEquals(2, Qedfs.run(List.of("qemu-img", "check", img.toString())).exit(), "qemu-img sees the corruption too");
        String sha = sha256(img);

        // read-only, checked: reports, serves what is valid, EIO for what is not, changes nothing
        Path roLog = dir.resolve("ro.log");
        Qedfs.mount("-r", "--check", "always", "--check-before-ready", "--log", roLog.toString(), img.toString(), mnt.toString());
        Path raw = mnt.resolve("disk.raw");
        try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.READ)) {
            for (Range r : valid) {
                assertArrayEquals(r.data, read(ch, r.pos, r.data.length), "valid data at " + r.pos);
            }
            assertArrayEquals(new byte[MIB], read(ch, 100L * MIB, MIB), "unallocated, under a good L1 entry");
            assertArrayEquals(new byte[cluster], read(ch, l2Victim.pos + cluster, cluster), "the cluster after the bad L2 entry");
            assertEio(ch, l2Victim.pos, cluster);
            assertEio(ch, l2Victim.pos + 12345, 1);
            assertEio(ch, l2Victim.pos - 4096, 8192); // straddles a good cluster and the bad one
            assertEio(ch, l1Victim.pos, l1Victim.data.length);
            assertEio(ch, (4L << 30) + 500L * MIB, 4096); // anywhere behind the bad L1 entry
            assertArrayEquals(valid.get(1).data, read(ch, valid.get(1).pos, valid.get(1).data.length), "still served after the errors");
        }
        assertThrows(IOException.class, () -> FileChannel.open(raw, StandardOpenOption.WRITE).close(), "read-only mount");
        Qedfs.unmount(mnt);
        assertEquals(sha, sha256(img), "a read-only mount changes no byte of the image");
        String ro = Files.readString(roLog);
        assertTrue(ro.contains("check of " + img + ": 2 corruptions") && ro.contains("(read-only: nothing changed)"), ro);
        assertTrue(ro.contains("L2 entry 160") && ro.contains("L1 entry 2"), "the failed reads name the bad entries: " + ro);

        // read-write, checked: the mount repairs (clears both entries, gives the orphaned clusters back)
        Path rwLog = dir.resolve("rw.log");
        Qedfs.Result rw = qedfs("mount", "--check", "always", "--check-before-ready", "--log", rwLog.toString(), img.toString(),
                mnt.toString());
        assertEquals(0, rw.exit(), "read-write mount of the corrupt image: " + rw.all());
        String rwText = Files.readString(rwLog);
        assertTrue(rwText.contains("check of " + img + ": clean; repaired 2 corruptions, reclaimed 7 leaked clusters"), rwText);
        assertTrue(rwText.contains("repaired: L1 entry 2") && rwText.contains("entry 160"), rwText);
        System.out.printf("corrupt tables, read-only mount: %s%ncorrupt tables, read-write mount: %s%n", checkLine(ro), checkLine(rwText));
        byte[] fresh = bytes(rnd, 3 * cluster);
        try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            for (Range r : valid) {
                assertArrayEquals(r.data, read(ch, r.pos, r.data.length), "valid data at " + r.pos + " after repair");
            }
            assertArrayEquals(new byte[cluster], read(ch, l2Victim.pos, cluster), "a cleared L2 entry reads zeroes");
            assertArrayEquals(new byte[2 * cluster], read(ch, l1Victim.pos, 2 * cluster), "a cleared L1 entry reads zeroes");
            writeFully(ch, l1Victim.pos + 777, fresh); // the repaired range is writable again
            ch.force(true);
            assertArrayEquals(fresh, read(ch, l1Victim.pos + 777, fresh.length));
        }
        Qedfs.unmount(mnt);
        Qedfs.Result qemu = Qedfs.run(List.of("qemu-img", "check", img.toString()));
        assertEquals(0, qemu.exit(), qemu.all());
        try (QedImage q = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            assertEquals(0, q.check(RepairMode.NONE).exitCode());
            for (Range r : valid) {
                assertArrayEquals(r.data, read(q, r.pos, r.data.length), "valid data at " + r.pos + " in the image");
            }
            assertArrayEquals(fresh, read(q, l1Victim.pos + 777, fresh.length));
            assertArrayEquals(new byte[cluster], read(q, l2Victim.pos, cluster));
        }
    }

    /**
     * fio, four jobs writing disjoint 32 MiB regions with random 4–64 KiB O_DIRECT writes, then reading every
     * block back against its checksum; after a remount a verify-only pass proves the data persisted, and a
     * damaged block proves that pass can fail.
     */
    @Test
    void fioVerifyThroughTheMountAndAfterRemount() throws Exception {
        assumeTrue(Qedfs.onPath("fio"), "fio is not installed (make deps)");
        Path img = dir.resolve("disk.qed");
        QedTools.create(img, QedCreateOptions.ofSize(256L << 20));
        Qedfs.mount("--log", dir.resolve("log").toString(), img.toString(), mnt.toString());
        Path raw = mnt.resolve("disk.raw");
        Qedfs.Result write = fio(raw, "--rw=randwrite", "--do_verify=1");
        assertFio(write, "write and verify");
        assertTrue(write.out().contains("WRITE: bw=") && write.out().contains("io=128MiB"), write.out());
        Qedfs.unmount(mnt);
        assertEquals(0, Qedfs.run(List.of("qemu-img", "check", img.toString())).exit(), "qemu-img check after fio");
        assertFalse(MountIT.needCheck(img));

        Qedfs.mount("--log", dir.resolve("log2").toString(), img.toString(), mnt.toString());
        Qedfs.Result again = fio(raw, "--rw=randwrite", "--verify_only");
        assertFio(again, "verify-only after remount");
        // 128 MiB were read and checked, not skipped
        assertTrue(Pattern.compile("READ: bw=.*io=128MiB").matcher(again.out()).find(), again.out());
        // negative control: one damaged block in job 1's region must make the same pass fail
        try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.WRITE)) {
            writeFully(ch, 40L * MIB + 12288, bytes(new Random(7), 4096));
            ch.force(true);
        }
        Qedfs.Result damaged = fio(raw, "--rw=randwrite", "--verify_only");
        assertTrue(damaged.exit() != 0 && damaged.all().contains("verify:"), "a damaged block is caught: " + damaged.all());
        Qedfs.unmount(mnt);
        assertEquals(0, Qedfs.run(List.of("qemu-img", "check", img.toString())).exit());
    }

    private static Qedfs.Result fio(Path raw, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("fio", "--name=v", "--filename=" + raw, "--size=32m",
                "--offset_increment=32m", "--numjobs=4", "--bsrange=4k-64k", "--ioengine=psync", "--direct=1",
                "--verify=crc32c", "--verify_fatal=1", "--verify_state_save=0", "--group_reporting")); // no state files in the cwd
        cmd.addAll(Arrays.asList(extra));
        return Qedfs.run(cmd);
    }

    private static void assertFio(Qedfs.Result r, String what) {
        assertEquals(0, r.exit(), what + ": " + r.all());
        assertFalse(r.all().contains("verify:"), what + ": " + r.all());
        assertTrue(r.out().contains("err= 0"), what + ": " + r.all());
    }

    private record Range(long pos, byte[] data) {
    }

    private static byte[] bytes(Random rnd, int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    private static byte[] read(FileChannel ch, long pos, int len) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(len);
        readFully(ch, pos, b);
        return b.array();
    }

    private static byte[] read(QedImage q, long pos, int len) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(len);
        q.read(pos, b);
        return b.array();
    }

    private static void assertEio(FileChannel ch, long pos, int len) {
        IOException e = assertThrows(IOException.class, () -> read(ch, pos, len), "read at " + pos + " must fail");
        assertEquals("Input/output error", e.getMessage(), "read at " + pos + ": " + e);
    }

    /** [0, acked) of the image equals the model, and the 1 MiB after it reads as zeroes or as the unacknowledged data. */
    private static void assertImage(QedImage q, byte[] model, long acked, String what) throws IOException {
        for (long pos = 0; pos < acked; pos += MIB) {
            int len = (int) Math.min(MIB, acked - pos);
            assertArrayEquals(Arrays.copyOfRange(model, (int) pos, (int) pos + len), read(q, pos, len), what + " at " + pos);
        }
        long next = (acked + MIB - 1) / MIB * MIB + MIB; // past the failed chunk: nothing was ever sent there
        assertArrayEquals(new byte[MIB], read(q, next, MIB), what + ": nothing past the failed write");
    }

    private static long readLong(FileChannel ch, long pos) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, pos, b);
        return b.getLong(0);
    }

    private static void writeLong(FileChannel ch, long pos, long value) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, value);
        while (b.hasRemaining()) {
            ch.write(b, pos + b.position());
        }
    }

    private static String checkLine(String log) {
        return log.lines().filter(l -> l.contains("check of") && l.contains("repaired")).findFirst().orElse("no check");
    }

    static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
