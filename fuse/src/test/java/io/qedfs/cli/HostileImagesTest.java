package io.qedfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.QedTools;
import io.qedfs.qed.Qemu;
import io.qedfs.qed.host.SparseFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A catalogue of hostile images, each made on purpose: every header case of QEMU's iotest 116 (the fixtures),
 * backing names out of range, missing backing files, backing loops (QEMU hangs on some), tables full of garbage,
 * entries pointing into the header, the L1 table or themselves, and a petabyte-sized sparse image. For each,
 * info, check, map and both converts end within seconds with the exit codes they document, one error line naming
 * the file, no stack trace, and the image unchanged; images that cannot be opened say why, and images whose
 * tables are corrupt are found corrupt by check and repaired by check -r all into images qemu-img accepts.
 */
class HostileImagesTest {
    private static final long COMMAND_SECONDS = 20;
    private static final int CLUSTER = 4096;

    @TempDir
    static Path dir;

    /** What an image is expected to do: refuse to open (with these words), or open with corrupt tables. */
    record Case(String name, Path image, String refusal) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> cases() throws IOException {
        List<Case> all = new ArrayList<>();
        for (String[] f : new String[][] {
            {"bad-cluster-size.qed", "cluster_size 0xffffffff is invalid"}, {"bad-feature.qed", "feature"},
            {"bad-header-size.qed", "header_size"}, {"bad-image-size.qed", "image_size 0xffffffffffffffff is invalid"},
            {"bad-l1-offset.qed", "l1_table_offset"}, {"bad-magic.qed", "not a QED image"},
            {"bad-table-size.qed", "table_size"}, {"bad-truncated.qed", "l1_table_offset"}}) {
            Path copy = Files.copy(Images.FIXTURES.resolve(f[0]), Files.createTempDirectory(dir, "fx").resolve(f[0]));
            all.add(new Case("iotest 116: " + f[0], copy, f[1]));
        }
        all.add(new Case("backing name past the header", withBackingName(image("name-long"), 64, 100_000), "backing"));
        all.add(new Case("backing name offset past the header", withBackingName(image("name-off"), 3 * CLUSTER, 200), "backing"));
        all.add(new Case("backing file missing", missingBacking(), "does not exist"));
        all.add(new Case("backing file is the image itself", selfLoop(), "loops"));
        all.add(new Case("backing loop a -> b -> a", twoLoop(), "loops"));
        all.add(new Case("image size 2^63-1", withLong(image("huge-size"), 48, Long.MAX_VALUE), "image_size"));
        all.add(new Case("L1 offset in the header", withLong(image("l1-in-header"), 40, 0), "l1_table_offset 0x0 is invalid"));
        all.add(new Case("L1 full of garbage", garbage(image("l1-garbage"), l1Offset(image("l1-garbage"))), null));
        Path l2g = image("l2-garbage");
        all.add(new Case("L2 full of garbage", garbage(l2g, firstL2(l2g)), null));
        Path intoHeader = image("l2-into-header");
        Images.setFirstL2Entry(intoHeader, 3, 512); // 0 would mean unallocated
        all.add(new Case("L2 entry into the header", intoHeader, null));
        Path intoL1 = image("l2-into-l1");
        Images.setFirstL2Entry(intoL1, 3, l1Offset(intoL1));
        all.add(new Case("L2 entry into the L1 table", intoL1, null));
        Path self = image("l2-self");
        Images.setFirstL2Entry(self, 3, firstL2(self));
        all.add(new Case("L2 entry at its own table", self, null));
        Path l1Self = image("l1-self");
        all.add(new Case("L1 entry at the L1 table", withLong(l1Self, l1Offset(l1Self) + 8, l1Offset(l1Self)), null));
        Path l1Header = image("l1-entry-header");
        all.add(new Case("L1 entry at the header", withLong(l1Header, l1Offset(l1Header), 512), null));
        all.add(new Case("1 PiB sparse image", petabyte(), null));
        return all.stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void endsQuicklyInOneLineAndNeverChangesTheImage(Case c) throws Exception {
        Path img = c.image();
        String before = Images.sha256(img);
        Path out = img.resolveSibling("out.img");
        int checkExit = -1;
        for (String[] cmd : List.of(new String[] {"info", "--output", "json"}, new String[] {"info", "--backing-chain"},
                new String[] {"check"}, new String[] {"check", "--output", "json"}, new String[] {"map", "--output", "json"},
                new String[] {"convert", "-O", "raw"}, new String[] {"convert", "-O", "qed"})) {
            List<String> args = new ArrayList<>(List.of(cmd));
            args.add(img.toString());
            if (cmd[0].equals("convert")) {
                args.add(out.toString());
            }
            Cli.Result r = Cli.runWithin(COMMAND_SECONDS, args, c.name());
            String ctx = c.name() + ": " + String.join(" ", cmd) + " exit " + r.exit() + ": " + r.err();
            r.assertNoStackTrace();
            assertTrue(r.err().lines().count() <= 1, ctx);
            if (c.refusal() != null && cmd[0].equals("convert") && c.name().contains("bad-magic")) {
                assertEquals(0, r.exit(), ctx + ": a file without the QED magic converts as a raw source");
            } else if (c.refusal() != null) {
                // qemu-img check's codes: 63 for a file it cannot check (no QED magic), 1 for a check not completed
                assertEquals(cmd[0].equals("check") && !QedTools.isQed(img) ? 63 : 1, r.exit(), ctx);
                assertTrue(r.err().startsWith("qedfs: ") && r.err().contains(img.getFileName().toString()), ctx);
                assertTrue(r.err().contains(c.refusal()), ctx + " (expected to mention \"" + c.refusal() + "\")");
            } else if (cmd[0].equals("check")) {
                checkExit = r.exit();
            } else if (r.exit() != 0) {
                // an image with corrupt tables opens; what cannot be read is named in one line, and so is an
                // output the host file system cannot hold (a 1 PiB raw file: "File too large")
                assertEquals(1, r.exit(), ctx);
                assertTrue(r.err().startsWith("qedfs: ") && (r.err().contains(img.getFileName().toString())
                        || cmd[0].equals("convert") && r.err().contains(out.toString())), ctx);
            }
            Files.deleteIfExists(out);
        }
        assertEquals(before, Images.sha256(img), c.name() + ": the image was modified without -r");
        if (c.name().startsWith("1 PiB")) {
            assertEquals(0, checkExit, "a valid petabyte image checks clean");
        } else if (c.refusal() == null) {
            assertEquals(2, checkExit, c.name() + ": check finds the corruption");
            Cli.Result fix = Cli.runWithin(COMMAND_SECONDS, List.of("check", "-r", "all", img.toString()), c.name());
            fix.assertNoStackTrace();
            Cli.Result after = Cli.runWithin(COMMAND_SECONDS, List.of("check", img.toString()), c.name());
            assertEquals(0, after.exit(), c.name() + ": clean after check -r all: " + after.out() + after.err());
            if (Qemu.available()) {
                Qemu.Result q = Qemu.run("qemu-img", "check", img.toString());
                assertTrue(q.exit() == 0 || q.exit() == 3, c.name() + ": qemu-img check after repair: " + q.out());
            }
        }
    }

