package io.qedfs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qedfs.cli.QedfsCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * The man pages the build made (target/man: qedfs.1 and qedfs-COMMAND.1 for each command) render with
 * {@code man -l}, and each names its command, every option the command accepts and its parameters, so that a
 * page cannot fall behind the command line it is made from.
 */
@Timeout(120)
class ManPagesIT {
    private static final Path MAN = Path.of("target", "man");

    @Test
    void everyCommandHasAPageThatRendersAndNamesEachOption() throws Exception {
        assumeTrue(Qedfs.onPath("asciidoctor"), "asciidoctor is not installed, so the build made no man pages (make deps installs it)");
        assumeTrue(Qedfs.onPath("man"), "man is not installed (package man-db)");
        CommandLine top = QedfsCommand.commandLine();
        List<CommandSpec> commands = new ArrayList<>(List.of(top.getCommandSpec()));
        top.getSubcommands().values().forEach(c -> commands.add(c.getCommandSpec()));
        assertTrue(commands.size() >= 12, "qedfs and its subcommands: " + commands.size());
        for (CommandSpec command : commands) {
            String page = command.qualifiedName("-");
            Path file = MAN.resolve(page + ".1");
            assertTrue(Files.isRegularFile(file), "no man page " + file);
            Qedfs.Result r = Qedfs.run(List.of("env", "LC_ALL=C", "MANWIDTH=200", "man", "-l", file.toString()));
            assertEquals(0, r.exit(), page + ": " + r.all());
            assertEquals("", r.err(), page + ": man -l complained");
            String text = r.out().replaceAll("\\s+", " ");
            assertTrue(text.contains("NAME " + page + " - "), page + ": " + text);
            assertTrue(text.contains("SYNOPSIS " + command.qualifiedName(" ")), page + ": " + text);
            for (OptionSpec option : command.options()) {
                if (!option.hidden()) {
                    for (String name : option.names()) {
                        assertTrue(text.contains(name), page + " does not mention " + name + ": " + text);
                    }
                }
            }
            for (PositionalParamSpec parameter : command.positionalParameters()) {
                if (!parameter.hidden()) {
                    assertTrue(text.contains(parameter.paramLabel()), page + " does not mention " + parameter.paramLabel());
                }
            }
        }
    }
}
