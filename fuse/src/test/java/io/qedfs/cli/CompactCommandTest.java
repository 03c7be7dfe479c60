package io.qedfs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.Qemu;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code qedfs compact} against QEMU: images made and damaged with qemu-img/qemu-io, compacted in place and to
 * new files, must compare equal to a copy kept before, check clean, keep their backing chain, and shrink by
 * exactly the zero-filled and leaked clusters. Refusals and failures must leave the image byte-identical.
 */
class CompactCommandTest {
    private static final int CLUSTER = 65536; // QEMU's check reports bogus leaks with small clusters
    private static final long HEADER_AND_L1 = 5L * CLUSTER; // header cluster + an L1 table of table_size 4
    private static final long L2 = 4L * CLUSTER;
    private static final long SEED = Long.getLong("qedfs.seed", System.nanoTime());

    @TempDir
    Path dir;

    @BeforeEach
    void needsQemu() {
        Qemu.assumeAvailable();
    }

    @Test
    void inPlaceDropsZeroFilledAndLeakedClustersAndKeepsContentAndMode() throws Exception {
        Path img = qemuImage("disk.qed", "65537k", null,
                "write -P 0xab 0 1M", "write -P 0 2M 1M", "write -P 0x77 4M 1M", "write -z 4M 1M",
                "write -P 0xcd 64M 512"); // the last, partial cluster
        appendGarbage(img, 3);
        Files.setPosixFilePermissions(img, PosixFilePermissions.fromString("rw-r-----"));
        assertEquals(3, Qemu.run("qemu-img", "check", img.toString()).exit(), "leaks before");
        Path before = keepCopy(img);

        Cli.Result r = Cli.run("compact", img.toString()).assertOk();

        assertEquals(img + ": 3.81 MiB -> 1.62 MiB (17 data clusters kept; dropped 32 zero-filled and 3 leaked clusters)"
                + System.lineSeparator(), r.out());
        assertEquals("", r.err(), "no progress without -p");
        assertSameGuest(before, img);
        assertChecksClean(img);
        assertEquals(HEADER_AND_L1 + L2 + 17L * CLUSTER, Files.size(img), "tables and 17 data clusters, no gaps");
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(img)), "mode kept");
        assertEquals(List.of(), strays());
    }

    @Test
    void toANewFileWithARawBackingFileZeroFilledClustersBecomeZeroClusters() throws Exception {
        Path base = dir.resolve("base.raw");
        Qemu.ok("qemu-img", "create", "-q", "-f", "raw", base.toString(), "32M");
        Qemu.ok("qemu-io", "-f", "raw", "-c", "write -P 0x11 0 32M", base.toString());
        Path top = qemuImage("top.qed", null, "raw",
                "write -P 0 0 1M", "write -z 8M 1M", "write -P 0x22 16M 64k");
        String topSum = Images.sha256(top);
        Path out = Files.createDirectory(dir.resolve("sub")).resolve("small.qed");

        Cli.run("compact", top.toString(), out.toString()).assertOk();

        assertEquals(topSum, Images.sha256(top), "the source is left alone");
        assertSameGuest(top, out);
        assertChecksClean(out);
        String info = Qemu.ok("qemu-img", "info", "--backing-chain", out.toString());
        assertTrue(info.contains("backing file: ../base.raw") && info.contains("backing file format: raw"),
                "the same backing file, named from the new directory: " + info);
        String map = Qemu.ok("qemu-img", "map", "--output=json", out.toString()).replaceAll("\\s", "");
        for (long zeroAt : new long[] {0, 8 << 20}) {
            assertTrue(map.contains("\"start\":" + zeroAt + ",\"length\":1048576,\"depth\":0,\"present\":true,\"zero\":true,\"data\":false"),
                    "zero clusters hide the backing file at " + zeroAt + ": " + map);
        }
        assertEquals(HEADER_AND_L1 + L2 + CLUSTER, Files.size(out), "one data cluster");
    }

    @Test
    void inPlaceWithAQedBackingFileDropsTheClusterOfADroppedL2Entry() throws Exception {
        qemuImage("base.qed", "32M", null, "write -P 0x11 0 32M");
        Path top = qemuImage("top.qed", null, "qed", "write -P 0x33 1M 2M", "write -z 8M 64k");
        Images.setFirstL2Entry(top, 16, 0); // guest 1M reads the backing file again; its cluster leaks
        assertTrue(Qemu.run("qemu-img", "check", top.toString()).out().contains("1 leaked cluster"));
        Path before = keepCopy(top);
        long sizeBefore = Files.size(top);

        Cli.run("compact", top.toString()).assertOk();

        assertSameGuest(before, top);
        assertChecksClean(top);
        assertEquals(backingLines(before), backingLines(top), "the same backing chain");
        assertEquals(sizeBefore - CLUSTER, Files.size(top), "exactly the leaked cluster is gone");
    }

    @Test
    void throughASymbolicLinkTheLinkedFileIsCompacted() throws Exception {
        Path img = qemuImage("real.qed", "16M", null, "write -P 0x42 0 1M", "write -P 0 1M 1M");
        Path link = Files.createSymbolicLink(dir.resolve("link.qed"), img.getFileName());
        Path before = keepCopy(img);

        Cli.run("compact", "-q", link.toString()).assertOk();

        assertTrue(Files.isSymbolicLink(link), "the link stays a link");
        assertSameGuest(before, img);
        assertEquals(Files.size(before) - 16L * CLUSTER, Files.size(img), "the zero-filled MiB is gone");
    }

    @Test
    void throughALinkInAnotherDirectoryTheBackingChainIsKeptByteForByte() throws Exception {
        Path real = Files.createDirectory(dir.resolve("real"));
        Path other = Files.createDirectory(dir.resolve("other"));
        qemuImage("real/base.qed", "16M", null, "write -P 0x11 0 4M");
        Path img = qemuImage("real/disk.qed", null, "qed", "write -P 0x22 1M 1M", "write -P 0 3M 1M", "write -z 5M 64k");
        assertTrue(Qemu.ok("qemu-img", "info", img.toString()).contains("backing file: base.qed"), "a relative name");
        Path link = Files.createSymbolicLink(other.resolve("link.qed"), Path.of("../real/disk.qed"));
        Path decoy = qemuImage("other/base.qed", "16M", null, "write -P 0x77 0 16M"); // what the link's directory holds
        Path before = Files.copy(img, real.resolve("before.qed")); // beside it: the same relative name, the same base
        List<String> chain = chainLines(img);
        List<String> chainThroughLink = chainLines(link);

        Cli.run("compact", "-q", link.toString()).assertOk();

        assertTrue(Files.isSymbolicLink(link), "the link stays a link");
        assertEquals(chain, chainLines(img), "the image's backing chain");
        assertEquals(chainThroughLink, chainLines(link), "the chain seen through the link");
        assertSameGuest(before, img);
        assertChecksClean(img);
        assertEquals(Files.size(before) - 16L * CLUSTER, Files.size(img), "the zero-filled MiB is gone");

        Files.delete(decoy); // the usual case: the base lies only beside the real file
        Cli.run("compact", "-q", link.toString()).assertOk();
        assertEquals(chain, chainLines(img));
        assertSameGuest(before, img);
        Path out = Files.createDirectory(dir.resolve("out")).resolve("copy.qed");
        Cli.run("compact", "-q", link.toString(), out.toString()).assertOk();
        assertTrue(Qemu.ok("qemu-img", "info", out.toString()).contains("backing file: ../real/base.qed"),
                "a copy elsewhere names the same base from its own directory");
        assertSameGuest(before, out);
    }

    @Test
    void aDirtyImageWithOnlyLeaksIsCompactedClean() throws Exception {
        Path img = qemuImage("dirty.qed", "16M", null, "write -P 0x42 0 1M");
        appendGarbage(img, 2);
        setNeedCheck(img);
        Path before = keepCopy(img);

        Cli.run("compact", "-q", img.toString()).assertOk();

        assertSameGuest(before, img);
        assertChecksClean(img);
        try (QedImage q = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            assertFalse(q.needsCheck(), "the compacted image is clean");
        }
    }

    /**
     * A NEWFILE that cannot be written is named alone, as typed: not behind the image, and not as the temporary
     * file compact writes first (".new.qed.123.compact", absolute).
     */
    @Test
    void aNewFileInAMissingDirectoryOrADirectoryIsNamedAsTyped() throws Exception {
        Path img = qemuImage("src.qed", "16M", null, "write -P 0x42 0 1M");
        byte[] before = Files.readAllBytes(img);
        String missing = dir.resolve("no-such-dir").resolve("new.qed").toString();
        Cli.Result r = Cli.run("compact", img.toString(), missing);
        assertEquals("qedfs: " + missing + ": its directory does not exist\n", r.err());
        assertEquals(1, r.exit());
        Path sub = Files.createDirectory(dir.resolve("sub"));
        Cli.Result d = Cli.run("compact", img.toString(), sub.toString());
        assertEquals("qedfs: " + sub + ": is a directory\n", d.err());
        assertEquals(1, d.exit());
        assertArrayEquals(before, Files.readAllBytes(img), "the image is as it was");
        try (var left = Files.list(dir)) {
            assertEquals(List.of("src.qed", "sub"), left.map(p -> p.getFileName().toString()).sorted().toList(), "no temporary file left");
        }
    }

    @Test
    void refusalsAreOneLineAndLeaveTheImageAsItWas() throws Exception {
        Cli.run("compact", dir.resolve("missing.qed").toString()).assertOneLineError("missing.qed");
        Path raw = Files.write(dir.resolve("disk.raw"), new byte[1 << 16]);
        refused(raw, "not a QED image");

        Path corrupt = qemuImage("corrupt.qed", "16M", null, "write -P 0x42 0 1M");
        Images.setFirstL2Entry(corrupt, 3, 1L << 40); // past the end of the file
        setNeedCheck(corrupt);
        refused(corrupt, "marked dirty and does not check clean", dir.resolve("new.qed").toString());
        refused(corrupt, "run 'qedfs check -r all");
        Path alsoCorrupt = qemuImage("corrupt2.qed", "16M", null, "write -P 0x42 0 1M");
        Images.setFirstL2Entry(alsoCorrupt, 3, 1L << 40);
        refused(alsoCorrupt, "the image is corrupt");

        qemuImage("base.qed", "16M", null, "write -P 0x11 0 1M");
        Path top = qemuImage("top.qed", null, "qed", "write -P 0x22 0 64k");
        refused(top, "the destination is the source", top.toString());
        String baseSum = Images.sha256(dir.resolve("base.qed"));
        refused(top, "in the backing chain", dir.resolve("base.qed").toString());
        assertEquals(baseSum, Images.sha256(dir.resolve("base.qed")));
        assertFalse(Files.exists(dir.resolve("new.qed")));
    }

    @Test
    void anImageInUseIsRefused() throws Exception {
        Path img = qemuImage("busy.qed", "16M", null, "write -P 0x42 0 1M");
        try (QedImage mounted = QedImage.open(img, QedOpenOptions.readWrite())) { // the lock a mount takes
            refused(img, "in use");
            refused(img, "in use", dir.resolve("copy.qed").toString());
        }
        Process qemu = new ProcessBuilder("qemu-io", "-f", "qed", img.toString()).redirectErrorStream(true).start();
        try {
            awaitPrompt(qemu.getInputStream()); // the image is open, and locked, once qemu-io asks for a command
            refused(img, "in use");
            refused(img, "in use", dir.resolve("copy.qed").toString());
        } finally {
            try (OutputStream in = qemu.getOutputStream()) {
                in.write("quit\n".getBytes(StandardCharsets.UTF_8));
            }
            assertTrue(qemu.waitFor(30, TimeUnit.SECONDS));
        }
        assertFalse(Files.exists(dir.resolve("copy.qed")));
    }

    @Test
    void progressQuietAndHelp() throws Exception {
        Path img = qemuImage("p.qed", "8M", null, "write -P 0x42 0 1M");
        Cli.Result p = Cli.run("compact", "-p", img.toString(), dir.resolve("p2.qed").toString()).assertOk();
        assertTrue(p.err().contains("(100.00/100%)") && p.err().contains("(0.00/100%)"), p.err());
        Cli.Result q = Cli.run("compact", "-p", "-q", img.toString()).assertOk();
        assertEquals("", q.out() + q.err());
        String help = Cli.run("compact", "--help").assertOk().out();
        assertTrue(help.contains("IMAGE [NEWFILE]") && help.contains("Examples:") && help.contains("crash"), help);
        assertFalse(help.contains("-O") || help.contains("--output"), "-O and --output mean formats, not compact's file: " + help);
    }

    /**
     * -O is an output format and --output a report format (qemu-img's meanings, and every other command's): as
     * compact's file they are refused as bad usage, naming the command line that works, and nothing is written.
     */
    @Test
    void theNewFileIsAnArgumentNotAnOption() throws Exception {
        Path img = qemuImage("o.qed", "8M", null, "write -P 0x42 0 1M");
        String sum = Images.sha256(img);
        for (String option : List.of("-O", "--output")) {
            Path out = dir.resolve("o2.qed");
            Cli.Result r = Cli.run("compact", img.toString(), option, out.toString()).assertUsageError("qedfs compact");
            assertTrue(r.err().contains("qedfs compact " + img + " " + out), r.err());
            assertFalse(Files.exists(out), option);
            assertEquals(sum, Images.sha256(img), option);
        }
        Path out = dir.resolve("o3.qed");
        Cli.run("compact", "-q", img.toString(), out.toString()).assertOk();
        assertSameGuest(img, out);
        assertEquals(sum, Images.sha256(img), "compacting to a new file leaves the image");
    }

    @Test
    void aFailureMidwayRemovesTheTemporaryFileAndLeavesTheImage() throws Exception {
        Path img = qemuImage("big.qed", "64M", null, "write -P 0x5a 0 16M");
        appendGarbage(img, 1);
        String sum = Images.sha256(img);
        // The copy may not grow past 4 MiB: its writes fail with EFBIG (the JVM ignores SIGXFSZ).
        for (String output : new String[] {null, dir.resolve("out.qed").toString()}) {
            String args = "compact " + img + (output == null ? "" : " " + output);
            Qemu.Result r = Qemu.run("bash", "-c", "ulimit -f 4096; exec " + javaCommand() + " " + args);
            assertEquals(1, r.exit(), r.out());
            assertEquals(1, r.out().strip().lines().count(), r.out());
            assertTrue(r.out().startsWith("qedfs: " + img + ": compaction failed") && r.out().contains("left unchanged"), r.out());
            assertEquals(sum, Images.sha256(img), "byte-identical");
            assertEquals(List.of(), strays(), "the temporary file is removed");
        }
        assertFalse(Files.exists(dir.resolve("out.qed")));
    }

    @Test
    void killedAtAnyMomentTheImageIsTheOldOneOrTheNewOne() throws Exception {
        Path img = qemuImage("kill.qed", "256M", null, "write -P 0x5a 0 96M", "write -P 0 100M 32M");
        appendGarbage(img, 4);
        String sum = Images.sha256(img);
        Path before = keepCopy(img);
        Process p = new ProcessBuilder("bash", "-c", "exec " + javaCommand() + " compact " + img)
                .redirectErrorStream(true).redirectOutput(dir.resolve("log").toFile()).start();
        for (int i = 0; i < 6000 && p.isAlive() && strays().isEmpty(); i++) {
            Thread.sleep(10); // a probe for the temporary file, not a timing assumption: any moment will do
        }
        Thread.sleep(new Random(SEED).nextInt(1000)); // mid-copy, around the rename, or after
        p.destroyForcibly(); // SIGKILL: nothing of the process runs after this
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        boolean untouched = Images.sha256(img).equals(sum);
        System.out.println("compact killed " + (untouched ? "before" : "after") + " the rename (-Dqedfs.seed=" + SEED + ")");
        assertSameGuest(before, img);
        if (!untouched) {
            assertChecksClean(img);
        }
        strays().forEach(s -> s.toFile().delete()); // what a kill leaves behind: a stray temporary file
        Cli.run("compact", "-q", img.toString()).assertOk();
        assertSameGuest(before, img);
        assertChecksClean(img);
    }

    // ---- helpers

    /** A QED image made by qemu-img (64 KiB clusters, or on top of base.raw/base.qed) and written by qemu-io. */
    private Path qemuImage(String name, String size, String backingFormat, String... writes) throws Exception {
        Path p = dir.resolve(name);
        List<String> create = new ArrayList<>(List.of("qemu-img", "create", "-q", "-f", "qed", "-o", "cluster_size=64k"));
        if (backingFormat != null) {
            create.addAll(List.of("-b", "base." + backingFormat, "-F", backingFormat));
        }
        create.add(p.toString());
        if (size != null) {
            create.add(size);
        }
        Qemu.ok(create.toArray(String[]::new));
        List<String> io = new ArrayList<>(List.of("qemu-io", "-f", "qed"));
        for (String w : writes) {
            io.addAll(List.of("-c", w));
        }
        io.add(p.toString());
        Qemu.ok(io.toArray(String[]::new));
        return p;
    }

    /** Clusters of random bytes after the end of the file: clusters nothing references, leaks to qemu-img check. */
    private static void appendGarbage(Path img, int clusters) throws IOException {
        byte[] junk = new byte[clusters * CLUSTER];
        new Random(clusters).nextBytes(junk);
        Files.write(img, junk, StandardOpenOption.APPEND);
    }

    private static void setNeedCheck(Path img) throws IOException {
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long features = Images.readLong(ch, 16);
            ch.write(ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, features | 2), 16);
        }
    }

    private Path keepCopy(Path img) throws IOException {
        return Files.copy(img, dir.resolve("before-" + img.getFileName()));
    }

    /** Refused with one line naming the image, exit 1, the image byte-identical and no temporary file left. */
    private void refused(Path img, String reason, String... more) throws IOException {
        String sum = Images.sha256(img);
        List<String> args = new ArrayList<>(List.of("compact", img.toString()));
        args.addAll(List.of(more));
        Cli.Result r = Cli.run(args.toArray(String[]::new)).assertOneLineError(img.getFileName().toString());
        assertTrue(r.err().contains(reason), r.err());
        assertEquals(sum, Images.sha256(img), "byte-identical after: " + r.err());
        assertEquals(List.of(), strays());
    }

    private static void assertSameGuest(Path expected, Path actual) throws Exception {
        Qemu.Result r = Qemu.run("qemu-img", "compare", "-f", "qed", "-F", "qed", expected.toString(), actual.toString());
        assertEquals(0, r.exit(), "qemu-img compare: " + r.out());
    }

    private static void assertChecksClean(Path img) throws Exception {
        Qemu.Result r = Qemu.run("qemu-img", "check", img.toString());
        assertEquals(0, r.exit(), "qemu-img check: " + r.out());
        assertTrue(r.out().contains("No errors were found"), r.out());
    }

    private static List<String> backingLines(Path img) throws Exception {
        return Qemu.ok("qemu-img", "info", "--backing-chain", img.toString()).lines()
                .filter(l -> l.startsWith("backing file") || l.startsWith("image: base")).collect(Collectors.toList());
    }

    /** {@code qemu-img info --backing-chain}'s image and backing lines (not the sizes, which compaction changes). */
    private static List<String> chainLines(Path img) throws Exception {
        return Qemu.ok("qemu-img", "info", "--backing-chain", img.toString()).lines()
                .filter(l -> l.startsWith("image:") || l.startsWith("backing file") || l.startsWith("virtual size")
                        || l.startsWith("cluster_size"))
                .collect(Collectors.toList());
    }

    private List<Path> strays() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(f -> f.getFileName().toString().endsWith(".compact")).toList();
        }
    }

    private static String javaCommand() {
        String java = ProcessHandle.current().info().command().orElse("java");
        return java + " -cp " + System.getProperty("java.class.path") + " io.qedfs.cli.Main";
    }

    private static void awaitPrompt(InputStream out) throws IOException {
        StringBuilder seen = new StringBuilder();
        for (int c; !seen.toString().contains("qemu-io>") && (c = out.read()) >= 0; ) {
            seen.append((char) c);
        }
        assertTrue(seen.toString().contains("qemu-io>"), "qemu-io opened the image: " + seen);
    }
}
