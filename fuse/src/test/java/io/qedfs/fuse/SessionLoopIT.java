package io.qedfs.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.QedTools;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The pool of Java threads ({@link SessionLoop}) serves a mount with one or several threads: concurrent
 * writers, then an unmount that closes everything.
 */
@Timeout(120)
class SessionLoopIT extends MountTestBase {
    @ParameterizedTest
    @ValueSource(ints = {1, 3})
    void servesAndEndsCleanly(int threads) throws Exception {
        Path img = dir.resolve("d.qed");
        QedTools.create(img, QedCreateOptions.ofSize(64 << 20));
        Process p = new ProcessBuilder("java", "-jar", Qedfs.jar().toString(), "mount", "-f",
                "--fuse-threads", Integer.toString(threads), img.toString(), mnt.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("out").toFile()).start();
        try {
            for (int i = 0; i < 400 && MountTable.find(mnt).isEmpty(); i++) {
                assertTrue(p.isAlive(), "mount -f died: " + Files.readString(dir.resolve("out")));
                Thread.sleep(25);
            }
            byte[] data = new byte[8 << 20];
            new Random(threads).nextBytes(data);
            Files.write(dir.resolve("data"), data);
            // four writers at once, each its own 2 MiB, in odd-sized requests
            List<Process> writers = new ArrayList<>();
            for (int part = 0; part < 4; part++) {
                writers.add(new ProcessBuilder("dd", "if=" + dir.resolve("data"), "of=" + mnt.resolve("d.raw"),
                        "bs=12288", "skip=" + part * (2 << 20), "seek=" + part * (2 << 20), "count=" + (2 << 20),
                        "iflag=skip_bytes,count_bytes", "oflag=seek_bytes", "conv=notrunc", "status=none")
                        .redirectErrorStream(true).start());
            }
            for (Process w : writers) {
                assertTrue(w.waitFor(60, TimeUnit.SECONDS));
                assertEquals(0, w.exitValue(), () -> new String(readAll(w)));
            }
            byte[] back = new byte[data.length];
            try (var in = Files.newInputStream(mnt.resolve("d.raw"))) {
                assertEquals(data.length, in.readNBytes(back, 0, back.length));
            }
            assertArrayEquals(data, back, "read back through the mount");
            assertEquals(threads, fuseThreads(p.pid()), "threads serving FUSE requests");
            Qedfs.ok(Qedfs.run(List.of("fusermount", "-u", mnt.toString())), "fusermount -u");
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the process ends");
            String log = Files.readString(dir.resolve("out"));
            assertEquals(0, p.exitValue(), log);
            assertTrue(log.contains("flushed and closed"), log);
            assertFalse(MountTable.isMountPoint(mnt));
            assertFalse(MountIT.needCheck(img), "NEED_CHECK clear");
            try (QedImage q = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
                ByteBuffer got = ByteBuffer.allocate(data.length);
                q.read(0, got);
                assertArrayEquals(data, got.array(), "the written data is in the image");
            }
        } finally {
            p.destroyForcibly();
        }
    }

    private static byte[] readAll(Process p) {
        try {
            return p.getInputStream().readAllBytes();
        } catch (java.io.IOException e) {
            return e.toString().getBytes();
        }
    }

    /** Threads of the process named by SessionLoop ("qedfs-fuse-N"). */
    private static long fuseThreads(long pid) throws Exception {
        long n = 0;
        try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                try {
                    if (Files.readString(t.resolve("comm")).strip().startsWith("qedfs-fuse-")) {
                        n++;
                    }
                } catch (java.nio.file.NoSuchFileException gone) {
                    // a thread that ended meanwhile
                }
            }
        }
        return n;
    }
}
