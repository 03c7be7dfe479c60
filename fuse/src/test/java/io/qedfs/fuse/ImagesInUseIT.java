package io.qedfs.fuse;

import static io.qedfs.fuse.HostileMountIT.sha256;
import static io.qedfs.fuse.MountIT.writeFully;
import static io.qedfs.fuse.Qedfs.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Nothing writes or replaces an image that a mount or a QEMU process has open, and nobody writes the backing
 * files of a mounted image, as QEMU's locks promise: every command that would is refused with one line, the
 * file stays as it was, and the mount's fsync'd data survives byte for byte.
 */
@Timeout(600)
class ImagesInUseIT extends MountTestBase {
    private static final int SIZE = 8 << 20;

    private Path qemuImage(String name, String backing, String backingFormat, String... writes) throws Exception {
        Path img = dir.resolve(name);
        List<String> create = new ArrayList<>(List.of("qemu-img", "create", "-q", "-f", "qed"));
        if (backing != null) {
            create.addAll(List.of("-b", backing, "-F", backingFormat));
        }
        create.addAll(List.of(img.toString(), Integer.toString(SIZE)));
        ok(Qedfs.run(create), "qemu-img create " + name);
        List<String> io = new ArrayList<>(List.of("qemu-io", "-f", "qed"));
        for (String w : writes) {
            io.addAll(List.of("-c", w));
        }
        io.add(img.toString());
        ok(Qedfs.run(io), "qemu-io " + name);
        return img;
    }


