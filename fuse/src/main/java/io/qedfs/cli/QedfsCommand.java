package io.qedfs.cli;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.List;
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
        footerHeading = "%nExamples:%n",
        footer = {"  qedfs create disk.qed 10G",
            "  qedfs mount disk.qed /mnt/q && ls -l /mnt/q      # /mnt/q/disk.raw, a raw disk",
            "  qedfs unmount /mnt/q",
            "  qedfs info disk.qed && qedfs check disk.qed",
            "Every command has its own --help (qedfs mount --help)."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:error (one line on stderr; --debug adds the stack trace)",
                "64:bad usage (as sysexits.h's EX_USAGE; check's other codes are qemu-img check's)"})
public final class QedfsCommand implements Callable<Integer> {
    /**
     * The exit code of bad usage, for every command: sysexits.h's EX_USAGE. qemu-img exits 1 on bad usage, but
     * check's 1 means "the check could not be completed" and its 2, 3 and 63 mean corruptions, leaks and
     * "no check support": 64 is none of them, so a script can tell a typo from an image.
     */
    public static final int EXIT_USAGE = 64;

    /** Read by {@link ErrorReporter} from the parse result; declared here so that every subcommand has it. */
    @Option(names = "--debug", scope = ScopeType.INHERIT, description = "Print stack traces of errors.")
    boolean debug;

    @Spec
    CommandSpec spec;

    /** The subcommands, in the order the help lists them. */
    private static final List<Class<?>> SUBCOMMANDS = List.of(MountCommand.class, UnmountCommand.class,
            CreateCommand.class, InfoCommand.class, CheckCommand.class, MapCommand.class, ConvertCommand.class,
            ResizeCommand.class, CompactCommand.class, CommitCommand.class, RebaseCommand.class,
            CommandLine.HelpCommand.class);

    /** A configured command line with every subcommand; tests set its out/err writers before {@code execute}. */
    public static CommandLine commandLine() {
        return commandLine(null);
    }

    /**
     * A configured command line for {@code args}: when the first argument names a subcommand, only that one
     * is built. picocli reflects over every command it is given, which for a short command would cost as much as
     * the command's own work; help, usage errors and options before the subcommand still get them all.
     */
    public static CommandLine commandLine(String[] args) {
        CommandLine cl = new CommandLine(new QedfsCommand());
        Class<?> named = args == null || args.length == 0 ? null : subcommandNamed(args[0]);
        for (Class<?> c : SUBCOMMANDS) {
            if (named == null || c == named) {
                cl.addSubcommand(c);
            }
        }
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        SpacedLabelHelp.install(cl);
        setUsageExitCode(cl);
        cl.setExecutionExceptionHandler(new ErrorReporter());
        cl.setParameterExceptionHandler(new UsageErrorHandler());
        return cl;
    }

    private static void setUsageExitCode(CommandLine cl) {
        cl.getCommandSpec().exitCodeOnInvalidInput(EXIT_USAGE);
        cl.getSubcommands().values().forEach(QedfsCommand::setUsageExitCode);
    }

    /**
     * Reads the annotations picocli will read for {@code args}, up to and including Object's (picocli walks the
     * whole class hierarchy). The JVM makes a proxy class for each annotation type it meets, milliseconds apiece
     * at start-up (JDK 17's class-data archive cannot hold them): made on a second thread while the main one loads
     * picocli, they stay off the start-up path, and picocli's own reads find them made.
     */
    static void readAnnotationsAhead(String[] args) {
        Class<?> named = args.length == 0 ? null : subcommandNamed(args[0]);
        for (Class<?> command : named == null ? List.of(QedfsCommand.class) : List.of(QedfsCommand.class, named)) {
            for (Class<?> c = command; c != null; c = c.getSuperclass()) {
                for (Field f : c.getDeclaredFields()) {
                    f.getDeclaredAnnotations();
                }
                for (Method m : c.getDeclaredMethods()) {
                    m.getDeclaredAnnotations();
                }
            }
        }
    }

    /** The subcommand class whose name or alias is {@code word}, or null (the help command counts as none). */
    private static Class<?> subcommandNamed(String word) {
        for (Class<?> c : SUBCOMMANDS) {
            Command command = c.getAnnotation(Command.class);
            if (c != CommandLine.HelpCommand.class
                    && (command.name().equals(word) || List.of(command.aliases()).contains(word))) {
                return c;
            }
        }
        return null;
    }

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "missing command; the commands are " + UsageErrorHandler.commands(spec));
    }
}
