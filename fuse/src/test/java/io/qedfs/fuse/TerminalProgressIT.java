package io.qedfs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.QedTools;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Progress appears by itself only where someone watches: with stderr on a terminal (a pseudo-terminal made by
 * script(1)), check and convert show it without -p; into a pipe they do not; -q silences it on a terminal.
 * The delay before unrequested progress appears is set to 0 so that a small image shows it.
 */
@Timeout(120)
class TerminalProgressIT {
    @TempDir
    Path dir;

    private Path imageWithTables() throws Exception {
        Path img = dir.resolve("t.qed");
        QedTools.create(img, QedCreateOptions.ofSize(16 << 20).withClusterSize(4096).withTableSize(1));
        try (QedImage q = QedImage.open(img, QedOpenOptions.readWrite())) {
            for (int i = 0; i < 8; i++) {
                q.write((long) i << 21, ByteBuffer.wrap(new byte[4096]).put(0, (byte) (i + 1))); // 8 L2 tables
            }
        }
        return img;
    }

    /** qedfs ARGS with stdout and stderr on a pseudo-terminal; what the terminal showed. */
    private static String onTerminal(String args) throws Exception {
        String cmd = "java -Dqedfs.progress.delayMillis=0 -jar " + Qedfs.jar().toAbsolutePath() + " " + args;
        return Qedfs.ok(Qedfs.run(List.of("script", "-qec", cmd, "/dev/null")), "script -c " + cmd).out();
    }

    @Test
    void checkAndConvertShowProgressOnATerminalOnly() throws Exception {
        assumeTrue(Qedfs.onPath("script"), "script(1) is not installed (util-linux)");
        Path img = imageWithTables();
        String check = onTerminal("check " + img);
        assertTrue(check.contains("(12.50/100%)") && check.contains("(100.00/100%)"), check);
        assertTrue(check.contains("No errors were found on the image."), check);
        String convert = onTerminal("convert -O qed " + img + " " + dir.resolve("c.qed"));
        assertTrue(convert.contains("(100.00/100%)"), convert);
        assertFalse(onTerminal("check -q " + img).contains("/100%)"), "-q on a terminal");
        assertFalse(onTerminal("convert -q -O qed " + img + " " + dir.resolve("d.qed")).contains("/100%)"), "-q on a terminal");

        Qedfs.Result piped = Qedfs.run(List.of("java", "-Dqedfs.progress.delayMillis=0", "-jar", Qedfs.jar().toString(), "check", img.toString()));
        assertEquals(0, piped.exit(), piped.all());
        assertEquals("", piped.err(), "stderr into a pipe: no progress");
    }
}
