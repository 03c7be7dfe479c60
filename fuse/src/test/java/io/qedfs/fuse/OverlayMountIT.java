package io.qedfs.fuse;

import static io.qedfs.fuse.HostileMountIT.sha256;
import static io.qedfs.fuse.MountIT.writeFully;
import static io.qedfs.fuse.Qedfs.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qedfs.qed.ImageLockedException;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** mount --overlay: writes go to a QED overlay; the image stays byte-identical until 'qedfs commit'. */
@Timeout(300)
class OverlayMountIT extends MountTestBase {
    private static final int SIZE = 8 << 20;

    /** disk.qed with data at 0..1M and 3M..3.5M; returns its content. */
    private Path image() throws Exception {
        Path img = dir.resolve("disk.qed");
        ok(Qedfs.run(List.of("qemu-img", "create", "-q", "-f", "qed", img.toString(), Integer.toString(SIZE))), "create");
        ok(Qedfs.run(List.of("qemu-io", "-c", "write -P 0x11 0 1M", "-c", "write -P 0x22 3M 512k", img.toString())), "qemu-io");
        return img;
    }


    /** Random writes through the mount, mirrored into {@code model}. */
    private static void writeThrough(Path raw, byte[] model, long seed) throws Exception {
        Random rnd = new Random(seed);
        try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.WRITE)) {
            for (int i = 0; i < 40; i++) {
                int len = 1 + rnd.nextInt(200_000);
                int pos = rnd.nextInt(SIZE - len);
                byte[] data = new byte[len];
                rnd.nextBytes(data);
                writeFully(ch, pos, data);
                System.arraycopy(data, 0, model, pos, len);
            }
            ch.force(true);
        }
    }

    private int compare(Path qed, byte[] expected) throws Exception {
        Path raw = dir.resolve("expected.raw");
        Files.write(raw, expected);
        return Qedfs.run(List.of("qemu-img", "compare", "-f", "qed", "-F", "raw", qed.toString(), raw.toString())).exit();
    }

    @Test
    void keptOverlayHoldsTheWritesAndCommitMergesThem() throws Exception {
        Path img = image();
        String sha = sha256(img);
        byte[] original = content(img);
        byte[] model = original.clone();
        Path ovl = dir.resolve("ovl");
        Qedfs.Result mounted = ok(Qedfs.qedfs("mount", "--overlay-dir", ovl.toString(), "--log", dir.resolve("log").toString(),
                img.toString(), mnt.toString()), "mount --overlay-dir");
        assertTrue(mounted.out().contains("overlays in " + ovl), mounted.all());
        writeThrough(mnt.resolve("disk.raw"), model, 42);
        assertArrayEquals(model, Files.readAllBytes(mnt.resolve("disk.raw")), "the mount reads its writes back");
        Qedfs.unmount(mnt);

        assertEquals(sha, sha256(img), "the image is byte-for-byte unchanged");
        Path overlay = ovl.resolve("disk.overlay.qed");
        assertTrue(Files.readString(dir.resolve("log")).contains("overlay kept: " + overlay), "the log says where it is");
        assertEquals(0, Qedfs.run(List.of("qemu-img", "check", overlay.toString())).exit());
        String chain = ok(Qedfs.run(List.of("qemu-img", "info", "--backing-chain", "--output=json", overlay.toString())), "info").out();
        assertTrue(chain.contains("\"backing-filename\": \"" + img + "\""), chain);
        assertEquals(0, compare(overlay, model), "the overlay reads as the mount did");
        assertEquals(0, compare(img, original));

        Qedfs.Result again = Qedfs.qedfs("mount", "--overlay-dir", ovl.toString(), img.toString(), mnt.toString());
        assertEquals(1, again.exit(), again.all());
        assertTrue(again.err().contains(overlay + ": an overlay exists already") && again.err().lines().count() == 1, again.err());
        assertFalse(MountTable.isMountPoint(mnt));

        ok(Qedfs.qedfs("commit", overlay.toString()), "commit");
        assertEquals(0, compare(img, model), "committed: the image holds the writes");
        assertEquals(0, Qedfs.run(List.of("qemu-img", "check", img.toString())).exit());
        assertEquals(0, compare(overlay, model), "the emptied overlay reads through to the image");
    }

    @Test
    void temporaryOverlayIsDeletedAtUnmountAndTheImageIsLocked() throws Exception {
        Path img = image();
        String sha = sha256(img);
        byte[] model = content(img);
        Path tmp = Files.createDirectory(dir.resolve("tmp"));
        List<String> cmd = new ArrayList<>(List.of("env", "TMPDIR=" + tmp, "java", "-jar", Qedfs.jar().toString(),
                "mount", "--overlay", img.toString(), mnt.toString()));
        Qedfs.Result r = ok(Qedfs.run(cmd), "mount --overlay");
        assertTrue(r.out().contains("temporary overlays"), r.all());
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(0, s.count(), "the overlay's name is gone once the mount has it open: a crash leaves nothing");
        }
        long pid = MountTable.find(mnt).orElseThrow().pid();
        List<String> open = new ArrayList<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                open.add(Files.readSymbolicLink(fd).toString());
            }
        }
        assertTrue(open.stream().anyMatch(f -> f.matches(java.util.regex.Pattern.quote(tmp.toString())
                + "/qedfs-overlay-[^/]+/disk\\.overlay\\.qed \\(deleted\\)")), "the server serves it from a private directory: " + open);
        writeThrough(mnt.resolve("disk.raw"), model, 7);
        assertThrows(ImageLockedException.class, () -> QedImage.open(img, QedOpenOptions.readWrite()).close(),
                "nobody may write the image under the overlay");
        assertArrayEquals(model, Files.readAllBytes(mnt.resolve("disk.raw")));
        Qedfs.unmount(mnt);
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(0, s.count(), "the temporary overlay and its directory are gone");
        }
        assertEquals(sha, sha256(img));
    }

    @Test
    void overlayWithReadOnlyIsBadUsage() throws Exception {
        Path img = image();
        Qedfs.Result r = Qedfs.qedfs("mount", "-r", "--overlay", img.toString(), mnt.toString());
        assertEquals(64, r.exit(), "bad usage: " + r.all());
        assertFalse(MountTable.isMountPoint(mnt));
    }
}
