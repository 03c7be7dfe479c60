package io.qedfs.fuse;

import static io.qedfs.fuse.MountIT.readFully;
import static io.qedfs.fuse.MountIT.writeFully;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.qedfs.qed.CheckReport;
import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.QedTools;
import io.qedfs.qed.RepairMode;
import io.qedfs.qed.host.SparseFiles;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The mount and files that are no image file, and images with 1 GiB tables: a directory source holding an
 * image whose backing file is a FIFO is refused in one line naming it (as the directory source refuses any
 * bad image) instead of hanging; a FIFO in the directory is no image and is passed over; a {@code qedfs mount}
 * killed while it waits takes its server along; and an image with 64 MiB clusters and table_size 16 mounts in
 * the server's default heap and keeps what is written.
 */
@Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HostileFilesMountIT extends MountTestBase {
    private static final long COMMAND_SECONDS = 60;

    @Test
    void aDirectoryHoldingAFifoBackedImageIsRefusedInOneLine() throws Exception {
        Path src = Files.createDirectory(dir.resolve("src"));
        QedTools.create(src.resolve("good.qed"), QedCreateOptions.ofSize(8 << 20));
        Path base = dir.resolve("base.raw");
        Files.write(base, new byte[1 << 20]);
        QedTools.create(src.resolve("fifo-backed.qed"), QedCreateOptions.ofSize(1 << 20).withBacking(base.toString(), "raw"));
        Files.delete(base);
        mkfifo(base);
        mkfifo(src.resolve("pipe.qed")); // not an image at all: passed over like any file without the magic

        Qedfs.Result refused = within(List.of("mount", src.toString(), mnt.toString()));
        assertEquals(1, refused.exit(), refused.all());
        assertEquals(1, refused.err().lines().count(), refused.err());
        assertTrue(refused.err().contains(src.resolve("fifo-backed.qed").toString())
                && refused.err().contains(base.toString()) && refused.err().contains("is a FIFO (named pipe)"), refused.err());
        assertFalse(MountTable.isMountPoint(mnt), "nothing mounted");

        Files.delete(src.resolve("fifo-backed.qed"));
        Qedfs.mount(src.toString(), mnt.toString());
        List<String> served;
        try (var names = Files.list(mnt)) {
            served = names.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertEquals(List.of("good.raw"), served, "the FIFO is no image");
        byte[] data = new byte[1 << 20];
        new Random(11).nextBytes(data);
        try (FileChannel ch = FileChannel.open(mnt.resolve("good.raw"), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            writeFully(ch, 3 << 20, data);
            ch.force(false);
            ByteBuffer back = ByteBuffer.allocate(data.length);
            readFully(ch, 3 << 20, back);
            assertArrayEquals(data, back.array());
        }
        Qedfs.unmount(mnt);
    }

    /**
     * The server is kept waiting (its log is a FIFO nobody reads, so opening it blocks); the {@code qedfs mount}
     * waiting for it is killed, with SIGKILL and with SIGTERM: the server must end too, nothing mounted.
     */
    @Test
    void aMountCommandKilledWhileWaitingTakesItsServerAlong() throws Exception {
        Path img = dir.resolve("disk.qed");
        QedTools.create(img, QedCreateOptions.ofSize(8 << 20));
        Path log = mkfifo(dir.resolve("log.fifo"));
        for (boolean sigkill : new boolean[] {true, false}) {
            Process waiting = new ProcessBuilder("java", "-jar", Qedfs.jar().toString(), "mount", "--log", log.toString(),
                    img.toString(), mnt.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("out").toFile()).start();
            ProcessHandle server = null;
            try {
                server = serverOf(waiting);
                assertTrue(server.isAlive() && waiting.isAlive(), "the server waits on its log, the command on the server");
                if (sigkill) {
                    waiting.destroyForcibly();
                } else {
                    waiting.destroy();
                }
                assertTrue(waiting.waitFor(COMMAND_SECONDS, TimeUnit.SECONDS), "the mount command ended");
                server.onExit().get(COMMAND_SECONDS, TimeUnit.SECONDS);
                assertFalse(MountTable.isMountPoint(mnt), "nothing mounted");
            } catch (java.util.concurrent.TimeoutException e) {
                fail((sigkill ? "SIGKILL" : "SIGTERM") + " of the waiting mount command left its server " + server.pid()
                        + " behind");
            } finally {
                waiting.destroyForcibly();
                if (server != null) {
                    server.destroyForcibly();
                }
            }
        }
    }

    /** 1 GiB tables: the server (default heap, 192 MiB) mounts it, and every write reads back after a remount. */
    @Test
    void gigabyteTablesMountAndKeepTheirData() throws Exception {
        int cluster = 64 << 20;
        long size = 1L << 45;
        Path img = dir.resolve("huge.qed");
        Qedfs.ok(Qedfs.qedfs("create", "-q", "-o", "cluster_size=64M,table_size=16", img.toString(), "32T"), "create");
        long sliceSpan = (1L << 17) * cluster; // the guest bytes one 1 MiB slice of an L2 table maps
        long[] at = {0, 5L * cluster - 2048, 3 * sliceSpan + 512, size - (1 << 20)};
        byte[][] data = new byte[at.length][];
        Random rnd = new Random(14);
        Qedfs.mount("--log", dir.resolve("log").toString(), img.toString(), mnt.toString());
        try (FileChannel ch = FileChannel.open(mnt.resolve("huge.raw"), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            assertEquals(size, ch.size());
            for (int i = 0; i < at.length; i++) {
                data[i] = new byte[1 << 20];
                rnd.nextBytes(data[i]);
                writeFully(ch, at[i], data[i]);
            }
            ch.force(false);
        }
        Qedfs.unmount(mnt);
        Qedfs.mount("-r", img.toString(), mnt.toString());
        try (FileChannel ch = FileChannel.open(mnt.resolve("huge.raw"), StandardOpenOption.READ)) {
            for (int i = 0; i < at.length; i++) {
                ByteBuffer back = ByteBuffer.allocate(data[i].length);
                readFully(ch, at[i], back);
                assertArrayEquals(data[i], back.array(), "at 0x" + Long.toHexString(at[i]));
            }
            ByteBuffer zero = ByteBuffer.allocate(4096);
            readFully(ch, 1L << 44, zero);
            assertArrayEquals(new byte[4096], zero.array());
        }
        Qedfs.unmount(mnt);
        try (QedImage q = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            CheckReport r = q.check(RepairMode.NONE);
            assertTrue(r.isClean(), r.toString());
            assertEquals(5, r.allocatedClusters());
        }
        System.out.printf("1 GiB tables: %d bytes on disk for 5 data clusters of 64 MiB%n", SparseFiles.allocatedBytes(img));
    }

    /** The serving process the waiting mount command started, once it runs. */
    private static ProcessHandle serverOf(Process waiting) throws Exception {
        for (int i = 0; i < COMMAND_SECONDS * 20; i++) {
            Optional<ProcessHandle> child = waiting.children().findFirst();
            if (child.isPresent()) {
                return child.get();
            }
            assertTrue(waiting.isAlive(), "the mount command ended before starting a server");
            Thread.sleep(50);
        }
        return fail("no server process started");
    }

    /** {@code qedfs args}, failing (and killing it) if it does not end within a minute. */
    private static Qedfs.Result within(List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("java", "-jar", Qedfs.jar().toString()));
        cmd.addAll(args);
        Path out = Files.createTempFile("qedfs-it-", ".out");
        Path err = Files.createTempFile("qedfs-it-", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(COMMAND_SECONDS, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                fail("qedfs " + args + " hung for " + COMMAND_SECONDS + " s");
            }
            return new Qedfs.Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static Path mkfifo(Path p) throws Exception {
        Qedfs.ok(Qedfs.run(List.of("mkfifo", p.toString())), "mkfifo");
        return p;
    }
}
