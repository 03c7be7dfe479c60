package io.qedfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Behaviour common to every subcommand: help, version, usage errors, the error mapper. */
class CommandLineTest {
    @TempDir
    Path dir;

    @Test
    void versionAndHelp() {
        assertEquals("qedfs " + Version.VERSION + "\n", Cli.run("--version").assertOk().out());
        String help = Cli.run("--help").assertOk().out();
        for (String cmd : new String[] {"create", "info", "check", "map", "convert", "resize"}) {
            assertTrue(help.contains("  " + cmd + " "), help);
            assertTrue(Cli.run(cmd, "--help").assertOk().out().startsWith("Usage: qedfs " + cmd), cmd);
        }
    }

    /** What a user asks of --help: what the command does, and a few command lines to start from. */
    @ParameterizedTest
    @ValueSource(strings = {"mount", "unmount", "create", "info", "check", "map", "convert", "resize", "compact", "commit", "rebase"})
    void everyCommandsHelpHasADescriptionAndExamples(String command) {
        String help = Cli.run(command, "--help").assertOk().out();
        List<String> lines = help.lines().toList();
        assertTrue(lines.get(0).startsWith("Usage: qedfs " + command), help);
        int examples = lines.indexOf("Examples:");
        assertTrue(examples > 0, "an Examples section: " + help);
        List<String> shown = lines.subList(examples + 1, lines.size()).stream().filter(l -> l.startsWith("  ")).toList();
        assertTrue(shown.size() >= 2, help);
        assertTrue(shown.stream().anyMatch(l -> l.startsWith("  qedfs " + command + " ")), "an example of " + command + ": " + help);
        for (String l : lines) {
            assertTrue(l.length() <= 80, () -> "fits 80 columns: '" + l + "'");
        }
        // an example's comment that does not fit would wrap to column 0, where it reads as a command
        for (String l : lines.subList(examples + 1, lines.size())) {
            assertTrue(l.isEmpty() || l.startsWith("  ") || l.endsWith(":"), () -> "an example line wrapped: '" + l + "'");
        }
        // the description: the unindented lines after the (indented) rest of the synopsis
        int from = 1;
        while (lines.get(from).startsWith(" ")) {
            from++;
        }
        int to = from;
        while (!lines.get(to).startsWith(" ")) {
            to++;
        }
        String description = String.join(" ", lines.subList(from, to));
        assertTrue(description.length() > 80, "says what it does: " + description);
    }

    /** An option's value follows a space in help, as in qemu-img's and mount's (never "-o=FUSE_OPTS"). */
    @ParameterizedTest
    @ValueSource(strings = {"mount", "unmount", "create", "info", "check", "map", "convert", "resize", "compact", "commit", "rebase"})
    void helpWritesOptionValuesAfterASpace(String command) {
        String help = Cli.run(command, "--help").assertOk().out();
        java.util.regex.Matcher glued = java.util.regex.Pattern.compile("(?<![\\w-])--?[A-Za-z][\\w-]*=").matcher(help);
        assertFalse(glued.find(), () -> "an option glued to its value: '" + glued.group() + "' in " + help);
        assertFalse(help.chars().anyMatch(c -> c > 126), "plain ASCII: " + help);
    }

    @Test
    void helpShowsFuseOptionsAndFormatsTheWayTheyAreTyped() {
        String mount = Cli.run("mount", "--help").assertOk().out();
        assertTrue(mount.contains("[-o FUSE_OPTS]...") && mount.contains("  -o  FUSE_OPTS ") && mount.contains("[--log FILE]"), mount);
        assertTrue(Cli.run("info", "--help").assertOk().out().contains("--output FMT"));
        assertTrue(Cli.run("convert", "--help").assertOk().out().contains("[-O raw|qed]"));
    }

    /**
     * Each option means one thing in every command that has it, and what it means in qemu-img: --output is the
     * report format (human|json), -O the output image format, -f an image format (but mount's -f is FUSE's
     * "foreground", mount's -o FUSE's options, mount's -r mount(8)'s read-only, as every FUSE file system has them).
     */
    @Test
    void everyOptionMeansOneThingAcrossCommands() {
        picocli.CommandLine cl = QedfsCommand.commandLine();
        for (var sub : cl.getSubcommands().entrySet()) {
            for (var o : sub.getValue().getCommandSpec().options()) {
                if (o.hidden()) {
                    continue;
                }
                java.util.List<String> names = java.util.List.of(o.names());
                String what = sub.getKey() + " " + names;
                if (names.contains("--output")) {
                    assertEquals(OutputFormat.class, o.type(), what);
                }
                if (names.contains("-O")) {
                    assertEquals(ConvertCommand.Format.class, o.type(), what);
                }
                if (names.contains("-f") && !sub.getKey().equals("mount")) {
                    assertTrue(o.paramLabel().contains("qed"), what + ": an image format");
                }
                if (names.contains("-p") || names.contains("-q") || names.contains("-U")) {
                    assertEquals(boolean.class, o.type(), what);
                }
                if (names.contains("-b") || names.contains("-F")) {
                    assertTrue(java.util.Set.of("create", "rebase").contains(sub.getKey()), what + ": a backing file or its format");
                }
            }
        }
    }

