package io.qedfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.Qemu;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResizeCommandTest {
    @TempDir
    Path dir;

    private long size(Path p) throws IOException {
        try (QedImage img = QedImage.open(p, QedOpenOptions.readOnlyOptions())) {
            return img.size();
        }
    }

    @Test
    void growsAbsoluteAndRelative() throws IOException {
        Path img = Images.smallWithData(dir, "r.qed");
        assertEquals("Image resized.\n", Cli.run("resize", img.toString(), "+16M").assertOk().out());
        assertEquals(32L << 20, size(img));
        assertEquals("", Cli.run("resize", "-q", img.toString(), "1G").assertOk().out());
        assertEquals(1L << 30, size(img));
        Cli.run("resize", img.toString(), "2000000001").assertOk();
        assertEquals(2000000512L, size(img), "rounded up to 512");
    }

    @Test
    void shrinkingIsRefusedInOneLine() throws IOException {
        Path img = Images.smallWithData(dir, "s.qed");
        Cli.Result r = Cli.run("resize", img.toString(), "1M").assertOneLineError(img.toString());
        assertTrue(r.err().contains("shrink"), r.err());
        Cli.run("resize", img.toString(), "-1M").assertOneLineError(img.toString());
        Cli.run("resize", img.toString(), "-1G").assertOneLineError(img.toString());
        Cli.run("resize", img.toString(), "+100P").assertOneLineError(img.toString());
        Cli.run("resize", img.toString(), "+abc").assertUsageError("qedfs resize");
        assertEquals(16L << 20, size(img));
    }

    @Test
    void qemuImgSeesTheNewSize() throws Exception {
        Qemu.assumeAvailable();
        Path img = Images.smallWithData(dir, "q.qed");
        Cli.run("resize", img.toString(), "+1G").assertOk();
        assertTrue(Qemu.ok("qemu-img", "info", "--output=json", img.toString()).contains("\"virtual-size\": 1090519040"));
        assertEquals(0, Qemu.run("qemu-img", "check", img.toString()).exit());
    }
}
