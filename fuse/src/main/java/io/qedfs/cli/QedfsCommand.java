package io.qedfs.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/** The top-level {@code qedfs} command: global options and the list of subcommands. */
@Command(name = "qedfs", scope = ScopeType.INHERIT, mixinStandardHelpOptions = true,
        versionProvider = Version.class, sortOptions = false, usageHelpAutoWidth = true,
        description = "QED (QEMU Enhanced Disk) images as raw files (mount), and a toolkit to create, inspect, check, map, convert, resize, compact, commit and rebase them.",
        subcommands = {MountCommand.class, UnmountCommand.class, CreateCommand.class, InfoCommand.class, CheckCommand.class, MapCommand.class,
                ConvertCommand.class, ResizeCommand.class, CompactCommand.class, CommitCommand.class, RebaseCommand.class,
                CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:error (one line on stderr; --debug adds the stack trace)",
                "2:bad usage (check has its own codes: see its --help)"})
public final class QedfsCommand implements Callable<Integer> {
    /** Read by {@link ErrorReporter} from the parse result; declared here so that every subcommand has it. */
    @Option(names = "--debug", scope = ScopeType.INHERIT, description = "Print stack traces of errors.")
    boolean debug;

    @Spec
    CommandSpec spec;

    /** A configured command line; tests set its out/err writers before {@code execute}. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new QedfsCommand());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler(new ErrorReporter());
        cl.setParameterExceptionHandler(new UsageErrorHandler());
        // `resize IMAGE -1G` must reach the size parser (which refuses shrinking) instead of being an option
        cl.getSubcommands().get("resize").setUnmatchedOptionsArePositionalParams(true);
        return cl;
    }

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(),
                "missing command (one of: " + String.join(", ", spec.subcommands().keySet()) + ")");
    }
}