    @Test
    void topLevelHelpListsEveryCommandWithExamples() {
        String help = Cli.run("--help").assertOk().out();
        for (String cmd : new String[] {"mount", "unmount", "create", "info", "check", "map", "convert", "resize"}) {
            assertTrue(help.contains("\n  " + cmd + " ") || help.contains("\n  " + cmd + ","), cmd + ": " + help);
        }
        assertTrue(help.contains("Examples:") && help.contains("qedfs mount disk.qed /mnt/q"), help);
    }

    /** The synopsis names each positional argument once, and the README's --fuse-threads is in the help. */
    @Test
    void mountSynopsisReadsAsTyped() {
        String help = Cli.run("mount", "--help").assertOk().out();
        String synopsis = help.substring(0, help.indexOf("Serve QED images"));
        assertEquals(1, synopsis.split("SOURCE", -1).length - 1, synopsis);
        assertTrue(synopsis.replaceAll("\\s+", " ").contains("SOURCE... MOUNTPOINT"), synopsis);
        assertTrue(help.contains("--fuse-threads N") || help.contains("--fuse-threads=N"), help);
    }

    @Test
    void mountHelpDescribesPartitionsWithAnExample() {
        String help = Cli.run("mount", "--help").assertOk().out();
        assertTrue(help.contains("--partitions") && help.contains("NAME-pN.raw"), help);
        assertTrue(help.contains("mount -o loop /mnt/q/disk-p2.raw /mnt/guest"), help);
    }

    @Test
    void noCommandIsBadUsage() {
        Cli.run().assertUsageError("qedfs");
    }

    @Test
    void badUsageIsOneLinePlusHint() {
        Cli.run("frobnicate").assertUsageError("qedfs");
        Cli.run("info").assertUsageError("qedfs info");
        Cli.run("info", "--output", "xml", "x.qed").assertUsageError("qedfs info");
        Cli.run("info", "--bogus", "x.qed").assertUsageError("qedfs info");
        Cli.run("check", "-r", "none", "x.qed").assertUsageError("qedfs check");
        Cli.run("convert", "only-one").assertUsageError("qedfs convert");
        Cli.run("resize", "x.qed").assertUsageError("qedfs resize");
        Cli.run("create", "-F", "raw", "x.qed", "1M").assertUsageError("qedfs create");
        Cli.run("create", "x.qed").assertUsageError("qedfs create");
        Cli.run("create", "-o", "colour=blue", "x.qed", "1M").assertUsageError("qedfs create");
        Cli.run("create", "-o", "cluster_size", "x.qed", "1M").assertUsageError("qedfs create");
        Cli.run("mount", "--fuse-loop", "pool", "x.qed", "mnt").assertUsageError("qedfs mount"); // no such option
        Cli.run("mount", "--fuse-threads", "0", "x.qed", "mnt").assertUsageError("qedfs mount");
    }

