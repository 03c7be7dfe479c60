package io.qedfs.fuse;

import static io.qedfs.fuse.Qedfs.ok;
import static io.qedfs.fuse.Qedfs.sh;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedTools;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Through a real mount: an image grown by truncate is clean again once idle (within the 5-second idle period;
 * polled with a generous bound, never timed), the grown range reads as zeroes even over a longer backing
 * file, and a dirty image whose file ends in leaked holes is checked clean by qemu-img after mount and unmount.
 */
@Timeout(300)
class GrowAndCleanIT extends MountTestBase {
    /** Far past the idle period, so that only a cleaner that never cleans fails. */
    private static final int CLEAN_WITHIN_SECONDS = 30;

    @Test
    void imagesGrownByTruncateAreCleanOnceIdle() throws Exception {
        Path plain = dir.resolve("plain.qed");
        QedTools.create(plain, QedCreateOptions.ofSize(16 << 20));
        byte[] base = new byte[48 << 20];
        new Random(1).nextBytes(base);
        Files.write(dir.resolve("base.raw"), base);
        Path over = dir.resolve("over.qed");
        QedTools.create(over, QedCreateOptions.ofSize(16 << 20).withBacking("base.raw", "raw"));
        Qedfs.mount(plain.toString(), over.toString(), mnt.toString());

        ok(sh("truncate -s 40M " + mnt.resolve("plain.raw")), "truncate plain");
        ok(sh("truncate -s 40M " + mnt.resolve("over.raw")), "truncate over");
        assertEquals(40 << 20, Files.size(mnt.resolve("plain.raw")));
        assertEquals(40 << 20, Files.size(mnt.resolve("over.raw")));
        byte[] grown = new byte[24 << 20];
        try (FileChannel ch = FileChannel.open(mnt.resolve("over.raw"), StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.wrap(grown);
            while (b.hasRemaining()) {
                if (ch.read(b, (16 << 20) + b.position()) < 0) {
                    throw new AssertionError("short read of the grown range");
                }
            }
        }
        assertArrayEquals(new byte[grown.length], grown, "the grown range reads as zeroes, not as the backing file");

        waitClean(plain);
        waitClean(over);
        assertFalse(MountIT.needCheck(plain), "plain.qed clean within " + CLEAN_WITHIN_SECONDS + " s, still mounted");
        assertFalse(MountIT.needCheck(over), "over.qed clean within " + CLEAN_WITHIN_SECONDS + " s, still mounted");
        Qedfs.unmount(mnt);
        for (Path img : List.of(plain, over)) {
            Qedfs.Result check = Qedfs.run(List.of("qemu-img", "check", img.toString()));
            assertEquals(0, check.exit(), check.all());
        }
    }

    @Test
    void aDirtyImageEndingInLeakedHolesIsCleanAfterMountAndUnmount() throws Exception {
        Path img = dir.resolve("leaky.qed");
        QedTools.create(img, QedCreateOptions.ofSize(16 << 20));
        ok(Qedfs.run(List.of("qemu-io", "-f", "qed", "-c", "write -P 0x5a 0 128k", img.toString())), "qemu-io");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.seek(16);
            long features = Long.reverseBytes(f.readLong());
            f.seek(16);
            f.writeLong(Long.reverseBytes(features | 2)); // NEED_CHECK, as a crash leaves it
        }
        ok(sh("truncate -s +192K " + img), "truncate");
        Qedfs.Result before = Qedfs.run(List.of("qemu-img", "check", img.toString()));
        assertEquals(3, before.exit(), "leaks only: " + before.all());

        Qedfs.mount("--check-before-ready", img.toString(), mnt.toString()); // repaired before the unmount can stop it
        Qedfs.unmount(mnt);
        Qedfs.Result after = Qedfs.run(List.of("qemu-img", "check", img.toString()));
        assertEquals(0, after.exit(), after.all());
        Qedfs.Result read = Qedfs.run(List.of("qemu-io", "-f", "qed", "-c", "read -P 0x5a 0 128k", img.toString()));
        assertEquals(0, read.exit(), read.all());
        assertFalse(read.all().contains("Pattern verification failed"), read.all());
    }

    private static void waitClean(Path img) throws Exception {
        for (int i = 0; i < CLEAN_WITHIN_SECONDS * 10 && MountIT.needCheck(img); i++) {
            Thread.sleep(100);
        }
    }
}
