package io.qedfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.QedTools;
import io.qedfs.qed.Qemu;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckCommandTest {
    @TempDir
    Path dir;

    @Test
    void cleanImage() throws IOException {
        Path img = Images.smallWithData(dir, "clean.qed");
        String out = Cli.run("check", img.toString()).assertOk().out();
        assertEquals("No errors were found on the image.\n"
                + "3/4096 = 0.07% allocated, 33.33% fragmented, 0.00% compressed clusters\n"
                + "Image end offset: " + Files.size(img) + "\n", out);
    }

    /** -p: qemu-img's progress on stderr, one step per L2 table; stdout as without it; -q silences both. */
    @Test
    void progressCountsTheTablesOnStderr() throws IOException {
        Path img = dir.resolve("tables.qed");
        // 4 KiB clusters and table_size 1: each L2 table covers 2 MiB, so 8 data clusters 2 MiB apart need 8 tables
        QedTools.create(img, QedCreateOptions.ofSize(16 << 20).withClusterSize(4096).withTableSize(1));
        try (QedImage q = QedImage.open(img, QedOpenOptions.readWrite())) {
            for (int i = 0; i < 8; i++) {
                q.write((long) i << 21, Images.fill(4096, (byte) (i + 1)));
            }
        }
        String plain = Cli.run("check", img.toString()).assertOk().out();
        Cli.Result r = Cli.run("check", "-p", img.toString()).assertOk();
        assertEquals(plain, r.out());
        assertTrue(r.err().startsWith("    (0.00/100%)\r    (12.50/100%)\r    (25.00/100%)\r"), r.err());
        assertTrue(r.err().contains("    (50.00/100%)\r"), r.err());
        assertTrue(r.err().endsWith("    (100.00/100%)\r\n"), r.err());
        Cli.Result quiet = Cli.run("check", "-p", "-q", img.toString()).assertOk();
        assertEquals("", quiet.out() + quiet.err());
        assertEquals("", Cli.run("check", img.toString()).err(), "no terminal, no -p: no progress");
    }

    @Test
    void checkWithoutRepairNeverWrites() throws IOException {
        Path img = Images.smallWithData(dir, "ro.qed");
        Images.setFirstL2Entry(img, 1, 0x10000000L);
        String before = Images.sha256(img);
        long mtime = Files.getLastModifiedTime(img).toMillis();
        assertEquals(2, Cli.run("check", img.toString()).exit());
        assertEquals(2, Cli.run("check", "--output=json", img.toString()).exit());
        assertEquals(before, Images.sha256(img));
        assertEquals(mtime, Files.getLastModifiedTime(img).toMillis());
        assertTrue(img.toFile().setReadOnly());
        assertEquals(2, Cli.run("check", img.toString()).exit(), "a read-only file can be checked");
    }

    @Test
    void corruptionExits2AndRepairFixesIt() throws IOException {
        Path img = Images.smallWithData(dir, "bad.qed");
        Images.setFirstL2Entry(img, 1, 0x10000000L); // guest cluster 1 now points far past the end of the file
        Cli.Result r = Cli.run("check", img.toString());
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.out().contains("cluster offset 0x10000000 is invalid"), r.out());
        assertTrue(r.out().contains("\n1 errors were found on the image.\n"
                + "Data may be corrupted, or further writes to the image may corrupt it.\n"), r.out());

        Cli.Result fixed = Cli.run("check", "-r", "all", img.toString());
        assertTrue(fixed.exit() == 0 || fixed.exit() == 3, fixed.out());
        assertTrue(fixed.out().contains("The following inconsistencies were found and repaired:\n\n"), fixed.out());
        assertTrue(fixed.out().contains("    1 corruptions\n\nDouble checking the fixed image now...\n"), fixed.out());
        assertEquals(0, Cli.run("check", img.toString()).exit() & ~3, "no corruption left");
    }

    @Test
    void leaksExit3AndRepairLeaksReclaimsThem() throws IOException {
        Path img = Images.smallWithData(dir, "leak.qed");
        Files.write(img, new byte[4096], StandardOpenOption.APPEND);
        Cli.Result r = Cli.run("check", img.toString());
        assertEquals(3, r.exit());
        assertTrue(r.out().contains("\n1 leaked clusters were found on the image.\n"
                + "This means waste of disk space, but no harm to data.\n"), r.out());
        String json = Cli.run("check", "-r", "leaks", "--output", "json", img.toString()).out();
        assertEquals("1", value(json, "leaks-fixed"), json);
        assertEquals("0", value(json, "leaks"), json);
        assertEquals(0, Cli.run("check", img.toString()).exit());
    }

    @Test
    void jsonHasEveryKey() throws IOException {
        Path img = Images.smallWithData(dir, "j.qed");
        Cli.Result r = Cli.run("check", "--output=json", img.toString()).assertOk();
        List<String> keys = Pattern.compile("\n    \"([a-z-]+)\":").matcher(r.out()).results().map(m -> m.group(1)).toList();
        assertEquals(List.of("filename", "format", "check-errors", "corruptions", "leaks", "corruptions-fixed",
                "leaks-fixed", "image-end-offset", "total-clusters", "allocated-clusters", "fragmented-clusters"), keys);
        assertEquals("\"" + img + "\"", value(r.out(), "filename"));
        assertEquals("4096", value(r.out(), "total-clusters"));
        assertEquals("3", value(r.out(), "allocated-clusters"));
    }

    @Test
    void quietPrintsNothing() throws IOException {
        Path img = Images.smallWithData(dir, "q.qed");
        Images.setFirstL2Entry(img, 1, 0x10000000L);
        Cli.Result r = Cli.run("check", "-q", img.toString());
        assertEquals(2, r.exit());
        assertEquals("", r.out());
    }

    /** A file without the QED magic: qemu-img probes it as raw and exits 63, "no check support"; so does check. */
    @Test
    void aFileWithoutTheQedMagicExits63LikeQemuImg() throws Exception {
        Path img = Images.smallWithData(dir, "magic.qed");
        try (var ch = java.nio.channels.FileChannel.open(img, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {0x78, 0x56, 0x34, 0x12}), 0);
        }
        String before = Images.sha256(img);
        for (List<String> args : List.of(List.of("check", img.toString()), List.of("check", "-r", "all", img.toString()),
                List.of("check", "--output", "json", img.toString()))) {
            for (Cli.Result r : List.of(Cli.run(args.toArray(String[]::new)), Cli.runThroughPicocli(args.toArray(String[]::new)))) {
                assertEquals(63, r.exit(), args + ": " + r.err());
                assertEquals(List.of("qedfs: " + img + ": not a QED image: it has no disk image format's header, so it is raw data"
                        + " (a raw disk image?)"), r.err().lines().toList(), args.toString());
                assertEquals("", r.out());
            }
        }
        assertEquals(before, Images.sha256(img), "nothing written, even with -r");
        Qemu.assumeAvailable();
        assertEquals(63, Qemu.run("qemu-img", "check", img.toString()).exit(), "qemu-img's code for it");
    }

    /** An image that cannot be opened is a check not completed (1); bad usage is 64, none of check's codes. */
    @Test
    void unopenableImageIs1AndBadUsageIsNoneOfChecksCodes() throws IOException {
        Path img = Images.smallWithData(dir, "locked.qed");
        try (var open = io.qedfs.qed.QedImage.open(img, io.qedfs.qed.QedOpenOptions.readWrite())) {
            Cli.run("check", img.toString()).assertOneLineError(img.toString());
        }
        Images.setFirstL2Entry(img, 1, 0x10000000L);
        assertEquals(2, Cli.run("check", "-q", img.toString()).exit(), "corrupt");
        for (String[] typo : new String[][] {{"check", "-q", "-x", img.toString()}, {"check", "-r", "none", img.toString()},
            {"check", "--output", "xml", img.toString()}, {"check", img.toString(), img.toString()}, {"check"}}) {
            Cli.Result r = Cli.run(typo).assertUsageError("qedfs check");
            assertEquals(64, r.exit(), String.join(" ", typo));
        }
        String help = Cli.run("check", "--help").assertOk().out().replaceAll("[ ]+", " ");
        assertTrue(help.contains(" 2 corruptions found\n") && help.contains(" 63 not a QED image") && help.contains(" 64 bad usage\n"), help);
    }

    @Test
    void exitCodesMatchQemuImgOnFixtures() throws Exception {
        Qemu.assumeAvailable();
        for (String name : new String[] {"c4k-t2.qed", "leak.qed", "dirty.qed", "corrupt-l2-past-eof.qed",
            "corrupt-l2-dup.qed", "corrupt-l1-past-eof.qed", "bad-table-size.qed", "bad-feature.qed"}) {
            Path f = Images.FIXTURES.resolve(name);
            org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(f), "fixture " + f + " missing");
            int qemu = Qemu.run("qemu-img", "check", f.toString()).exit();
            assertEquals(qemu, Cli.run("check", f.toString()).exit(), name);
        }
    }

    private static String value(String json, String key) {
        var m = Pattern.compile("\"" + key + "\": ([^,\n]*)").matcher(json);
        return m.find() ? m.group(1) : null;
    }
}