    /** Random writes through the mount, fsync'd, mirrored into {@code model}. */
    private static void writeAndSync(Path raw, byte[] model, long seed) throws Exception {
        Random rnd = new Random(seed);
        try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.WRITE)) {
            for (int i = 0; i < 24; i++) {
                byte[] data = new byte[1 + rnd.nextInt(300_000)];
                rnd.nextBytes(data);
                int pos = rnd.nextInt(model.length - data.length);
                writeFully(ch, pos, data);
                System.arraycopy(data, 0, model, pos, data.length);
            }
            ch.force(true);
        }
    }

    /** Exit 1 and one line on stderr saying that {@code file} is in use. */
    private static void refusedAsInUse(Path file, String... args) throws Exception {
        Qedfs.Result r = Qedfs.qedfs(args);
        String what = "qedfs " + String.join(" ", args) + ": " + r.all();
        assertEquals(1, r.exit(), what);
        assertEquals(1, r.err().lines().count(), what);
        assertTrue(r.err().contains(file.getFileName() + ": the image is in use"), what);
    }

    @Test
    void commandsThatWriteOrReplaceAMountedImageAreRefusedAndItsSyncedDataSurvives() throws Exception {
        qemuImage("base.qed", null, null, "write -P 0x11 0 4M");
        Path v = qemuImage("v.qed", "base.qed", "qed", "write -P 0x22 1M 1M");
        Path a = qemuImage("a.qed", null, null, "write -P 0x33 0 2M");
        Path w = qemuImage("w.qed", "v.qed", "qed", "write -P 0x44 6M 64k"); // commit w.qed would write v.qed
        byte[] model = content(v);
        Qedfs.mount(v.toString(), mnt.toString());
        Path raw = mnt.resolve("v.raw");
        writeAndSync(raw, model, 15);
        Object inode = Files.getAttribute(v, "unix:ino");

        String img = v.toString();
        List<String[]> commands = List.of(
                new String[] {"create", img, "16M"},
                new String[] {"create", "-q", "-b", "a.qed", "-F", "qed", img},
                new String[] {"convert", "-O", "raw", a.toString(), img},
                new String[] {"convert", "-O", "qed", a.toString(), img},
                new String[] {"compact", a.toString(), img},
                new String[] {"compact", img},
                new String[] {"resize", img, "16M"},
                new String[] {"rebase", "-b", "", img},
                new String[] {"rebase", "-u", "-b", "a.qed", img},
                new String[] {"commit", img},
                new String[] {"commit", w.toString()},
                new String[] {"check", "-r", "all", img});
        for (String[] command : commands) {
            refusedAsInUse(v, command);
            assertArrayEquals(model, Files.readAllBytes(raw), "the mount reads its synced data after " + Arrays.toString(command));
            assertEquals(inode, Files.getAttribute(v, "unix:ino"), "not renamed over by " + Arrays.toString(command));
        }
        Qedfs.unmount(mnt);

        assertArrayEquals(model, content(v), "the image holds every synced write");
        assertEquals(0, Qedfs.run(List.of("qemu-img", "check", img)).exit(), "and checks clean");
    }

    @Test
    void anImageQemuHasOpenIsNeitherOverwrittenNorReplaced() throws Exception {
        Path v = qemuImage("v.qed", null, null, "write -P 0x55 0 1M");
        Path a = qemuImage("a.qed", null, null, "write -P 0x33 0 2M");
        String sum = sha256(v);
        for (boolean readOnly : new boolean[] {false, true}) {
            Process qemu = holdOpen(v, readOnly);
            try {
                refusedAsInUse(v, "create", v.toString(), "16M");
                refusedAsInUse(v, "convert", "-O", "raw", a.toString(), v.toString());
                refusedAsInUse(v, "convert", "-O", "qed", a.toString(), v.toString());
                refusedAsInUse(v, "compact", a.toString(), v.toString());
                assertEquals(sum, sha256(v), "qemu-io" + (readOnly ? " -r" : "") + " holds it: byte-identical");
            } finally {
                release(qemu);
            }
        }
        ok(Qedfs.qedfs("create", "-q", v.toString(), "16M"), "create once QEMU has let go");
    }

    @Test
    void theBackingFilesOfAMountedImageCannotBeWritten() throws Exception {
        Path base = qemuImage("base.qed", null, null, "write -P 0x11 0 8M");
        Path baseRaw = Files.write(dir.resolve("base.img"), filled(SIZE, 0x66));
        Path top = qemuImage("top.qed", "base.qed", "qed", "write -P 0x22 1M 64k");
        Path overRaw = qemuImage("over-raw.qed", "base.img", "raw", "write -P 0x23 2M 64k");
        Path other = qemuImage("other.qed", null, null, "write -P 0x33 0 64k");
        byte[] topContent = content(top);
        String baseSum = sha256(base);
        String rawSum = sha256(baseRaw);
        Path m2 = Files.createDirectory(dir.resolve("m2"));
        for (boolean readOnly : new boolean[] {true, false}) {
            List<String> args = new ArrayList<>(readOnly ? List.of("-r") : List.of());
            args.addAll(List.of(top.toString(), overRaw.toString(), mnt.toString()));
            Qedfs.mount(args.toArray(String[]::new));

            Qedfs.Result q = Qedfs.run(List.of("qemu-io", "-f", "qed", "-c", "write -P 0x99 0 64k", base.toString()));
            assertTrue(q.exit() != 0 && q.all().contains("Failed to get \"write\" lock"), q.all());
            Qedfs.Result qr = Qedfs.run(List.of("qemu-io", "-f", "raw", "-c", "write -P 0x99 0 64k", baseRaw.toString()));
            assertTrue(qr.exit() != 0 && qr.all().contains("Failed to get \"write\" lock"), qr.all());
            refusedAsInUse(base, "mount", base.toString(), m2.toString());
            refusedAsInUse(base, "create", base.toString(), "1M");
            refusedAsInUse(baseRaw, "convert", "-O", "raw", other.toString(), baseRaw.toString());
            Qedfs.mount("-r", base.toString(), m2.toString()); // readers may join
            Qedfs.unmount(m2);
            assertArrayEquals(topContent, Files.readAllBytes(mnt.resolve("top.raw")), "the guest of top reads what it did");
            Qedfs.unmount(mnt);
            assertEquals(baseSum, sha256(base));
            assertEquals(rawSum, sha256(baseRaw));
        }
        ok(Qedfs.run(List.of("qemu-io", "-f", "qed", "-c", "write -P 0x99 0 64k", base.toString())), "the locks went with the mount");
    }

    @Test
    void aDirectoryWithAnImageAndItsBackingFileServesTheBackingFileReadOnly() throws Exception {
        Path images = Files.createDirectory(dir.resolve("images"));
        Path base = qemuImage("images/base.qed", null, null, "write -P 0x11 0 8M");
        Path top = qemuImage("images/top.qed", "base.qed", "qed", "write -P 0x22 1M 64k");
        String baseSum = sha256(base);
        byte[] baseContent = content(base);
        byte[] model = content(top);
        Path log = dir.resolve("log");
        Qedfs.mount("--log", log.toString(), images.toString(), mnt.toString());

        assertEquals("r--r--r--", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(mnt.resolve("base.raw"))));
        FileSystemException e = assertThrows(FileSystemException.class,
                () -> FileChannel.open(mnt.resolve("base.raw"), StandardOpenOption.WRITE).close());
        assertTrue(String.valueOf(e.getReason()).contains("Read-only file system"), e.toString());
        try (FileChannel inUse = FileChannel.open(mnt.resolve("top.raw"))) { // images in a directory open on first use
            Qedfs.Result q = Qedfs.run(List.of("qemu-io", "-f", "qed", "-c", "write -P 0x99 0 64k", base.toString()));
            assertTrue(q.exit() != 0 && q.all().contains("Failed to get \"write\" lock"), q.all());
        }
        writeAndSync(mnt.resolve("top.raw"), model, 9);
        assertArrayEquals(model, Files.readAllBytes(mnt.resolve("top.raw")));
        assertArrayEquals(baseContent, Files.readAllBytes(mnt.resolve("base.raw")));
        Qedfs.unmount(mnt);

        assertTrue(Files.readString(log).contains(base + " is a backing file of " + top + ", also served here: base.raw is read-only"),
                Files.readString(log));
        assertEquals(baseSum, sha256(base), "the backing file is byte-identical");
        assertArrayEquals(model, content(top));
        assertEquals(0, Qedfs.run(List.of("qemu-img", "check", top.toString())).exit());
    }

    private static byte[] filled(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return b;
    }

    /** qemu-io with {@code image} open (and locked), waiting for commands. */
    static Process holdOpen(Path image, boolean readOnly) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "qed"));
        if (readOnly) {
            cmd.add("-r");
        }
        cmd.add(image.toString());
        Process qemu = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        InputStream out = qemu.getInputStream();
        StringBuilder seen = new StringBuilder();
        for (int c; !seen.toString().contains("qemu-io>") && (c = out.read()) >= 0; ) {
            seen.append((char) c); // the prompt: the image is open and locked
        }
        assertTrue(seen.toString().contains("qemu-io>"), "qemu-io opened the image: " + seen);
        return qemu;
    }

    static void release(Process qemu) throws Exception {
        try (OutputStream in = qemu.getOutputStream()) {
            in.write("quit\n".getBytes(StandardCharsets.US_ASCII));
        }
        assertTrue(qemu.waitFor(30, TimeUnit.SECONDS), "qemu-io quits");
    }
}