    /**
     * Bad usage of every command, in one form: {@code qedfs COMMAND: <problem>} naming the operands and options as
     * --help does and the words as typed, then where that command's help is; exit 64. Each command: its operands
     * left out, one too many, an option it does not have; then the words that are not a command at all.
     */
    @ParameterizedTest(name = "qedfs {0}")
    @CsvSource(delimiterString = "->", quoteCharacter = '"', value = {
        "mount                          -> qedfs mount: missing SOURCE... MOUNTPOINT",
        "mount x.qed                    -> qedfs mount: missing MOUNTPOINT (expected SOURCE... MOUNTPOINT)",
        "mount --bogus x.qed mnt        -> qedfs mount: unknown option '--bogus'",
        "mount x.qed --bogus mnt        -> qedfs mount: unknown option '--bogus'",
        "mount a.qed b.qed --bogus mnt  -> qedfs mount: unknown option '--bogus'",
        "mount x.qed -r mnt             -> qedfs mount: '-r' comes between the operands: options go before or after SOURCE... MOUNTPOINT",
        "unmount                        -> qedfs unmount: missing MOUNTPOINT",
        "unmount a b                    -> qedfs unmount: too many arguments: 'b' (expected MOUNTPOINT)",
        "umount a b                     -> qedfs unmount: too many arguments: 'b' (expected MOUNTPOINT)",
        "unmount --bogus mnt            -> qedfs unmount: unknown option '--bogus'",
        "create                         -> qedfs create: missing IMAGE (expected IMAGE [SIZE])",
        "create x.qed                   -> qedfs create: missing SIZE (it may only be left out with a backing file, -b)",
        "create x.qed 1M extra          -> qedfs create: too many arguments: 'extra' (expected IMAGE [SIZE])",
        "create --cluster-size=4k x.qed -> qedfs create: unknown option '--cluster-size'",
        "info                           -> qedfs info: missing IMAGE",
        "info a.qed b.qed               -> qedfs info: too many arguments: 'b.qed' (expected IMAGE)",
        "info --bogus x.qed             -> qedfs info: unknown option '--bogus'",
        "check                          -> qedfs check: missing IMAGE",
        "check a.qed b.qed c.qed        -> qedfs check: too many arguments: 'b.qed', 'c.qed' (expected IMAGE)",
        "check -x -y x.qed              -> qedfs check: unknown options '-x', '-y'",
        "map                            -> qedfs map: missing IMAGE",
        "map a.qed b.qed                -> qedfs map: too many arguments: 'b.qed' (expected IMAGE)",
        "map --bogus x.qed              -> qedfs map: unknown option '--bogus'",
        "convert                        -> qedfs convert: missing SOURCE DEST",
        "convert disk.qed               -> qedfs convert: missing DEST (expected SOURCE DEST)",
        "convert a b c                  -> qedfs convert: too many arguments: 'c' (expected SOURCE DEST)",
        "convert --bogus a b            -> qedfs convert: unknown option '--bogus'",
        "resize                         -> qedfs resize: missing IMAGE [+]SIZE",
        "resize x.qed                   -> qedfs resize: missing [+]SIZE (expected IMAGE [+]SIZE)",
        "resize x.qed +1M extra         -> qedfs resize: too many arguments: 'extra' (expected IMAGE [+]SIZE)",
        "resize x.qed +1M --bogus       -> qedfs resize: unknown option '--bogus'",
        "resize --bogus x 1M            -> qedfs resize: unknown option '--bogus'",
        "resize x.qed --bogus 1M        -> qedfs resize: unknown option '--bogus'",
        "compact                        -> qedfs compact: missing IMAGE (expected IMAGE [NEWFILE])",
        "compact a b c                  -> qedfs compact: too many arguments: 'c' (expected IMAGE [NEWFILE])",
        "compact --bogus x.qed          -> qedfs compact: unknown option '--bogus'",
        "commit                         -> qedfs commit: missing OVERLAY",
        "commit a b                     -> qedfs commit: too many arguments: 'b' (expected OVERLAY)",
        "commit --bogus x.qed           -> qedfs commit: unknown option '--bogus'",
        "rebase                         -> qedfs rebase: missing -b NEW_BACKING and IMAGE",
        "rebase x.qed                   -> qedfs rebase: missing -b NEW_BACKING",
        "rebase -b new.qed a b          -> qedfs rebase: too many arguments: 'b' (expected IMAGE)",
        "rebase --bogus -b n.qed x.qed  -> qedfs rebase: unknown option '--bogus'",
        "rebase x.qed --bogus           -> qedfs rebase: unknown option '--bogus'",
        "info -- -x.qed y               -> qedfs info: too many arguments: 'y' (expected IMAGE)",
        "bogus                          -> qedfs: 'bogus' is not a command; the commands are " + COMMANDS,
        "mout x.qed mnt                 -> qedfs: 'mout' is not a command; the commands are " + COMMANDS,
        "--debug bogus                  -> qedfs: 'bogus' is not a command; the commands are " + COMMANDS,
        "help bogus                     -> qedfs: 'bogus' is not a command; the commands are " + COMMANDS,
        "\"\"                           -> qedfs: missing command; the commands are " + COMMANDS,
        "--bogus                        -> qedfs: unknown option '--bogus'",
    })
    void badUsageNamesTheCommandAndTheProblem(String args, String message) {
        String[] words = args.isEmpty() ? new String[0] : args.split(" ");
        String command = message.substring(0, message.indexOf(':'));
        Cli.Result r = Cli.run(words);
        assertEquals(message + "\nTry '" + command + " --help' for more information.\n", r.err());
        assertEquals(QedfsCommand.EXIT_USAGE, r.exit(), r.err());
        assertEquals("", r.out());
    }

