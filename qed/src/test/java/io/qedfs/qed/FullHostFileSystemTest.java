package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine on host file systems that really run out of space (a small tmpfs) or really fail an fsync (an
 * ext4 on a loop device whose backing file lies on a tmpfs too small for it: writeback fails, the kernel
 * reports it to one fsync and then forgets). Mounting needs root: the tests are skipped, saying so, without it.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FullHostFileSystemTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    /**
     * A full disk under discarded clusters: 4 MiB written, 2 MiB of it discarded (holes in allocated clusters),
     * the file system filled, two 1 MiB allocating writes queued behind a busy writer thread, then an overwrite
     * at 0. A write whose space is not there fails itself with ENOSPC before it is acknowledged; what was
     * acknowledged is stored; the failure is not sticky: reads, fsync and, once there is space again, writes
     * all work.
     */
    @Test
    void aWriteIntoDiscardedClustersOnAFullDiskFailsItselfAndNothingElse() throws Exception {
        assumeTrue(isRoot(), "mounting a tmpfs needs root");
        Path fs = Files.createDirectory(dir.resolve("small"));
        run("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", fs.toString());
        try {
            int size = 64 * MIB;
            Path img = fs.resolve("disk.qed");
            QedTools.create(img, QedCreateOptions.ofSize(size));
            byte[] model = new byte[size];
            Random rnd = new Random(15);
            FaultyChannel[] file = new FaultyChannel[1];
            QedImage image = FaultyChannel.open(img, QedOpenOptions.readWrite().withWriteBehind(true), file);
            for (int pos = 0; pos < 4 * MIB; pos += MIB) {
                write(image, model, pos, random(rnd, MIB));
            }
            image.flush();
            discard(image, model, 0, 2 * MIB);
            discard(image, model, 3 * MIB, MIB);
            Path filler = fill(fs);

            CountDownLatch applying = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            file[0].hook((op, pos, len) -> {
                if (Thread.currentThread().getName().equals("qedfs-writer")) {
                    applying.countDown();
                    Latches.awaitUninterruptibly(release);
                }
            });
            int queued = 0;
            for (int pos = 8 * MIB; pos < 10 * MIB; pos += MIB) {
                queued += tryWrite(image, model, pos, random(rnd, MIB)) ? 1 : 0;
            }
            assertEquals(2, queued, "the space reserved at the end of the file takes both allocating writes");
            applying.await(); // the writer thread is busy with them
            byte[] overwrite = random(rnd, 256 << 10);
            assertFalse(tryWrite(image, model, 0, overwrite), "256 KiB into holes of a full file system");
            release.countDown();

            image.flush(); // the overwrite's failure was its own
            byte[] got = read(image, 0, size);
            assertHolesOrData(got, overwrite, 0);
            System.arraycopy(got, 0, model, 0, overwrite.length);
            assertArrayEquals(model, got, "every acknowledged write, nothing else");

            // a write that overwrites a hole and allocates a cluster after it (reserved before it is queued)
            byte[] straddling = random(rnd, 128 << 10);
            int at = 4 * MIB - (64 << 10);
            assertFalse(tryWrite(image, model, at, straddling), "a hole of a full file system again");
            got = read(image, at, straddling.length);
            assertHolesOrData(got, straddling, 0);
            System.arraycopy(got, 0, model, at, straddling.length);
            image.flush();
            assertArrayEquals(model, read(image, 0, size));

            Files.delete(filler);
            write(image, model, 0, random(rnd, 256 << 10)); // space again: the image takes writes again
            image.close();
            try (QedImage reopened = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
                assertArrayEquals(model, read(reopened, 0, size));
                assertTrue(reopened.check(RepairMode.NONE).isClean(), "clean after the close");
            }
        } finally {
            run("umount", "-l", fs.toString());
        }
    }

    /** A real writeback failure: the first fsync reports it; the next one must fail too, and so must the close. */
    @Test
    void aFailedFsyncOnARealDeviceFailsEveryLaterOne() throws Exception {
        assumeTrue(isRoot(), "mounting a tmpfs, a loop device and ext4 needs root");
        assumeTrue(onPath("losetup") && onPath("mkfs.ext4"), "losetup and mkfs.ext4 are needed");
        Path small = Files.createDirectory(dir.resolve("small"));
        Path ext4 = Files.createDirectory(dir.resolve("ext4"));
        run("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", small.toString());
        String loop = null;
        try {
            Path backing = small.resolve("device");
            try (FileChannel ch = FileChannel.open(backing, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ch.truncate(64L * MIB); // the device claims 64 MiB; the tmpfs holds 16
                ch.write(ByteBuffer.wrap(new byte[1]), 64L * MIB - 1);
            }
            loop = run("losetup", "-f", "--show", backing.toString()).strip();
            run("mkfs.ext4", "-q", loop);
            run("mount", loop, ext4.toString());
            Path img = ext4.resolve("disk.qed");
            QedTools.create(img, QedCreateOptions.ofSize(48L * MIB));
            QedImage image = QedImage.open(img, QedOpenOptions.readWrite());
            Random rnd = new Random(7);
            for (int pos = 0; pos < 40 * MIB; pos += MIB) {
                image.write(pos, ByteBuffer.wrap(random(rnd, MIB))); // into the page cache
            }

            IOException first = assertThrows(IOException.class, image::flush, "writeback cannot store 40 MiB");
            IOException second = assertThrows(IOException.class, image::flush,
                    "the kernel reported the failure once (" + first.getMessage() + "); the next fsync must fail too");
            assertTrue(second.getMessage().contains("an fsync failed"), second.getMessage());
            assertThrows(IOException.class, image::close);
        } finally {
            if (loop != null) {
                runQuietly("umount", "-l", ext4.toString());
                runQuietly("losetup", "-d", loop);
            }
            run("umount", "-l", small.toString());
        }
    }

    private static void write(QedImage image, byte[] model, int pos, byte[] data) throws IOException {
        image.write(pos, ByteBuffer.wrap(data));
        System.arraycopy(data, 0, model, pos, data.length);
    }

    /** True when the write was acknowledged (the model then holds it); false when it failed with ENOSPC. */
    private static boolean tryWrite(QedImage image, byte[] model, int pos, byte[] data) throws IOException {
        try {
            write(image, model, pos, data);
            return true;
        } catch (IOException e) {
            assertTrue(String.valueOf(e.getMessage()).contains("No space left"), "ENOSPC, not " + e);
            return false;
        }
    }

    private static void discard(QedImage image, byte[] model, int pos, int len) throws IOException {
        image.discard(pos, len);
        Arrays.fill(model, pos, pos + len, (byte) 0);
    }

    /** A failed write may have stored some of its pages: each reads as zeroes (the hole) or as what was sent. */
    private static void assertHolesOrData(byte[] got, byte[] sent, int from) {
        byte[] zeroes = new byte[4096];
        for (int p = 0; p < sent.length; p += 4096) {
            byte[] page = Arrays.copyOfRange(got, from + p, from + p + 4096);
            assertTrue(Arrays.equals(page, zeroes) || Arrays.equals(page, Arrays.copyOfRange(sent, p, p + 4096)),
                    "page at " + p + " of a failed write holds neither zeroes nor its data");
        }
    }

    /** Fills the file system with a file (returned) until not even 4 KiB more fit. */
    private static Path fill(Path fs) throws IOException {
        Path filler = fs.resolve("filler");
        try (FileChannel ch = FileChannel.open(filler, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (int chunk : new int[] {MIB, 4096}) {
                try {
                    while (true) {
                        ch.write(ByteBuffer.allocate(chunk));
                    }
                } catch (IOException full) {
                    // on to smaller pieces, then done
                }
            }
        }
        return filler;
    }

    private static byte[] read(QedImage image, long pos, int len) throws IOException {
        byte[] b = new byte[len];
        image.read(pos, ByteBuffer.wrap(b));
        return b;
    }

    private static byte[] random(Random rnd, int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }


    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static boolean onPath(String tool) {
        for (String d : (System.getenv().getOrDefault("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin").split(":")) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    /** Runs a command and returns its output; fails the test when it fails. */
    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }

    private static void runQuietly(String... cmd) {
        try {
            run(cmd);
        } catch (IOException | InterruptedException | AssertionError e) {
            // cleaning up: the next command still runs
        }
    }
}
