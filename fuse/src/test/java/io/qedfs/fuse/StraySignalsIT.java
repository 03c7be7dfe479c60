package io.qedfs.fuse;

import static io.qedfs.fuse.Qedfs.ok;
import static io.qedfs.fuse.Qedfs.sh;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.QedTools;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Signals nobody unmounts with (SIGUSR1, SIGUSR2, SIGALRM) are ignored by the serving process: sent under a
 * stream of allocating writes, they neither end it (which would lose what is queued and leave the image
 * dirty) nor crash the JVM (SIGUSR2 is HotSpot's own unless moved); the process runs in / and no crash report
 * lands in the directory the mount was started from.
 */
@Timeout(180)
class StraySignalsIT extends MountTestBase {
    private static final int BLOCK = 64 << 10;
    private static final int SLOTS = 512; // a 32 MiB image

    @Test
    void straySignalsUnderWriteLoadAreIgnored() throws Exception {
        Path img = dir.resolve("d.qed");
        QedTools.create(img, QedCreateOptions.ofSize((long) SLOTS * BLOCK));
        Path cwd = Files.createDirectory(dir.resolve("cwd"));
        Path log = dir.resolve("log");
        ok(sh("cd " + cwd + " && java -jar " + Qedfs.jar().toAbsolutePath() + " mount -q --log " + log + " " + img + " " + mnt),
                "mount");
        long pid = MountTable.find(mnt).orElseThrow().pid();
        assertEquals(Path.of("/"), Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "cwd")), "runs in /");

        Writer writer = new Writer(mnt.resolve("d.raw"));
        writer.start();
        writer.awaitMore(0, 20);
        for (String sig : List.of("USR1", "USR2", "ALRM")) {
            int before = writer.completed.get();
            ok(sh("kill -" + sig + " " + pid), "kill -" + sig);
            writer.awaitMore(before, 20); // the mount still takes writes after the signal
        }
        writer.stopAndJoin();
        assertNull(writer.failure, () -> "a write failed: " + writer.failure + "; log: " + readQuietly(log));
        assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "still serving");

        Qedfs.unmount(mnt);
        assertFalse(MountIT.needCheck(img), "closed cleanly");
        assertEquals(0, Qedfs.run(List.of("qemu-img", "check", img.toString())).exit());
        writer.verify(img);
        String logText = Files.readString(log);
        for (String sig : List.of("USR1", "USR2", "ALRM")) {
            assertTrue(logText.contains("SIG" + sig + " ignored"), logText);
        }
        try (var files = Files.walk(dir)) {
            assertEquals(List.of(), files.filter(p -> p.getFileName().toString().startsWith("hs_err")).toList(), "no JVM crash report");
        }
    }

    private static String readQuietly(Path p) {
        try {
            return Files.readString(p);
        } catch (Exception e) {
            return e.toString();
        }
    }

    /** Writes block after block (each slot of 64 KiB in turn, distinct data every time), with an fsync every 4. */
    private static final class Writer extends Thread {
        private final Path raw;
        final AtomicInteger completed = new AtomicInteger();
        private volatile boolean stop;
        volatile Throwable failure;

        Writer(Path raw) {
            this.raw = raw;
            setDaemon(true);
        }

        static byte[] block(int i) {
            byte[] b = new byte[BLOCK];
            new Random(i).nextBytes(b);
            return b;
        }

        @Override
        public void run() {
            try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.WRITE)) {
                for (int i = 0; !stop; i++) {
                    ByteBuffer b = ByteBuffer.wrap(block(i));
                    long pos = (long) (i % SLOTS) * BLOCK;
                    while (b.hasRemaining()) {
                        pos += ch.write(b, pos);
                    }
                    if (i % 4 == 3) {
                        ch.force(false);
                    }
                    completed.incrementAndGet();
                }
                ch.force(false);
            } catch (Throwable t) {
                failure = t;
            }
        }

        /** Waits until {@code more} writes completed after {@code from} (or the writer ended). */
        void awaitMore(int from, int more) throws InterruptedException {
            while (completed.get() < from + more && isAlive()) {
                Thread.sleep(5);
            }
            assertNull(failure, () -> "a write failed: " + failure);
        }

        void stopAndJoin() throws InterruptedException {
            stop = true;
            join(60_000);
            assertFalse(isAlive(), "the writer ends");
        }

        /** Every slot holds the last block written to it. */
        void verify(Path img) throws Exception {
            int n = completed.get();
            try (QedImage q = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
                for (int i = Math.max(0, n - SLOTS); i < n; i++) {
                    ByteBuffer got = ByteBuffer.allocate(BLOCK);
                    q.read((long) (i % SLOTS) * BLOCK, got);
                    assertArrayEquals(block(i), got.array(), "block " + i + " of " + n);
                }
            }
        }
    }
}
