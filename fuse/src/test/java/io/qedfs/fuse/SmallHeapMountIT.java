package io.qedfs.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.QedTools;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A serving process whose heap runs out (-Xmx32m, 4 KiB writes at 2 GiB strides into a 512 GiB image, each
 * starting an L2 table of 256 KiB, more than the heap holds): the writes after the OutOfMemoryError fail with
 * an error instead of hanging in the kernel, the unmount ends the process, and
 * nothing written before the failure is lost. If the heap sufficed after all, every write reads back.
 */
@Timeout(300)
class SmallHeapMountIT extends MountTestBase {
    private static final int WRITES = 200;
    private static final long STRIDE = 2L << 30;
    private static final int BLOCK = 4096;
    /** Writes that may be acknowledged and queued when the writer thread fails: the write-behind queue's depth. */
    private static final int QUEUE_DEPTH = 8;

    @Test
    void anExhaustedHeapFailsWritesAndTheProcessStillExits() throws Exception {
        Path img = dir.resolve("big.qed");
        QedTools.create(img, QedCreateOptions.ofSize(512L << 30));
        Path log = dir.resolve("log");
        Qedfs.ok(Qedfs.run(List.of("java", "-Xmx32m", "-jar", Qedfs.jar().toString(), "mount", "-q", "--log",
                log.toString(), img.toString(), mnt.toString())), "mount");
        long pid = MountTable.find(mnt).orElseThrow().pid();
        Path raw = mnt.resolve("big.raw");

        byte[][] blocks = new byte[WRITES][];
        Random rnd = new Random(6);
        StringBuilder script = new StringBuilder("set -u\n");
        for (int i = 0; i < WRITES; i++) {
            blocks[i] = new byte[BLOCK];
            rnd.nextBytes(blocks[i]);
            Path block = dir.resolve("block" + i);
            Files.write(block, blocks[i]);
            script.append(String.format("dd if=%s of=%s bs=%d count=1 seek=%d conv=notrunc status=none 2>/dev/null"
                    + " && echo ok || echo failed%n", block, raw, BLOCK, i * (STRIDE / BLOCK)));
        }
        List<String> outcomes = runOrAbort(script.toString(), pid);
        assertEquals(WRITES, outcomes.size(), String.join(",", outcomes));
        int firstFailed = outcomes.indexOf("failed");

        Qedfs.Result unmount = Qedfs.qedfs("unmount", mnt.toString());
        Qedfs.waitExit(pid, 60); // it must end: no thread left parked for ever
        boolean reported = firstFailed >= 0 || unmount.exit() != 0;
        System.out.printf("small heap: %d of %d writes acknowledged, the first failure at %d, unmount exit %d: %s%n",
                outcomes.stream().filter("ok"::equals).count(), WRITES, firstFailed, unmount.exit(), unmount.all().strip());
        if (firstFailed >= 0) {
            assertNotEquals(0, unmount.exit(), "the unmount reports that not everything was stored");
        }
        int intact = reported ? Math.max(0, (firstFailed >= 0 ? firstFailed : WRITES) - QUEUE_DEPTH - 1) : WRITES;
        try (QedImage image = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            for (int i = 0; i < intact; i++) {
                ByteBuffer got = ByteBuffer.allocate(BLOCK);
                image.read(i * STRIDE, got);
                assertArrayEquals(blocks[i], got.array(), "write " + i + " of " + WRITES + " (first failure: "
                        + firstFailed + ", unmount " + unmount.all().strip() + ")");
            }
        }
        if (reported) {
            Qedfs.ok(Qedfs.qedfs("check", "-r", "all", img.toString()), "check -r all after the failure");
            assertEquals(0, Qedfs.run(List.of("qemu-img", "check", img.toString())).exit(), "repaired");
            assertTrue(Files.readString(log, StandardCharsets.UTF_8).contains("OutOfMemoryError"),
                    "the log says why the writes failed");
        }
    }

    /**
     * Runs the writes; if they do not end (a request stuck in the server), aborts the mount's connection so
     * that the writers come back, kills the server, and fails.
     */
    private List<String> runOrAbort(String script, long pid) throws Exception {
        Path out = dir.resolve("outcomes");
        Process p = new ProcessBuilder("bash", "-c", script).redirectOutput(out.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            MountTable.find(mnt).ifPresent(FuseConnections::abort);
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError("200 writes of 4 KiB did not end within 120 s: a request hangs in the server");
        }
        return Files.readAllLines(out);
    }
}
