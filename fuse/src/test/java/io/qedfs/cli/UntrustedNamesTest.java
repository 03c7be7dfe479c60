package io.qedfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qedfs.qed.Qemu;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backing file names are whatever an image holds: human output shows them with every character that could drive
 * a terminal escaped (ESC sequences that recolour, retitle or clear it, BEL, bidirectional overrides, newlines
 * that would fake a line), in info, map, check and error lines; JSON escapes them on its own.
 */
class UntrustedNamesTest {
    /** ESC [31m (red), ESC ] 0 ; title BEL (window title), U+202E (right-to-left override). */
    private static final String HOSTILE = "base\u001b[31mred\u001b]0;pwned\u0007\u202e.raw";
    private static final String SHOWN = "base\\x1b[31mred\\x1b]0;pwned\\x07\\u202e.raw";

    @TempDir
    Path dir;

    @Test
    void infoAndMapShowBackingNamesEscaped() throws Exception {
        Qemu.assumeAvailable();
        byte[] data = new byte[1 << 20];
        Arrays.fill(data, (byte) 7);
        Files.write(dir.resolve(HOSTILE), data);
        String top = dir.resolve("top.qed").toString();
        Qemu.ok("qemu-img", "create", "-q", "-f", "qed", "-b", HOSTILE, "-F", "raw", top);

        String info = Cli.run("info", top).assertOk().out();
        assertTrue(info.contains("backing file: " + SHOWN + " (actual path: " + dir.resolve(SHOWN) + ")\n"), info);
        assertTrue(info.contains("backing chain:\n    " + dir.toRealPath().resolve(SHOWN) + ": raw, owner "), info);
        assertPrintable(info);
        String chain = Cli.run("info", "--backing-chain", top).assertOk().out();
        assertTrue(chain.contains("image: " + dir.resolve(SHOWN) + "\n"), chain);
        assertPrintable(chain);
        String json = Cli.run("info", "--output", "json", top).assertOk().out();
        assertTrue(json.contains("\"backing-filename\": \"base\\u001b[31mred\\u001b]0;pwned\\u0007\u202e.raw\""), json);

        String map = Cli.run("map", top).assertOk().out();
        assertTrue(map.contains(dir.resolve(SHOWN).toString()), map);
        assertPrintable(map);
        assertPrintable(Cli.run("check", top).assertOk().out());
    }

    @Test
    void errorsAboutHostileNamesStayOneEscapedLine() throws Exception {
        Qemu.assumeAvailable();
        String top = dir.resolve("top.qed").toString();
        String fake = "gone\u001b[2K\rqedfs: all is well\nreally.raw";
        Qemu.ok("qemu-img", "create", "-q", "-f", "qed", "-u", "-b", fake, "-F", "raw", top, "1M");
        for (String command : new String[] {"info", "map", "check"}) {
            Cli.Result r = Cli.run(command, top).assertOneLineError(top);
            assertTrue(r.err().contains("gone\\x1b[2K"), r.err());
            assertPrintable(r.err().strip());
        }
    }

    /** No control character but the line ends, no bidirectional override. */
    private static void assertPrintable(String out) {
        for (char c : out.toCharArray()) {
            assertFalse(c != '\n' && (c < 0x20 || c >= 0x7f && c <= 0x9f || c == '\u202e'),
                    () -> String.format("U+%04x in %s", (int) c, out));
        }
        assertEquals(-1, out.indexOf('\u001b'));
    }
}
