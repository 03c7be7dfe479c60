package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Leaked clusters at the end of the file that are holes ({@code truncate -s +192K} on a dirty image): qemu-img
 * counts them, so must we, and every repair (check -r leaks, the check when a dirty image is opened
 * read-write) truncates them away, after which qemu-img check finds the image clean. Some leaked clusters
 * hold data, some are holes, in either order.
 */
class TrailingLeakTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "cluster {0}, {1} bytes of data then {2} of hole")
    @CsvSource({"65536, 0, 196608", "4096, 0, 196608", "65536, 131072, 196608", "4096, 8192, 12288"})
    void trailingHolesAreCountedAsQemuCountsThemAndRepairTruncatesThem(int cluster, int dataBytes, int holeBytes)
            throws Exception {
        Qemu.assumeAvailable();
        Path img = leakyImage("leaks.qed", cluster, dataBytes, holeBytes);
        long leaks = (dataBytes + holeBytes) / cluster;
        assertEquals(leaks, qemuLeaks(img), "qemu-img's count");
        CheckReport found;
        try (QedImage q = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            found = q.check(RepairMode.NONE);
        }
        assertEquals(leaks, found.leaks(), found.toString());
        assertEquals(Qemu.check(img).exit(), found.exitCode(), found.toString());

        byte[] before = Qemu.toRaw(img, dir);
        CheckReport fixed;
        try (QedImage q = QedImage.open(img, QedOpenOptions.readWrite().withCheck(QedOpenOptions.CheckPolicy.NEVER))) {
            fixed = q.check(RepairMode.LEAKS);
        }
        assertEquals(leaks, fixed.leaksFixed(), fixed.toString());
        assertEquals(0, fixed.leaks(), fixed.toString());
        assertEquals(fixed.imageEndOffset(), Files.size(img), "the file ends where its last cluster does");
        Qemu.Result after = Qemu.check(img);
        assertEquals(0, after.exit(), after.out());
        assertEquals(0, java.util.Arrays.compare(before, Qemu.toRaw(img, dir)), "the guest reads the same");
    }

    @ParameterizedTest(name = "cluster {0}")
    @CsvSource({"65536", "4096"})
    void openingADirtyImageReadWriteTruncatesItsTrailingLeaks(int cluster) throws Exception {
        Qemu.assumeAvailable();
        Path img = leakyImage("dirty.qed", cluster, 0, 192 << 10);
        assertEquals(3, Qemu.check(img).exit(), "leaks only");
        try (QedImage q = QedImage.open(img, QedOpenOptions.readWrite())) {
            CheckReport r = q.openCheckReport().orElseThrow();
            assertEquals((192 << 10) / cluster, r.leaksFixed(), r.toString());
        }
        Qemu.Result after = Qemu.check(img);
        assertEquals(0, after.exit(), after.out());
    }

    /** A dirty image with data, then {@code dataBytes} of leaked data clusters and {@code holeBytes} of hole. */
    private Path leakyImage(String name, int cluster, int dataBytes, int holeBytes) throws Exception {
        Path img = dir.resolve(name);
        QedTools.create(img, QedCreateOptions.ofSize(16 << 20).withClusterSize(cluster).withTableSize(2));
        byte[] data = new byte[3 * cluster];
        new Random(cluster).nextBytes(data);
        try (QedImage q = QedImage.open(img, QedOpenOptions.readWrite())) {
            q.write(cluster / 2, ByteBuffer.wrap(data));
            q.write(5L << 20, ByteBuffer.wrap(data));
        }
        Qemu.io(img, "write -P 0x5a 8M 64k"); // a cluster QEMU allocated too
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            long end = f.length();
            byte[] leaked = new byte[dataBytes];
            java.util.Arrays.fill(leaked, (byte) 0x77);
            f.seek(end);
            f.write(leaked);
            f.setLength(end + dataBytes + holeBytes); // truncate -s +N: a hole
            f.seek(16);
            long features = Long.reverseBytes(f.readLong());
            f.seek(16);
            f.writeLong(Long.reverseBytes(features | QedHeader.F_NEED_CHECK)); // as a crash leaves it
        }
        return img;
    }

    private static long qemuLeaks(Path img) throws Exception {
        String json = Qemu.run("qemu-img", "check", "-f", "qed", "--output=json", img.toString()).out();
        Matcher m = Pattern.compile("\"leaks\": (\\d+)").matcher(json);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }
}
