package io.qedfs.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;

/** Bad usage: one line saying what is wrong, one line saying where help is, exit code {@link QedfsCommand#EXIT_USAGE}. */
final class UsageErrorHandler implements IParameterExceptionHandler {
    private static final Pattern BAD_POSITIONAL = Pattern.compile("Invalid value for positional parameter at index \\S+ \\(([^)]+)\\): ");
    private static final Pattern BAD_OPTION = Pattern.compile("Invalid value for option '([^']+)': ");
    private static final Pattern NOT_ONE_OF = Pattern.compile("expected one of \\[([^\\]]*)\\] \\(case-insensitive\\) but was '([^']*)'");
    private static final Pattern NOT_A_NUMBER = Pattern.compile("'([^']*)' is not an? (?:long|int)");
    private static final Pattern TOO_FEW = Pattern.compile(
            "positional parameter at index \\S+ \\(([^)]+)\\) requires at least (\\d+) values, but (?:none were|only (\\d+) were?) specified.*");
    private static final Pattern TOO_MANY = Pattern.compile("Unmatched arguments? (?:at|from) index \\d+: (.*)");

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        String msg = ex.getMessage() == null ? "invalid arguments" : plain(ex.getMessage().replace('\n', ' ').strip());
        err.println("qedfs: " + msg);
        err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return cmd.getCommandSpec().exitCodeOnInvalidInput();
    }

    /** picocli's wording in the user's terms: names of arguments instead of indexes, values as they are typed. */
    static String plain(String msg) {
        Matcher m = TOO_FEW.matcher(msg);
        if (m.matches()) {
            return "missing arguments: expected " + m.group(1) + " (at least " + m.group(2) + "), got "
                    + (m.group(3) == null ? "none" : m.group(3));
        }
        m = TOO_MANY.matcher(msg);
        if (m.matches()) {
            return "too many arguments: " + m.group(1);
        }
        String s = BAD_POSITIONAL.matcher(msg).replaceFirst("$1: ");
        s = BAD_OPTION.matcher(s).replaceFirst("$1: ");
        m = NOT_ONE_OF.matcher(s);
        if (m.find()) {
            s = s.substring(0, m.start()) + "'" + m.group(2) + "' is not one of " + m.group(1).toLowerCase(Locale.ROOT)
                    + s.substring(m.end());
        }
        return NOT_A_NUMBER.matcher(s).replaceFirst("'$1' is not a whole number");
    }
}
