package io.qedfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.Qemu;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** qedfs rebase against QEMU: safe mode keeps the content (qemu-img compare), unsafe mode only renames. */
class RebaseCommandTest {
    @TempDir
    Path dir;

    @BeforeEach
    void chain() throws Exception {
        Qemu.assumeAvailable();
        Qemu.ok("qemu-img", "create", "-q", "-f", "qed", p("old.qed"), "8M");
        Qemu.ok("qemu-io", "-c", "write -P 0x11 0 1M", "-c", "write -P 0x22 3M 512k", "-c", "write -P 0x23 7M 1M", p("old.qed"));
        Qemu.ok("qemu-img", "create", "-q", "-f", "qed", p("new.qed"), "6M");
        Qemu.ok("qemu-io", "-c", "write -P 0x11 0 256k", "-c", "write -P 0x77 256k 256k", "-c", "write -P 0x22 3M 512k",
                p("new.qed"));
        Qemu.ok("qemu-img", "create", "-q", "-f", "qed", "-b", "old.qed", "-F", "qed", p("top.qed"));
        Qemu.ok("qemu-io", "-c", "write -P 0x33 512k 1M", "-c", "write -z 5M 64k", p("top.qed"));
        Qemu.ok("qemu-img", "convert", "-O", "raw", p("top.qed"), p("expected.raw"));
    }

    private String p(String name) {
        return dir.resolve(name).toString();
    }

    private int compareWithExpected(String image) throws Exception {
        return Qemu.run("qemu-img", "compare", "-f", "qed", "-F", "raw", image, p("expected.raw")).exit();
    }

    private String chainJson(String image) throws Exception {
        return Qemu.ok("qemu-img", "info", "--backing-chain", "--output=json", image);
    }

    @Test
    void safeRebaseKeepsTheContent() throws Exception {
        Cli.run("rebase", "-b", "new.qed", p("top.qed")).assertOk();
        assertEquals(0, compareWithExpected(p("top.qed")));
        assertEquals(0, Qemu.run("qemu-img", "check", p("top.qed")).exit());
        String json = chainJson(p("top.qed"));
        assertTrue(json.contains("\"backing-filename\": \"new.qed\""), json);
        assertTrue(json.contains("\"full-backing-filename\": \"" + p("new.qed") + "\""), json);
        assertFalse(json.contains("old.qed"), json);
        try (QedImage img = QedImage.open(dir.resolve("top.qed"), QedOpenOptions.readOnlyOptions())) {
            // copied where top.qed has nothing and old and new differ: 256k..512k (0x11 vs 0x77) and 7M..8M
            // (new.qed ends at 6M); top.qed's own 1M comes on top
            assertEquals((256L << 10) + (1L << 20), img.allocatedDataBytes() - (1L << 20));
        }
        // header field backing_filename_offset, u32 little-endian at byte 56 (docs/format.md)
        ByteBuffer header = ByteBuffer.wrap(Files.readAllBytes(dir.resolve("top.qed")), 0, 64).order(ByteOrder.LITTLE_ENDIAN);
        assertNotEquals(64, header.getInt(56), "the new name went beside the old one");
    }

    @Test
    void unsafeRebaseOnlyRenamesSoTheContentChanges() throws Exception {
        String before = Images.sha256(dir.resolve("top.qed"));
        Cli.run("rebase", "-u", "-b", "new.qed", p("top.qed")).assertOk();
        assertNotEquals(0, compareWithExpected(p("top.qed")), "unsafe mode copies nothing: new.qed shows through");
        assertEquals(0, Qemu.run("qemu-img", "check", p("top.qed")).exit());
        assertTrue(chainJson(p("top.qed")).contains("\"backing-filename\": \"new.qed\""));
        assertNotEquals(before, Images.sha256(dir.resolve("top.qed")));
        Cli.run("rebase", "-u", "-b", "old.qed", p("top.qed")).assertOk();
        assertEquals(0, compareWithExpected(p("top.qed")), "back on old.qed it reads as before");
    }

    @Test
    void unsafeRebaseRepairsAMovedBackingFile() throws Exception {
        Files.createDirectory(dir.resolve("moved"));
        Files.move(dir.resolve("old.qed"), dir.resolve("moved/old.qed"));
        Cli.run("rebase", "-b", "moved/old.qed", p("top.qed")).assertOneLineError("old.qed");
        Cli.run("rebase", "-u", "-b", "moved/old.qed", p("top.qed")).assertOk();
        assertEquals(0, compareWithExpected(p("top.qed")));
        assertTrue(chainJson(p("top.qed")).contains("\"backing-filename\": \"moved/old.qed\""), "stored as given");
    }

    @Test
    void removingTheBackingFileCopiesItIn() throws Exception {
        Cli.run("rebase", "-b", "", p("top.qed")).assertOk();
        assertEquals(0, compareWithExpected(p("top.qed")));
        assertEquals(0, Qemu.run("qemu-img", "check", p("top.qed")).exit());
        assertFalse(chainJson(p("top.qed")).contains("backing"));
        Files.delete(dir.resolve("old.qed"));
        assertEquals(0, compareWithExpected(p("top.qed")), "stands alone");
    }

    @Test
    void rawNewBackingIsRecordedAsRaw() throws Exception {
        Qemu.ok("qemu-img", "convert", "-O", "raw", p("new.qed"), p("new.raw"));
        Cli.run("rebase", "-b", "new.raw", "-F", "raw", p("top.qed")).assertOk();
        assertEquals(0, compareWithExpected(p("top.qed")));
        String json = chainJson(p("top.qed"));
        assertTrue(json.contains("\"backing-filename-format\": \"raw\""), json);
        Cli.run("rebase", "-b", "old.qed", "-F", "raw", p("top.qed")).assertOk(); // a QED file read as raw: allowed, as QEMU does
        Cli.run("rebase", "-b", "new.raw", "-F", "qed", p("top.qed")).assertOneLineError("new.raw");
    }

    @Test
    void refusalsLeaveTheImageAlone() throws Exception {
        String before = Images.sha256(dir.resolve("top.qed"));
        Cli.run("rebase", "-b", "top.qed", p("top.qed")).assertOneLineError("top.qed");
        Cli.run("rebase", "-b", "nothere.qed", p("top.qed")).assertOneLineError("nothere.qed");
        Cli.run("rebase", p("top.qed")).assertUsageError("qedfs rebase");
        Cli.run("rebase", "-b", "", "-F", "raw", p("top.qed")).assertUsageError("qedfs rebase");
        Cli.run("rebase", "-b", "new.qed", "-F", "vmdk", p("top.qed")).assertUsageError("qedfs rebase");
        Cli.run("rebase", "-b", "x".repeat(5000), "-u", p("top.qed")).assertOneLineError("top.qed");
        try (QedImage inUse = QedImage.open(dir.resolve("top.qed"), QedOpenOptions.readOnlyOptions())) {
            Cli.run("rebase", "-u", "-b", "new.qed", p("top.qed")).assertOneLineError("top.qed");
        }
        assertEquals(before, Images.sha256(dir.resolve("top.qed")));
    }

    @Test
    void helpHasExamples() {
        String help = Cli.run("rebase", "--help").assertOk().out();
        assertTrue(help.contains("Examples:") && help.contains("qedfs rebase -u"), help);
    }
}