    /**
     * 64 MiB clusters and table_size 16: 1 GiB tables. A sparse file of a few KiB that claims eight L2 tables
     * (all holes), and an image qedfs creates with that geometry: in a JVM of 256 MiB, info, check, map and
     * check -r all end as for any image (a table is never held whole, and holes are not read), and create
     * writes no gigabyte of zeroes.
     */
    @Test
    void gigabyteTablesNeedNoGigabyteOfMemoryOrDisk() throws Exception {
        List<String> smallHeap = List.of("-Xmx256m", "-XX:MaxDirectMemorySize=256m");
        Path hostile = Files.createDirectories(dir.resolve("gib")).resolve("holes.qed");
        long cluster = 64 << 20;
        long table = 16 * cluster;
        try (FileChannel ch = FileChannel.open(hostile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer h = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            h.putInt(0x00444551).putInt((int) cluster).putInt(16).putInt(1); // magic, cluster, table_size, header_size
            h.putLong(0).putLong(0).putLong(0).putLong(cluster);              // features, compat, autoclear, L1 offset
            h.putLong(1L << 56);                                              // image size: 8 L1 entries' worth
            ch.write(h.flip(), 0);
            ByteBuffer l1 = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 8; i++) {
                l1.putLong(cluster + table * (i + 1)); // eight L2 tables, one after the other, all hole
            }
            ch.write(l1.flip(), cluster);
            ch.write(ByteBuffer.allocate(1), cluster + table * 9 - 1); // the file ends after the last table
        }
        String sum = Images.sha256(hostile);
        Cli.Result info = Forked.run(COMMAND_SECONDS, smallHeap, List.of("info", hostile.toString()));
        assertEquals(0, info.exit(), info.err());
        assertTrue(info.out().contains("cluster_size: 67108864"), info.out());
        Cli.Result check = Forked.run(COMMAND_SECONDS, smallHeap, List.of("check", hostile.toString()));
        assertEquals(0, check.exit(), check.out() + check.err());
        assertTrue(check.out().contains("No errors were found on the image."), check.out());
        Cli.Result map = Forked.run(COMMAND_SECONDS, smallHeap, List.of("map", "--output", "json", hostile.toString()));
        assertEquals(0, map.exit(), map.err());
        assertEquals("[{ \"start\": 0, \"length\": 72057594037927936, \"depth\": 0, \"present\": false, \"zero\": true,"
                + " \"data\": false}]", map.out().strip().replace("\n", ""), "one unallocated extent");
        assertEquals(sum, Images.sha256(hostile), "nothing changed");
        Cli.Result repair = Forked.run(COMMAND_SECONDS, smallHeap, List.of("check", "-r", "all", hostile.toString()));
        assertEquals(0, repair.exit(), repair.out() + repair.err());

        Path created = dir.resolve("gib").resolve("created.qed");
        Cli.Result create = Forked.run(COMMAND_SECONDS, smallHeap,
                List.of("create", "-q", "-o", "cluster_size=64M,table_size=16", created.toString(), "1T"));
        assertEquals(0, create.exit(), create.err());
        assertTrue(SparseFiles.allocatedBytes(created) < (1 << 20), "sparse: " + SparseFiles.allocatedBytes(created));
        assertEquals(17 * cluster, Files.size(created), "header and L1 table");
        for (String cmd : new String[] {"info", "check", "map"}) {
            Cli.Result r = Forked.run(COMMAND_SECONDS, smallHeap, List.of(cmd, created.toString()));
            assertEquals(0, r.exit(), cmd + ": " + r.out() + r.err());
        }
    }