    /** An empty operand (a script's unset variable) is bad usage naming it, not the current directory as an image. */
    @Test
    void anEmptyOperandIsNamed() {
        for (String[] args : new String[][] {{"info", ""}, {"mount", "", "mnt"}, {"convert", "a.qed", ""}, {"resize", "", "1M"},
                {"unmount", ""}}) {
            String label = switch (args[0]) {
                case "info", "resize" -> "IMAGE";
                case "mount" -> "SOURCE... MOUNTPOINT";
                case "convert" -> "DEST";
                default -> "MOUNTPOINT";
            };
            Cli.Result r = Cli.run(args);
            String command = args[0];
            assertEquals("qedfs " + command + ": " + label + " is empty\nTry 'qedfs " + command + " --help' for more information.\n",
                    r.err(), String.join("|", args));
            assertEquals(QedfsCommand.EXIT_USAGE, r.exit());
        }
    }

    /**
     * An option a command does not have is named as such wherever it is: before the operands, between any two of
     * them and after them, whatever else the command line lacks (rebase's -b here) and whatever the operand it
     * displaces would have been (resize's SIZE).
     */
    @ParameterizedTest(name = "qedfs {0}")
    @MethodSource("unknownOptionEverywhere")
    void anUnknownOptionIsNamedWhereverItIs(String args, String command) {
        Cli.Result r = Cli.run(args.split(" "));
        assertEquals("qedfs " + command + ": unknown option '--bogus'\nTry 'qedfs " + command + " --help' for more information.\n",
                r.err());
        assertEquals(QedfsCommand.EXIT_USAGE, r.exit(), r.err());
        assertEquals("", r.out());
    }

    /** Every command with its operands, and --bogus put before, between and after them. */
    static Stream<Arguments> unknownOptionEverywhere() {
        Map<String, List<String>> operands = new LinkedHashMap<>();
        operands.put("mount", List.of("a.qed", "b.qed", "mnt"));
        operands.put("unmount", List.of("mnt"));
        operands.put("create", List.of("x.qed", "1M"));
        operands.put("info", List.of("x.qed"));
        operands.put("check", List.of("x.qed"));
        operands.put("map", List.of("x.qed"));
        operands.put("convert", List.of("a.qed", "b.raw"));
        operands.put("resize", List.of("x.qed", "+1M"));
        operands.put("compact", List.of("a.qed", "b.qed"));
        operands.put("commit", List.of("x.qed"));
        operands.put("rebase", List.of("x.qed"));
        List<Arguments> rows = new ArrayList<>();
        operands.forEach((command, words) -> {
            for (int at = 0; at <= words.size(); at++) {
                List<String> line = new ArrayList<>(words);
                line.add(at, "--bogus");
                line.add(0, command);
                rows.add(Arguments.of(String.join(" ", line), command));
            }
        });
        return rows.stream();
    }

    private static final String COMMANDS = "mount, unmount, create, info, check, map, convert, resize, compact, commit, rebase, help";

    /** Values an option does not take, an option without its value or given twice: said as typed, in the same form. */
    @ParameterizedTest(name = "qedfs {0}")
    @CsvSource(delimiterString = "->", quoteCharacter = '"', value = {
        "mount --check sometimes x.qed mnt   -> qedfs mount: --check: 'sometimes' is not one of auto, always, never",
        "mount -o                            -> qedfs mount: -o needs a value (FUSE_OPTS)",
        "mount -r -r x.qed mnt               -> qedfs mount: -r is given more than once",
        "unmount --timeout soon mnt          -> qedfs unmount: --timeout: 'soon' is not a whole number",
        "create x.qed 12Q                    -> qedfs create: SIZE: invalid size '12Q' (use a number with an optional k, M, G, T, P or E suffix, e.g. 64k or 10G)",
        "check -r                            -> qedfs check: -r needs a value (leaks|all)",
        "check --output json --output json x -> qedfs check: --output is given more than once",
        "map --output yaml x.qed             -> qedfs map: --output: 'yaml' is not one of human, json",
        "convert -O vmdk a b                 -> qedfs convert: -O: 'vmdk' is not one of raw, qed",
        "resize x.qed big                    -> qedfs resize: [+]SIZE: invalid size 'big' (use a number with an optional k, M, G, T, P or E suffix, e.g. 64k or 10G)",
    })
    void badOptionValuesNameTheCommandAndTheOption(String args, String message) {
        String command = message.substring(0, message.indexOf(':'));
        Cli.Result r = Cli.run(args.split(" "));
        assertEquals(message + "\nTry '" + command + " --help' for more information.\n", r.err());
        assertEquals(QedfsCommand.EXIT_USAGE, r.exit(), r.err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"info", "check", "map"})
    void missingFileIsOneLineNamingIt(String command) {
        String missing = dir.resolve("no-such.qed").toString();
        Cli.Result r = Cli.run(command, missing).assertOneLineError(missing);
        assertTrue(r.err().contains("no such file"), r.err());
    }

