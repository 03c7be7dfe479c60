package io.qedfs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.QedTools;
import io.qedfs.qed.Qemu;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files that are no image file: a FIFO (whose open waits for a writer forever), a character device (/dev/zero:
 * no size, no end), a directory. As the image, as its backing file, as a convert source or destination, each
 * command ends within seconds with one line naming the file and saying what it is, and leaves the file as it
 * was (a refused FIFO or device is never deleted or replaced). Every command runs in a JVM of its own, killed
 * when it outlives its time, so that a hang fails the test. A block device still serves where it did: as a raw
 * backing file, a convert source and an image.
 */
class HostileFilesTest {
    private static final long SECONDS = 20;

    @TempDir
    Path dir;

    @Test
    void aFifoAsTheImageIsRefusedByEveryCommand() throws Exception {
        Path fifo = mkfifo(dir.resolve("pipe.qed"));
        Path out = dir.resolve("out.img");
        for (List<String> cmd : List.of(List.of("info"), List.of("info", "--backing-chain"), List.of("check"),
                List.of("check", "-r", "all"), List.of("map"), List.of("resize", "+1M"), List.of("commit"),
                List.of("compact"), List.of("rebase", "-u", "-b", "other.raw"), List.of("convert", "-O", "raw"),
                List.of("convert", "-O", "qed"), List.of("convert", "-f", "raw", "-O", "qed"), List.of("create"))) {
            List<String> args = new ArrayList<>(cmd);
            args.add(fifo.toString());
            if (cmd.get(0).equals("convert")) {
                args.add(out.toString());
            } else if (cmd.get(0).equals("create")) {
                args.add("1M");
            } else if (cmd.get(0).equals("resize")) {
                args.add(args.remove(1)); // IMAGE before SIZE
            }
            assertRefused(args, fifo, "is a FIFO (named pipe), not a regular file");
        }
    }

    @Test
    void aFifoAsTheBackingFileIsRefusedByEveryCommand() throws Exception {
        Path image = dir.resolve("top.qed");
        Path base = dir.resolve("base.raw");
        Files.write(base, new byte[16 << 20]);
        QedTools.create(image, QedCreateOptions.ofSize(16 << 20).withBacking("base.raw", "raw"));
        Path probed = dir.resolve("probed.qed");
        QedTools.create(probed, QedCreateOptions.ofSize(16 << 20).withBacking("base.raw", null));
        Files.delete(base);
        mkfifo(base);
        String before = Images.sha256(image);
        Path out = dir.resolve("out.img");
        for (Path img : List.of(image, probed)) {
            for (List<String> cmd : List.of(List.of("info"), List.of("info", "--backing-chain"), List.of("check"),
                    List.of("check", "-r", "all"), List.of("map"), List.of("commit"), List.of("compact"),
                    List.of("rebase", "-b", ""), List.of("convert", "-O", "raw"), List.of("convert", "-O", "qed"))) {
                List<String> args = new ArrayList<>(cmd);
                args.add(img.toString());
                if (cmd.get(0).equals("convert")) {
                    args.add(out.toString());
                }
                Cli.Result r = assertRefused(args, base, "is a FIFO (named pipe), not a regular file");
                assertTrue(r.err().contains(img.toString()), "names the image too: " + r.err());
            }
        }
        assertEquals(before, Images.sha256(image), "the image is unchanged");
        for (String format : new String[] {"raw", "qed", null}) {
            List<String> args = new ArrayList<>(List.of("create", "-b", base.toString()));
            if (format != null) {
                args.addAll(List.of("-F", format));
            }
            args.add(dir.resolve("new.qed").toString());
            assertRefused(args, base, "is a FIFO (named pipe), not a regular file");
        }
    }

    @Test
    void aFifoAsTheDestinationIsRefusedAndKept() throws Exception {
        Path image = Images.smallWithData(dir, "src.qed");
        Path fifo = mkfifo(dir.resolve("dest"));
        assertRefused(List.of("convert", "-O", "raw", image.toString(), fifo.toString()), fifo, "is a FIFO");
        assertRefused(List.of("convert", "-O", "qed", image.toString(), fifo.toString()), fifo, "is a FIFO");
        assertRefused(List.of("compact", image.toString(), fifo.toString()), fifo, "not a regular file");
        assertRefused(List.of("create", fifo.toString(), "1M"), fifo, "is a FIFO");
    }

    @Test
    void characterDevicesAndDirectoriesAreNoBackingFiles() throws Exception {
        Path backingDir = Files.createDirectory(dir.resolve("adir"));
        for (String[] b : new String[][] {{"/dev/zero", "is a character device"}, {backingDir.toString(), "is a directory"}}) {
            assertRefused(List.of("create", "-b", b[0], "-F", "raw", dir.resolve("n.qed").toString(), "1M"), Path.of(b[0]), b[1]);
            assertRefused(List.of("create", "-b", b[0], dir.resolve("n.qed").toString(), "1M"), Path.of(b[0]), b[1]);
        }
        assertRefused(List.of("info", "/dev/zero"), Path.of("/dev/zero"), "is a character device");
        assertRefused(List.of("convert", "-O", "qed", "/dev/zero", dir.resolve("z.qed").toString()), Path.of("/dev/zero"),
                "is a character device");
        assertRefused(List.of("convert", "-O", "raw", Images.smallWithData(dir, "s.qed").toString(), "/dev/null"),
                Path.of("/dev/null"), "is a character device");
        // an image whose backing file became a directory (qemu-img create -u makes such images too)
        Path base = dir.resolve("base.raw");
        Files.write(base, new byte[4096]);
        Path image = dir.resolve("over-dir.qed");
        QedTools.create(image, QedCreateOptions.ofSize(1 << 20).withBacking("base.raw", "raw"));
        Files.delete(base);
        Files.createDirectory(base);
        for (String cmd : new String[] {"info", "check", "map"}) {
            assertRefused(List.of(cmd, image.toString()), base, "is a directory, not a regular file");
        }
    }