    /** A fresh 16 MiB image with data in its first L2 table, in a directory of its own. */
    private static Path image(String name) throws IOException {
        Path d = dir.resolve(name);
        if (Files.exists(d.resolve(name + ".qed"))) {
            return d.resolve(name + ".qed");
        }
        Files.createDirectories(d);
        return Images.smallWithData(d, name + ".qed");
    }

    private static Path withLong(Path img, long at, long value) throws IOException {
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, value), at);
        }
        return img;
    }

    private static Path withInt(Path img, long at, int value) throws IOException {
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, value), at);
        }
        return img;
    }

    /** Marks the image as having a backing file whose name lies at {@code offset}, {@code size} bytes long. */
    private static Path withBackingName(Path img, int offset, int size) throws IOException {
        withLong(img, 16, 1); // features: BACKING_FILE
        withInt(img, 56, offset);
        return withInt(img, 60, size);
    }

    /** Points the image's backing name at {@code name} (written at offset 64). */
    private static Path backedBy(Path img, String name) throws IOException {
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(b), 64);
        }
        return withBackingName(img, 64, b.length);
    }

    private static Path missingBacking() throws IOException {
        return backedBy(image("missing"), "gone.raw");
    }

    private static Path selfLoop() throws IOException {
        Path img = image("self");
        return backedBy(img, img.getFileName().toString());
    }

    private static Path twoLoop() throws IOException {
        Path d = Files.createDirectories(dir.resolve("loop2"));
        Path a = Images.smallWithData(d, "a.qed");
        Images.smallWithData(d, "b.qed");
        backedBy(d.resolve("b.qed"), "a.qed");
        return backedBy(a, "b.qed");
    }

    private static long l1Offset(Path img) throws IOException {
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ)) {
            return Images.readLong(ch, 40);
        }
    }

    private static long firstL2(Path img) throws IOException {
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ)) {
            return Images.readLong(ch, Images.readLong(ch, 40));
        }
    }

    /** Overwrites the table at {@code offset} (one table of the default four clusters) with random bytes. */
    private static Path garbage(Path img, long offset) throws IOException {
        byte[] junk = new byte[4 * CLUSTER];
        new Random(offset).nextBytes(junk);
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(junk), offset);
        }
        return img;
    }

    /** The largest image 64 KiB clusters and table_size 16 allow, with data at both ends. */
    private static Path petabyte() throws IOException {
        Path d = Files.createDirectories(dir.resolve("pib"));
        Path img = d.resolve("pib.qed");
        long size = 1L << 50;
        QedTools.create(img, QedCreateOptions.ofSize(size).withClusterSize(65536).withTableSize(16));
        try (QedImage q = QedImage.open(img, QedOpenOptions.readWrite())) {
            q.write(0, Images.fill(65536, (byte) 1));
            q.write(size - 65536, Images.fill(65536, (byte) 2));
        }
        return img;
    }
}