    @Test
    void missingFileForEveryOtherCommand() {
        String missing = dir.resolve("gone.qed").toString();
        Cli.run("resize", missing, "+1M").assertOneLineError(missing);
        Cli.run("convert", missing, dir.resolve("out.qed").toString()).assertOneLineError(missing);
        Cli.run("create", "-b", missing, dir.resolve("top.qed").toString()).assertOneLineError("gone.qed");
    }

    @Test
    void aDirectoryIsNotAnImage() {
        Cli.run("info", dir.toString()).assertOneLineError(dir.toString());
    }

    @Test
    void notAQedImage() throws IOException {
        Path raw = dir.resolve("plain.raw");
        Files.write(raw, new byte[4096]);
        Cli.Result r = Cli.run("info", raw.toString()).assertOneLineError(raw.toString());
        assertTrue(r.err().contains("not a QED image"), r.err());
    }

    /** A disk image of another format is named as qemu-img names it, by every command and by mount. */
    @ParameterizedTest
    @ValueSource(strings = {"qcow2", "vmdk", "vdi", "vhdx", "vpc", "raw"})
    void anotherFormatIsNamed(String format) throws Exception {
        Path img = dir.resolve("disk." + format);
        io.qedfs.qed.Qemu.assumeAvailable();
        io.qedfs.qed.Qemu.ok("qemu-img", "create", "-q", "-f", format, img.toString(), "16M");
        String expected = format.equals("raw") ? "not a QED image: it has no disk image format's header, so it is raw data"
                : "not a QED image but a " + format + " ";
        for (String[] args : new String[][] {{"info", img.toString()}, {"check", img.toString()}, {"map", img.toString()},
                {"mount", img.toString(), dir.toString()}}) {
            Cli.Result r = Cli.run(args);
            // check exits as qemu-img check does for a file it cannot check: 63
            assertEquals(args[0].equals("check") ? 63 : 1, r.exit(), String.join(" ", args) + ": " + r.err());
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().startsWith("qedfs: " + img + ": " + expected), String.join(" ", args) + ": " + r.err());
            r.assertNoStackTrace();
        }
    }

    /** {@code qedfs mount mp disk.qed}: a usage error that shows the order. */
    @Test
    void swappedMountArgumentsGetAHint() throws Exception {
        Path img = dir.resolve("good.qed");
        Cli.run("create", "-q", img.toString(), "1M").assertOk();
        Path mp = Files.createDirectory(dir.resolve("mp"));
        Cli.Result r = Cli.run("mount", mp.toString(), img.toString()).assertUsageError("qedfs mount");
        assertTrue(r.err().startsWith("qedfs mount: the mountpoint " + img + " is a file, not a directory; the image comes first,"
                + " the mountpoint last: qedfs mount " + img + " " + mp + "\n"), r.err());
    }

    @Test
    void debugAddsTheStackTrace() {
        String missing = dir.resolve("no-such.qed").toString();
        for (String[] args : new String[][] {{"--debug", "info", missing}, {"info", "--debug", missing}}) {
            Cli.Result r = Cli.run(args);
            assertEquals(1, r.exit());
            assertTrue(r.err().startsWith("qedfs: " + missing), r.err());
            assertTrue(r.err().contains("NoSuchFileException") && r.err().contains("\tat "), r.err());
        }
    }

    @Test
    void errorMessagesNameTheFile() {
        assertEquals("a.qed: no such file or directory",
                ErrorReporter.message(new java.nio.file.NoSuchFileException("a.qed"), null));
        assertEquals("a.qed: permission denied",
                ErrorReporter.message(new java.nio.file.AccessDeniedException("a.qed"), "a.qed"));
        assertEquals("b.qed: No space left on device",
                ErrorReporter.message(new IOException("No space left on device"), "b.qed"));
        assertEquals("b.qed: image is locked", ErrorReporter.message(new IOException("b.qed: image is locked"), "b.qed"));
        assertEquals("c.qed: IllegalStateException", ErrorReporter.message(new IllegalStateException(), "c.qed"));
        assertEquals("x y", ErrorReporter.message(new IOException("x\ny"), null));
    }
}
