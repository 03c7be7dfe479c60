package io.qedfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.QedTools;
import io.qedfs.qed.Qemu;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConvertCommandTest {
    private static final long SEED = Long.getLong("qedfs.seed", System.nanoTime());

    @TempDir
    Path dir;
    private Path source;

    @BeforeAll
    static void printSeed() {
        System.out.println("ConvertCommandTest seed: " + SEED + " (rerun with -Dqedfs.seed=" + SEED + ")");
    }

    @BeforeEach
    void sparseRandomSource() throws IOException {
        source = dir.resolve("src.raw");
        Random rnd = new Random(SEED);
        long size = (24L << 20) + 512L * rnd.nextInt(64);
        try (RandomAccessFile f = new RandomAccessFile(source.toFile(), "rw")) {
            f.setLength(size);
            for (int i = 0; i < 40; i++) {
                byte[] data = new byte[1 + rnd.nextInt(200_000)];
                rnd.nextBytes(data);
                long at = (long) (rnd.nextDouble() * (size - data.length));
                f.seek(at);
                f.write(data);
            }
            f.seek(size - 3);
            f.write(new byte[] {1, 2, 3}); // the very last bytes
            f.seek(20L << 20);
            f.write(new byte[2 << 20]); // explicitly written zeroes: the output must not store them
        }
    }

    private String p(String name) {
        return dir.resolve(name).toString();
    }

    @Test
    void rawToQedToRawIsByteIdenticalAndSparse() throws IOException {
        Cli.run("convert", "-O", "qed", source.toString(), p("a.qed")).assertOk();
        Cli.run("convert", "-O", "raw", p("a.qed"), p("b.raw")).assertOk();
        assertEquals(Files.size(source), Files.size(Path.of(p("b.raw"))));
        assertEquals(Images.sha256(source), Images.sha256(Path.of(p("b.raw"))), "seed " + SEED);
        try (QedImage img = QedImage.open(Path.of(p("a.qed")), QedOpenOptions.readOnlyOptions())) {
            assertFalse(img.needsCheck(), "closed clean");
            assertTrue(img.allocatedDataBytes() < Files.size(source) / 2, "zero clusters are not stored");
        }
        assumeTrue(holesWork(), "this file system does not keep sparse files sparse");
        assertTrue(DiskUsage.bytes(Path.of(p("b.raw"))) < DiskUsage.bytes(source),
                "the raw output is sparse, even where the source held written zeroes");
    }

    /** Without -O, DEST is raw, as qemu-img convert writes it from the same command line. */
    @Test
    void writesRawByDefaultLikeQemuImg() throws Exception {
        Qemu.assumeAvailable();
        Path qed = Images.FIXTURES.resolve("chain-top.qed");
        assumeTrue(Files.exists(qed), "fixture " + qed + " missing");
        for (Path in : java.util.List.of(source, qed)) {
            Path ours = dir.resolve(in.getFileName() + ".ours");
            Path theirs = dir.resolve(in.getFileName() + ".qemu");
            Cli.Result r = Cli.run("convert", in.toString(), ours.toString()).assertOk();
            assertEquals("", r.out() + r.err());
            Qemu.ok("qemu-img", "convert", in.toString(), theirs.toString());
            assertFalse(QedTools.isQed(ours), "raw, not QED: " + in);
            assertEquals(Images.sha256(theirs), Images.sha256(ours), in.toString());
        }
        // a QED name does not make QED: said on stderr, and -q says nothing
        Path named = dir.resolve("named.qed");
        Cli.Result r = Cli.run("convert", source.toString(), named.toString()).assertOk();
        assertEquals("qedfs: note: " + named + " is written raw, the default as in qemu-img convert; -O qed writes QED\n", r.err());
        assertEquals(Images.sha256(source), Images.sha256(named));
        assertEquals("", Cli.run("convert", "-q", source.toString(), named.toString()).assertOk().err());
        String help = Cli.run("convert", "--help").assertOk().out();
        assertTrue(help.contains("-O raw|qed") && help.contains("(default: raw, as in qemu-img convert)"), help);
    }

    @Test
    void clusterSizeOptionAndRawToRaw() throws IOException {
        Cli.run("convert", "-O", "qed", "-o", "cluster_size=4k,table_size=2", source.toString(), p("c.qed")).assertOk();
        try (QedImage img = QedImage.open(Path.of(p("c.qed")), QedOpenOptions.readOnlyOptions())) {
            assertEquals(4096, img.clusterSize());
            assertEquals(2, img.tableSize());
        }
        Cli.run("convert", "-O", "raw", p("c.qed"), p("d.raw")).assertOk();
        Cli.run("convert", "-O", "raw", p("d.raw"), p("e.raw")).assertOk();
        assertEquals(Images.sha256(source), Images.sha256(Path.of(p("e.raw"))), "seed " + SEED);
    }

    @Test
    void progressGoesToStderr() {
        Cli.Result r = Cli.run("convert", "-p", "-O", "qed", source.toString(), p("p.qed")).assertOk();
        assertEquals("", r.out());
        assertTrue(r.err().contains("    (0.00/100%)\r"), r.err());
        assertTrue(r.err().endsWith("    (100.00/100%)\r\n"), r.err());
        assertEquals("", Cli.run("convert", "-p", "-q", "-O", "qed", source.toString(), p("p2.qed")).assertOk().err());
    }

    @Test
    void refusesToOverwriteItsSource() throws IOException {
        String before = Images.sha256(source);
        Cli.Result r = Cli.run("convert", "-O", "raw", source.toString(), source.toString());
        r.assertOneLineError(source.toString());
        Cli.run("convert", source.toString(), dir.resolve(".").resolve("src.raw").toString()).assertOneLineError("src.raw");
        Cli.run("convert", "-O", "qed", source.toString(), p("top.qed")).assertOk();
        Cli.run("create", "-q", "-b", "top.qed", p("over.qed")).assertOk();
        Cli.run("convert", p("over.qed"), p("top.qed")).assertOneLineError("top.qed");
        assertEquals(before, Images.sha256(source));
    }

    @Test
    void aDestinationInUseIsRefusedUntouchedAndKept() throws IOException {
        Path busy = Path.of(p("busy.qed"));
        Cli.run("convert", "-O", "qed", source.toString(), busy.toString()).assertOk();
        String before = Images.sha256(busy);
        for (QedOpenOptions holder : java.util.List.of(QedOpenOptions.readWrite(), QedOpenOptions.readOnlyOptions())) {
            try (QedImage open = QedImage.open(busy, holder)) { // the lock a mount (read-write or -r) holds
                for (String format : new String[] {"raw", "qed"}) {
                    Cli.Result r = Cli.run("convert", "-O", format, source.toString(), busy.toString()).assertOneLineError("busy.qed");
                    assertTrue(r.err().contains("the image is in use"), r.err());
                    assertEquals(before, Images.sha256(busy), "-O " + format + " over an image open " + (holder.readOnly() ? "read-only" : "read-write"));
                }
            }
        }
    }

    @Test
    void usageAndFailures() {
        Cli.run("convert", "-O", "raw", "-o", "cluster_size=4k", source.toString(), p("x.raw")).assertUsageError("qedfs convert");
        Cli.run("convert", "-O", "vmdk", source.toString(), p("x.raw")).assertUsageError("qedfs convert");
        Cli.run("convert", "-O", "qed", "-o", "cluster_size=1000", source.toString(), p("x.qed")).assertOneLineError("x.qed");
        Cli.run("convert", "-o", "cluster_size=4k", source.toString(), p("x.qed")).assertUsageError("qedfs convert");
        assertFalse(Files.exists(Path.of(p("x.qed"))), "a failed convert leaves no DEST behind");
    }

    @Test
    void qemuImgAgrees() throws Exception {
        Qemu.assumeAvailable();
        Cli.run("convert", "-O", "qed", source.toString(), p("q.qed")).assertOk();
        Qemu.Result check = Qemu.run("qemu-img", "check", p("q.qed"));
        assertEquals(0, check.exit(), check.out());
        Qemu.Result cmp = Qemu.run("qemu-img", "compare", "-f", "raw", "-F", "qed", source.toString(), p("q.qed"));
        assertEquals(0, cmp.exit(), cmp.out());
        assertTrue(cmp.out().contains("Images are identical."), cmp.out());
    }

    @Test
    void flattensBackingChainsLikeQemuImg() throws Exception {
        Qemu.assumeAvailable();
        for (String name : new String[] {"chain-top.qed", "over-raw.qed", "c4k-t2.qed", "odd-size.qed"}) {
            Path f = Images.FIXTURES.resolve(name);
            assumeTrue(Files.exists(f), "fixture " + f + " missing");
            Path ours = dir.resolve(name + ".raw");
            Path theirs = dir.resolve(name + ".qemu.raw");
            Cli.run("convert", "-O", "raw", f.toString(), ours.toString()).assertOk();
            Qemu.ok("qemu-img", "convert", "-O", "raw", f.toString(), theirs.toString());
            assertEquals(Images.sha256(theirs), Images.sha256(ours), name);
            Path qed = dir.resolve(name + ".flat.qed");
            Cli.run("convert", "-O", "qed", f.toString(), qed.toString()).assertOk();
            assertEquals(0, Qemu.run("qemu-img", "compare", f.toString(), qed.toString()).exit(), name);
        }
    }

    private boolean holesWork() throws IOException {
        Path probe = dir.resolve("probe");
        try (RandomAccessFile f = new RandomAccessFile(probe.toFile(), "rw")) {
            f.setLength(8 << 20);
        }
        return DiskUsage.bytes(probe) < (1 << 20);
    }
}
