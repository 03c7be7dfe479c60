package io.qedfs.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.MissingParameterException;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.OverwrittenOptionException;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Bad usage, the same for every command: {@code qedfs COMMAND: <problem>} on one line, then where help is
 * ({@code Try 'qedfs COMMAND --help' ...}), exit code {@link QedfsCommand#EXIT_USAGE}. The problem comes first and
 * in the words of the command line (the operands' and options' names as --help shows them, values as typed),
 * not picocli's (indexes, "parameter", "unmatched").
 */
final class UsageErrorHandler implements IParameterExceptionHandler {
    private static final Pattern BAD_POSITIONAL = Pattern.compile("Invalid value for positional parameter at index \\S+ \\(([^)]+)\\): ");
    private static final Pattern BAD_OPTION = Pattern.compile("Invalid value for option '([^']+)': ");
    private static final Pattern NOT_ONE_OF = Pattern.compile("expected one of \\[([^\\]]*)\\] \\(case-insensitive\\) but was '([^']*)'");
    private static final Pattern NOT_A_NUMBER = Pattern.compile("'([^']*)' is not an? (?:long|int)");
    private static final Pattern TOO_FEW = Pattern.compile(
            "positional parameter at index \\S+ \\(([^)]+)\\) requires at least (\\d+) values, but (?:none were|only (\\d+) were?) specified.*");
    private static final Pattern OPTION_AMONG_OPERANDS = Pattern.compile(
            "Expected parameter \\d+ \\(of \\d+ mandatory parameters\\) for positional parameter at index \\S+ \\([^)]+\\) but found '(-[^']*)'");
    private static final Pattern NO_VALUE = Pattern.compile("Missing required parameter for option '([^']+)' \\(([^)]+)\\)");
    private static final Pattern UNKNOWN_COMMAND = Pattern.compile("Unknown subcommand '(.*)'\\.");

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        CommandSpec spec = cmd.getCommandSpec();
        report(cmd.getErr(), spec.qualifiedName(), problem(ex, args));
        return spec.exitCodeOnInvalidInput();
    }

    /**
     * Says {@code problem} of a command line in the form of every usage error, for a command that finds it only
     * once it runs (and may run without picocli); the exit code is {@link QedfsCommand#EXIT_USAGE}.
     */
    static int report(PrintWriter err, String qualifiedName, String problem) {
        err.println(qualifiedName + ": " + problem);
        err.println("Try '" + qualifiedName + " --help' for more information.");
        err.flush();
        return QedfsCommand.EXIT_USAGE;
    }

    /** What is wrong with the command line {@code args}, in its own words. */
    static String problem(ParameterException ex, String[] args) {
        CommandSpec spec = ex.getCommandLine().getCommandSpec();
        String msg = ex.getMessage() == null ? "invalid arguments" : ex.getMessage().replace('\n', ' ').strip();
        if (ex instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
            return unmatched(spec, u);
        }
        List<String> unknown = unknownOptions(ex.getCommandLine(), args);
        if (!unknown.isEmpty()) { // qedfs mount a.qed --bogus mnt: not "missing MOUNTPOINT"
            return (unknown.size() == 1 ? "unknown option " : "unknown options ") + quoted(unknown);
        }
        if (ex instanceof MissingParameterException m && !m.getMissing().isEmpty()) {
            return missing(spec, m, msg);
        }
        if (ex instanceof OverwrittenOptionException o && o.getOverwritten() instanceof OptionSpec option) {
            return typedName(option, args) + " is given more than once";
        }
        Matcher help = UNKNOWN_COMMAND.matcher(msg);
        if (help.matches()) { // qedfs help bogus
            return notACommand(spec, help.group(1));
        }
        return plain(msg);
    }

    /** Words nothing takes: a command that does not exist, an option the command does not have, or one operand too many. */
    private static String unmatched(CommandSpec spec, UnmatchedArgumentException u) {
        String first = u.getUnmatched().get(0);
        if (spec.parent() == null && !spec.subcommands().isEmpty() && !first.startsWith("-")) {
            return notACommand(spec, first);
        }
        if (u.isUnknownOption()) {
            List<String> options = u.getUnmatched().stream().filter(w -> w.startsWith("-"))
                    .map(UsageErrorHandler::optionName).distinct().toList();
            return (options.size() == 1 ? "unknown option " : "unknown options ") + quoted(options);
        }
        return "too many arguments: " + quoted(u.getUnmatched()) + " (expected " + operands(spec) + ")";
    }

    /**
     * The options {@code cmd} does not have among {@code args}, as typed, whatever else is wrong. picocli sets such
     * a word aside and goes on, and checks operands, required options and values before it reports the words set
     * aside, so an unknown option among the operands would otherwise be reported as the operand it displaced
     * ("missing MOUNTPOINT"). A word after {@code --} is an operand, whatever it starts with.
     */
    private static List<String> unknownOptions(CommandLine cmd, String[] args) {
        List<String> beforeEnd = List.of(args);
        int end = beforeEnd.indexOf("--");
        if (end >= 0) {
            beforeEnd = beforeEnd.subList(0, end);
        }
        Set<String> names = new LinkedHashSet<>();
        for (String w : cmd.getUnmatchedArguments()) {
            if (w.length() > 1 && w.startsWith("-") && beforeEnd.contains(w)) {
                names.add(optionName(w));
            }
        }
        return List.copyOf(names);
    }

    /** The name of {@code option} as {@code args} have it ({@code -r} rather than picocli's {@code --read-only}). */
    private static String typedName(OptionSpec option, String[] args) {
        for (String a : args) {
            for (String name : option.names()) {
                if (a.equals(name) || a.startsWith(name + "=")) {
                    return name;
                }
            }
        }
        return option.longestName();
    }

    /** {@code --size=5} names the option {@code --size}; {@code -x} and a cluster of short options are as typed. */
    private static String optionName(String word) {
        int eq = word.indexOf('=');
        return word.startsWith("--") && eq > 0 ? word.substring(0, eq) : word;
    }

    private static String notACommand(CommandSpec spec, String word) {
        return "'" + word + "' is not a command; the commands are " + commands(spec);
    }

    /** The names of {@code spec}'s subcommands, without their aliases: "mount, unmount, create, ...". */
    static String commands(CommandSpec spec) {
        Set<String> names = new LinkedHashSet<>();
        spec.subcommands().values().forEach(c -> names.add(c.getCommandName()));
        return String.join(", ", names);
    }

    /** Operands or required options left out, or an option given without its value. */
    private static String missing(CommandSpec spec, MissingParameterException m, String msg) {
        Matcher noValue = NO_VALUE.matcher(msg);
        if (noValue.find()) {
            return noValue.group(1) + " needs a value (" + noValue.group(2) + ")";
        }
        Matcher among = OPTION_AMONG_OPERANDS.matcher(msg);
        if (among.find()) { // qedfs mount a.qed -r mnt
            return "'" + among.group(1) + "' comes between the operands: options go before or after " + operands(spec);
        }
        Matcher tooFew = TOO_FEW.matcher(msg);
        List<String> names = new ArrayList<>();
        List<String> operands = new ArrayList<>();
        int firstMissingOperand = Integer.MAX_VALUE;
        for (ArgSpec a : m.getMissing()) {
            if (a instanceof OptionSpec o) {
                names.add(o.shortestName() + " " + o.paramLabel());
            } else if (a instanceof PositionalParamSpec p) {
                firstMissingOperand = Math.min(firstMissingOperand, p.index().min());
            }
        }
        // picocli names the first operand left out; the ones after it are left out too
        for (PositionalParamSpec p : spec.positionalParameters()) {
            if (p.index().min() >= firstMissingOperand && p.arity().min() > 0) {
                operands.add(tooFew.matches() ? notGiven(p.paramLabel(), Integer.parseInt(tooFew.group(2)),
                        tooFew.group(3) == null ? 0 : Integer.parseInt(tooFew.group(3))) : p.paramLabel());
            }
        }
        if (!operands.isEmpty()) {
            names.add(String.join(" ", operands));
        }
        String expected = operands(spec);
        return "missing " + String.join(" and ", names)
                + (operands.isEmpty() || expected.equals(String.join(" ", operands)) ? "" : " (expected " + expected + ")");
    }

    /**
     * The words of {@code label} left out when {@code given} of at least {@code atLeast} values came: for mount's
     * {@code SOURCE... MOUNTPOINT} and one word, the MOUNTPOINT. A label whose words do not count its values is
     * named whole.
     */
    private static String notGiven(String label, int atLeast, int given) {
        String[] words = label.split(" ");
        return words.length == atLeast && given < atLeast
                ? String.join(" ", List.of(words).subList(given, words.length)) : label;
    }

    /** The operands the command takes, as its synopsis shows them: {@code IMAGE [SIZE]}, {@code SOURCE DEST}. */
    static String operands(CommandSpec spec) {
        return spec.positionalParameters().stream().filter(p -> !p.hidden()).map(UsageErrorHandler::operand)
                .collect(Collectors.joining(" "));
    }

    private static String operand(PositionalParamSpec p) {
        String label = p.paramLabel();
        if (p.arity().max() > 1 && !label.contains("...")) {
            label += "...";
        }
        return p.arity().min() == 0 ? "[" + label + "]" : label;
    }

    private static String quoted(List<String> words) {
        return words.stream().map(w -> "'" + w + "'").collect(Collectors.joining(", "));
    }

    /** picocli's wording of a bad value in the user's terms: names of arguments instead of indexes, values as they are typed. */
    static String plain(String msg) {
        String s = BAD_POSITIONAL.matcher(msg).replaceFirst("$1: ");
        s = BAD_OPTION.matcher(s).replaceFirst("$1: ");
        Matcher m = NOT_ONE_OF.matcher(s);
        if (m.find()) {
            s = s.substring(0, m.start()) + "'" + m.group(2) + "' is not one of " + m.group(1).toLowerCase(Locale.ROOT)
                    + s.substring(m.end());
        }
        return NOT_A_NUMBER.matcher(s).replaceFirst("'$1' is not a whole number");
    }
}