    /**
     * A loop device, as a raw backing file, a convert source and the image itself, works as it did, and reads
     * right: SEEK_DATA fails with EINVAL on a block device, which must count as "all data", never as "no data"
     * (else a convert from a device would give zeroes, and a check of an image on one would see no leaks).
     */
    @Test
    void aBlockDeviceStillServesWhereItDid() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")) && Files.isExecutable(Path.of("/sbin/losetup")),
                "needs root and losetup for a loop device");
        Path backingFile = dir.resolve("disk.bin");
        byte[] content = new byte[8 << 20];
        new Random(15).nextBytes(content);
        Files.write(backingFile, content);
        String loop = run("/sbin/losetup", "-f", "--show", backingFile.toString()).strip();
        try {
            Path top = dir.resolve("top.qed");
            Cli.Result created = Forked.run(SECONDS, List.of(), List.of("create", "-q", "-b", loop, "-F", "raw", top.toString()));
            assertEquals(0, created.exit(), created.err());
            // a device as a backing file is opened only when trusted deliberately (BackingTrust)
            assertRefused(List.of("info", top.toString()), Path.of(loop), "add --trust-backing");
            try (QedImage img = QedImage.open(top, QedOpenOptions.readOnlyOptions().withTrustBacking(true))) {
                assertEquals(content.length, img.size());
                ByteBuffer got = ByteBuffer.allocate(content.length);
                img.read(0, got);
                assertArrayEquals(content, got.array(), "reads through to the device");
            }
            Path copy = dir.resolve("copy.qed");
            Cli.Result converted = Forked.run(SECONDS, List.of(), List.of("convert", "-O", "qed", loop, copy.toString()));
            assertEquals(0, converted.exit(), converted.err());
            try (QedImage img = QedImage.open(copy, QedOpenOptions.readOnlyOptions())) {
                ByteBuffer got = ByteBuffer.allocate(content.length);
                img.read(0, got);
                assertArrayEquals(content, got.array(), "converted from the device");
            }
            // convert -O raw cannot leave the device sparse: refused, and the device node stays
            assertRefused(List.of("convert", "-O", "raw", copy.toString(), loop), Path.of(loop), "is a block device");
            Cli.Result qedOnDevice = Forked.run(SECONDS, List.of(), List.of("create", "-q", loop, "4M"));
            assertEquals(0, qedOnDevice.exit(), qedOnDevice.err());
            // the 8 MiB device past the 4 MiB image's 5 clusters: leaked clusters, as qemu-img check counts them
            Cli.Result check = Forked.run(SECONDS, List.of(), List.of("check", loop));
            assertEquals(3, check.exit(), check.out() + check.err());
            assertTrue(check.out().contains("123 leaked clusters were found"), check.out());
            if (Qemu.available()) {
                assertTrue(Qemu.run("qemu-img", "check", loop).out().contains("123 leaked clusters were found"));
            }
            assertRefused(List.of("compact", loop), Path.of(loop), "not a regular file");
            assertTrue(isBlockDevice(Path.of(loop)), "the device node is still there");
        } finally {
            run("/sbin/losetup", "-d", loop);
        }
    }

    /** Runs the command, asserts one refusal line naming {@code file} with {@code words}, and {@code file} unchanged. */
    private static Cli.Result assertRefused(List<String> args, Path file, String words) throws Exception {
        String kind = kind(file);
        Cli.Result r = Forked.run(SECONDS, List.of(), args);
        String ctx = "qedfs " + String.join(" ", args) + ": exit " + r.exit() + ", stderr: " + r.err();
        assertEquals(1, r.exit(), ctx);
        assertEquals(1, r.err().lines().count(), ctx);
        assertTrue(r.err().startsWith("qedfs: ") && r.err().contains(file.toString()) && r.err().contains(words), ctx);
        r.assertNoStackTrace();
        assertEquals(kind, kind(file), ctx + ": the file is left as it was");
        return r;
    }

    private static String kind(Path file) throws IOException {
        return Files.exists(file, LinkOption.NOFOLLOW_LINKS) ? Files.getAttribute(file, "unix:mode").toString() : "missing";
    }

    private static boolean isBlockDevice(Path p) throws IOException {
        return ((Integer) Files.getAttribute(p, "unix:mode") & 0170000) == 0060000;
    }

    private static Path mkfifo(Path p) throws Exception {
        run("mkfifo", p.toString());
        return p;
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + ": " + out);
        return out;
    }
}
