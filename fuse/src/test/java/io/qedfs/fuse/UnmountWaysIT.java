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
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every way of ending a foreground mount flushes, marks clean, closes, and exits 0. */
@Timeout(120)
class UnmountWaysIT {
    @TempDir
    Path dir;

    @AfterEach
    void tearDown() throws Exception {
        if (dir != null) {
            Qedfs.cleanUp(dir);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"qedfs unmount", "fusermount -u", "umount", "SIGINT", "SIGTERM"})
    void endsCleanly(String way) throws Exception {
        Qedfs.assumeFuse();
        Path img = dir.resolve("d.qed");
        QedTools.create(img, QedCreateOptions.ofSize(32 << 20));
        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        Process p = new ProcessBuilder("java", "-jar", Qedfs.jar().toString(), "mount", "-f", img.toString(), mnt.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("out").toFile()).start();
        for (int i = 0; i < 400 && MountTable.find(mnt).isEmpty(); i++) {
            assertTrue(p.isAlive(), "mount -f died: " + Files.readString(dir.resolve("out")));
            Thread.sleep(25);
        }
        byte[] data = new byte[300_000];
        new Random(way.hashCode()).nextBytes(data);
        Files.write(dir.resolve("data"), data);
        Qedfs.ok(Qedfs.sh("dd if=" + dir.resolve("data") + " of=" + mnt.resolve("d.raw") + " bs=4096 seek=777 conv=notrunc status=none"), "dd");
        switch (way) {
            case "qedfs unmount" -> Qedfs.unmount(mnt);
            case "fusermount -u" -> Qedfs.ok(Qedfs.run(List.of("fusermount", "-u", mnt.toString())), way);
            case "umount" -> Qedfs.ok(Qedfs.run(List.of("umount", mnt.toString())), way);
            case "SIGINT" -> Qedfs.ok(Qedfs.run(List.of("kill", "-INT", Long.toString(p.pid()))), way);
            default -> p.destroy();
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), way + ": the process ends");
        String log = Files.readString(dir.resolve("out"));
        assertEquals(0, p.exitValue(), way + ": exit status; log: " + log);
        assertTrue(log.contains("flushed and closed"), log);
        assertFalse(MountTable.isMountPoint(mnt));
        assertFalse(MountIT.needCheck(img), way + ": NEED_CHECK clear");
        assertEquals(0, Qedfs.run(List.of("qemu-img", "check", img.toString())).exit());
        try (QedImage q = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            ByteBuffer got = ByteBuffer.allocate(data.length);
            q.read(777L * 4096, got);
            assertArrayEquals(data, got.array(), way + ": the written data is in the image");
        }
    }
}
