package io.qedfs.fuse;

import static io.qedfs.fuse.ImagesInUseIT.holdOpen;
import static io.qedfs.fuse.ImagesInUseIT.release;
import static io.qedfs.fuse.MountIT.writeFully;
import static io.qedfs.fuse.Qedfs.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A mount of a directory of a few hundred images opens each image only while its file is in use: listed at
 * once, locked (QEMU's locks) only from the first open of its raw file until it has been unused for a while,
 * then flushed, marked clean and released. An image another process holds is listed all the same; opening it
 * fails with EBUSY and a log line naming the holder, and the other images work. What is written through the
 * mount is there byte for byte after a remount and for QEMU.
 */
@Timeout(600)
class LazyImagesIT extends MountTestBase {
    private static final int IMAGES = 300;
    private static final int SIZE = 8 << 20;
    private static final int NEED_CHECK = 0x02;

    private Path images;

    /** IMAGES copies of one qemu-img-made image: disk000.qed ... */
    private void createImages() throws Exception {
        images = Files.createDirectory(dir.resolve("images"));
        Path template = dir.resolve("template.qed");
        ok(Qedfs.run(List.of("qemu-img", "create", "-q", "-f", "qed", template.toString(), Integer.toString(SIZE))), "qemu-img create");
        for (int i = 0; i < IMAGES; i++) {
            Files.copy(template, image(i));
        }
    }

    private Path image(int i) {
        return images.resolve(String.format("disk%03d.qed", i));
    }

    private Path raw(int i) {
        return mnt.resolve(String.format("disk%03d.raw", i));
    }

    /** True when qemu-img info cannot open the image for the lock a writer holds on it (the mount's, here). */
    private static boolean lockedByAWriter(Path img) throws Exception {
        Qedfs.Result r = Qedfs.run(List.of("qemu-img", "info", img.toString()));
        if (r.exit() == 0) {
            return false;
        }
        assertTrue(r.all().contains("Failed to lock byte"), "qemu-img info fails only for the lock: " + r.all());
        return true;
    }

    /** Waits (polling, at most 60 s: no timing is asserted) until the mount has released the image. */
    private static void awaitReleased(Path img) throws Exception {
        for (int i = 0; i < 600 && lockedByAWriter(img); i++) {
            Thread.sleep(100);
        }
        assertFalse(lockedByAWriter(img), img + " is released once its raw file has been closed for a while");
    }

    private static boolean needsCheck(Path img) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "r")) {
            f.seek(16); // features, little-endian
            return (Integer.reverseBytes(f.readInt()) & NEED_CHECK) != 0;
        }
    }

    @Test
    void imagesAreOpenedOnFirstUseAndReleasedWhenIdle() throws Exception {
        createImages();
        ok(Qedfs.run(List.of("qemu-io", "-f", "qed", "-c", "write -P 0x77 1M 64k", image(7).toString())), "qemu-io write");
        Process holder = holdOpen(image(42), false); // a writer holds disk042 before the mount
        Path log = dir.resolve("log");
        try {
            Qedfs.mount("--log", log.toString(), images.toString(), mnt.toString());

            try (Stream<Path> listed = Files.list(mnt)) {
                assertEquals(IMAGES, listed.count(), "every image is listed, the held one too");
            }
            assertEquals(SIZE, Files.size(raw(42)), "the held image's size comes from the listing");
            for (int i : new int[] {0, 7, 150, 299}) {
                assertFalse(lockedByAWriter(image(i)), "disk" + i + " is not locked while nobody opened its raw file");
            }
            // nothing holds an unopened image: QEMU may write it, and its first open reads what QEMU wrote
            ok(Qedfs.run(List.of("qemu-io", "-f", "qed", "-c", "write -P 0x11 0 64k", image(150).toString())), "qemu-io write");
            byte[] head = new byte[65536];
            Arrays.fill(head, (byte) 0x11);
            assertArrayEquals(head, Arrays.copyOf(Files.readAllBytes(raw(150)), 65536));

            FileSystemException busy = assertThrows(FileSystemException.class, () -> Files.readAllBytes(raw(42)));
            assertTrue(String.valueOf(busy.getReason()).contains("Device or resource busy"), busy.toString());
            String logged = Files.readString(log);
            assertTrue(logged.contains(image(42) + ": the image is in use") && logged.contains("held by process " + holder.pid()
                    + " (qemu-io)"), logged);
            try (Stream<Path> listed = Files.list(mnt)) {
                assertEquals(IMAGES, listed.count(), "the listing stays as it was");
            }

            byte[] seven = Files.readAllBytes(raw(7));
            byte[] want = new byte[SIZE];
            Arrays.fill(want, 1 << 20, (1 << 20) + 65536, (byte) 0x77);
            assertArrayEquals(want, seven, "the other images work");

            byte[] model = new byte[SIZE];
            try (FileChannel ch = FileChannel.open(raw(5), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                assertTrue(lockedByAWriter(image(5)), "an image is locked while its raw file is open");
                byte[] data = new byte[300_000];
                new Random(5).nextBytes(data);
                writeFully(ch, 123_457, data);
                System.arraycopy(data, 0, model, 123_457, data.length);
                ch.force(true);
            }
            awaitReleased(image(5));
            assertFalse(needsCheck(image(5)), "released: marked clean");
            assertEquals(0, Qedfs.run(List.of("qemu-img", "check", image(5).toString())).exit(), "and consistent");
            assertArrayEquals(model, content(image(5)), "QEMU reads what was written through the mount");
        } finally {
            release(holder);
        }
        assertArrayEquals(new byte[SIZE], Files.readAllBytes(raw(42)), "the image opens once its holder let go");

        TreeMap<Integer, byte[]> written = new TreeMap<>();
        Random rnd = new Random(17);
        for (int n = 0; n < 25; n++) {
            int i = rnd.nextInt(IMAGES);
            byte[] model = written.computeIfAbsent(i, k -> {
                try {
                    return Files.readAllBytes(raw(k));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            try (FileChannel ch = FileChannel.open(raw(i), StandardOpenOption.WRITE)) {
                byte[] data = new byte[1 + rnd.nextInt(200_000)];
                rnd.nextBytes(data);
                int pos = rnd.nextInt(SIZE - data.length);
                writeFully(ch, pos, data);
                System.arraycopy(data, 0, model, pos, data.length);
            }
        }
        Qedfs.unmount(mnt);

        Qedfs.mount(images.toString(), mnt.toString());
        for (var e : written.entrySet()) {
            assertArrayEquals(e.getValue(), Files.readAllBytes(raw(e.getKey())), "disk" + e.getKey() + " after a remount");
        }
        Qedfs.unmount(mnt);
        for (var e : written.entrySet()) {
            Path img = image(e.getKey());
            assertEquals(0, Qedfs.run(List.of("qemu-img", "check", img.toString())).exit(), img + " checks clean");
            assertFalse(needsCheck(img), img + " is clean after unmount");
            assertArrayEquals(e.getValue(), content(img), img + " holds what was written, for QEMU too");
        }
    }

    @Test
    void imagesNamedOnTheCommandLineStayOpenForTheWholeMount() throws Exception {
        createImages();
        Qedfs.mount(image(1).toString(), image(2).toString(), mnt.toString());
        assertTrue(lockedByAWriter(image(1)) && lockedByAWriter(image(2)), "named images are locked from the start");
        Files.readAllBytes(raw(1));
        Thread.sleep(4000); // longer than a lazy image stays open unused: a named one stays regardless
        assertTrue(lockedByAWriter(image(1)), "and stay locked while mounted");
        Qedfs.unmount(mnt);
        assertFalse(lockedByAWriter(image(1)), "until unmounted");
    }
}
