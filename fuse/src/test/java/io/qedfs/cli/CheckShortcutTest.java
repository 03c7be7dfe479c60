package io.qedfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The check shortcut and picocli must be one command: same output, same exit code, same effect on the image. */
class CheckShortcutTest {
    @TempDir
    Path dir;

    @Test
    void takesPlainCheckLinesAndAnswersAsPicocliDoes() throws IOException {
        Path clean = Images.smallWithData(dir, "clean.qed");
        Path corrupt = Images.smallWithData(dir, "corrupt.qed");
        Images.setFirstL2Entry(corrupt, 1, 0x10000000L);
        Path leaky = Images.smallWithData(dir, "leaky.qed");
        Files.write(leaky, new byte[4096], StandardOpenOption.APPEND);
        Path notQed = dir.resolve("zeros.img");
        Files.write(notQed, new byte[8192]);
        List<List<String>> lines = new ArrayList<>();
        for (Path img : List.of(clean, corrupt, leaky, notQed, dir.resolve("missing.qed"), dir)) {
            String f = img.toString();
            lines.add(List.of("check", f));
            lines.add(List.of("check", "-q", f));
            lines.add(List.of("check", f, "-q"));
            lines.add(List.of("check", "--output", "json", f));
            lines.add(List.of("check", "--output=JSON", "-q", f));
            lines.add(List.of("check", "--output=human", f));
            lines.add(List.of("check", "--debug", f, "--output", "Human"));
        }
        for (List<String> line : lines) {
            String[] args = line.toArray(String[]::new);
            Cli.Result viaShortcut = Cli.runShortcutOnly(args);
            assertNotNull(viaShortcut, () -> "the shortcut takes " + line);
            Cli.Result viaPicocli = Cli.runThroughPicocli(args);
            assertEquals(viaPicocli.exit(), viaShortcut.exit(), () -> "exit code of " + line);
            assertEquals(viaPicocli.out(), viaShortcut.out(), () -> "stdout of " + line);
            // with --debug the stack traces differ below the first line (the callers are not the same)
            assertEquals(viaPicocli.err().lines().findFirst(), viaShortcut.err().lines().findFirst(), () -> "stderr of " + line);
            if (!line.contains("--debug")) {
                assertEquals(viaPicocli.err(), viaShortcut.err(), () -> "stderr of " + line);
            }
        }
    }

    /** Repair changes the image: each path repairs its own copy, and the copies must end up byte for byte equal. */
    @Test
    void repairsAsPicocliDoes() throws IOException {
        for (List<String> options : List.of(List.of("-r", "all"), List.of("-r", "LEAKS", "--output", "json"))) {
            Path original = Images.smallWithData(dir, "r.qed");
            Images.setFirstL2Entry(original, 1, 0x10000000L);
            Files.write(original, new byte[65536], StandardOpenOption.APPEND);
            Path a = Files.copy(original, dir.resolve("a.qed"), StandardCopyOption.REPLACE_EXISTING);
            Path b = Files.copy(original, dir.resolve("b.qed"), StandardCopyOption.REPLACE_EXISTING);
            Cli.Result viaShortcut = Cli.runShortcutOnly(args(options, a));
            assertNotNull(viaShortcut, () -> "the shortcut takes " + options);
            Cli.Result viaPicocli = Cli.runThroughPicocli(args(options, b));
            assertEquals(viaPicocli.exit(), viaShortcut.exit(), () -> "exit code with " + options);
            assertEquals(viaPicocli.out().replace(b.toString(), a.toString()), viaShortcut.out(), () -> "stdout with " + options);
            assertEquals(Images.sha256(b), Images.sha256(a), () -> "the repaired images with " + options);
            Files.delete(original);
        }
    }

    /** Everything but a plain check goes to picocli, which gives its help or its usage error. */
    @Test
    void leavesTheRestToPicocli() throws IOException {
        String f = Images.smallWithData(dir, "c.qed").toString();
        List<List<String>> declined = List.of(List.of("check"), List.of("check", "--help"), List.of("check", "-h"),
                List.of("check", "-qp", f), List.of("check", "-q", "-q", f), List.of("check", "-r", "none", f),
                List.of("check", f, "-r"), List.of("check", "--output", "xml", f), List.of("check", f, "--output"),
                List.of("check", "--output=json", "--output=human", f), List.of("check", f, f), List.of("check", "--", f),
                List.of("check", "@" + f), List.of("check", "-rall", f), List.of("check", ""), List.of("--debug", "check", f),
                List.of("info", f), List.of("chec", f), List.of());
        for (List<String> line : declined) {
            assertNull(Cli.runShortcutOnly(line.toArray(String[]::new)), () -> "left to picocli: " + line);
        }
        Cli.runThroughPicocli("check", "-q", "-q", f).assertUsageError("qedfs check");
        Cli.runThroughPicocli("check", "--output", "xml", f).assertUsageError("qedfs check");
        assertEquals(0, Cli.runThroughPicocli("check", "--help").exit());
    }

    private static String[] args(List<String> options, Path image) {
        List<String> all = new ArrayList<>(List.of("check"));
        all.addAll(options);
        all.add(image.toString());
        return all.toArray(String[]::new);
    }
}
