package io.qedfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.Qemu;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** qedfs commit against QEMU: afterwards the backing file reads as the overlay did (qemu-img compare). */
class CommitCommandTest {
    @TempDir
    Path dir;

    @BeforeEach
    void needQemu() {
        Qemu.assumeAvailable();
    }

    private String p(String name) {
        return dir.resolve(name).toString();
    }

    /** base.qed (8M, data at 0..1M and 3M..3.5M) under top.qed (12M: data, a zero cluster, data past base's end). */
    private void qedChain() throws Exception {
        Qemu.ok("qemu-img", "create", "-q", "-f", "qed", p("base.qed"), "8M");
        Qemu.ok("qemu-io", "-c", "write -P 0x11 0 1M", "-c", "write -P 0x22 3M 512k", p("base.qed"));
        Qemu.ok("qemu-img", "create", "-q", "-f", "qed", "-b", "base.qed", "-F", "qed", p("top.qed"), "12M");
        writeTop();
    }

    private void writeTop() throws Exception {
        Qemu.ok("qemu-io", "-c", "write -P 0x33 512k 1M", "-c", "write -z 3M 64k", "-c", "write -P 0x44 7M 4k",
                "-c", "write -P 0x55 10M 100k", p("top.qed"));
        Qemu.ok("qemu-img", "convert", "-O", "raw", p("top.qed"), p("expected.raw"));
    }

    private void assertReadsAsExpected(String image, String format) throws Exception {
        Qemu.Result cmp = Qemu.run("qemu-img", "compare", "-f", format, "-F", "raw", image, p("expected.raw"));
        assertEquals(0, cmp.exit(), image + ": " + cmp.out());
    }

    private long dataBytes(String image) throws Exception {
        try (QedImage img = QedImage.open(Path.of(image), QedOpenOptions.readOnlyOptions())) {
            return img.allocatedDataBytes();
        }
    }

    @Test
    void commitIntoQedBackingThenEmptiesTheOverlay() throws Exception {
        qedChain();
        assertEquals("Image committed.\n", Cli.run("commit", p("top.qed")).assertOk().out());
        assertReadsAsExpected(p("base.qed"), "qed");
        assertReadsAsExpected(p("top.qed"), "qed");
        assertEquals(0, Qemu.run("qemu-img", "check", p("base.qed")).exit());
        assertEquals(0, Qemu.run("qemu-img", "check", p("top.qed")).exit());
        assertTrue(Qemu.ok("qemu-img", "info", "--output=json", p("base.qed")).contains("\"virtual-size\": 12582912"),
                "the backing file grew to the overlay's size");
        assertEquals(0, dataBytes(p("top.qed")), "emptied: every cluster reads through to base.qed");
        assertEquals(327680, Files.size(dir.resolve("top.qed")), "cut back to header and L1");
        String map = Qemu.ok("qemu-img", "map", "--output=json", p("top.qed"));
        assertTrue(!map.contains("\"depth\": 0, \"present\": true"), map);
    }

    @Test
    void dashDKeepsTheOverlayByteForByte() throws Exception {
        qedChain();
        String before = Images.sha256(dir.resolve("top.qed"));
        Cli.run("commit", "-d", "-q", p("top.qed")).assertOk();
        assertEquals(before, Images.sha256(dir.resolve("top.qed")));
        assertReadsAsExpected(p("base.qed"), "qed");
        assertEquals(0, Qemu.run("qemu-img", "check", p("base.qed")).exit());
    }

    @Test
    void commitIntoRawBacking() throws Exception {
        Qemu.ok("qemu-img", "create", "-q", "-f", "raw", p("base.raw"), "8M");
        Qemu.ok("qemu-io", "-f", "raw", "-c", "write -P 0x11 0 1M", "-c", "write -P 0x22 3M 512k", p("base.raw"));
        Qemu.ok("qemu-img", "create", "-q", "-f", "qed", "-b", "base.raw", "-F", "raw", p("top.qed"), "12M");
        writeTop();
        Cli.Result r = Cli.run("commit", "-p", p("top.qed")).assertOk();
        assertTrue(r.err().contains("(100.00/100%)"), r.err());
        assertReadsAsExpected(p("base.raw"), "raw");
        assertReadsAsExpected(p("top.qed"), "qed");
        assertEquals(12L << 20, Files.size(dir.resolve("base.raw")));
        assertEquals(0, Qemu.run("qemu-img", "check", p("top.qed")).exit());
    }

    @Test
    void refusesAnImageWithoutBackingFile() throws Exception {
        Path img = Images.smallWithData(dir, "alone.qed");
        String before = Images.sha256(img);
        Cli.Result r = Cli.run("commit", img.toString()).assertOneLineError(img.toString());
        assertTrue(r.err().contains("no backing file"), r.err());
        assertEquals(before, Images.sha256(img));
        Cli.run("commit", p("missing.qed")).assertOneLineError("missing.qed");
        Cli.run("commit").assertUsageError("qedfs commit");
    }

    @Test
    void refusesABackingFileInUse() throws Exception {
        qedChain();
        String top = Images.sha256(dir.resolve("top.qed"));
        String base = Images.sha256(dir.resolve("base.qed"));
        try (QedImage inUse = QedImage.open(dir.resolve("base.qed"), QedOpenOptions.readWrite())) {
            Cli.Result r = Cli.run("commit", p("top.qed")).assertOneLineError("base.qed");
            assertTrue(r.err().contains("in use"), r.err());
        }
        assertEquals(top, Images.sha256(dir.resolve("top.qed")));
        assertEquals(base, Images.sha256(dir.resolve("base.qed")));
    }

    @Test
    void helpHasExamples() {
        String help = Cli.run("commit", "--help").assertOk().out();
        assertTrue(help.contains("Examples:") && help.contains("qedfs commit -d"), help);
    }
}
