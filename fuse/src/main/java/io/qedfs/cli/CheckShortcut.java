package io.qedfs.cli;

import java.io.PrintWriter;
import java.util.HashSet;
import java.util.Set;

/**
 * {@code qedfs check} without picocli, for the argument lists people and scripts type: {@code -q}, {@code -p},
 * {@code -r leaks|all}, {@code --output human|json} (or {@code --output=FMT}), {@code --debug}, each at most once,
 * and one image name, in any order. Building picocli's model of the command and parsing with it costs more than
 * checking a few hundred L2 tables, so the common check does not pay for it (the README's Benchmarks section has
 * the figures). Every other argument list (help, clustered or unknown options, repeats, bad values, {@code @files},
 * {@code --}) is left to picocli, which gives its help and its errors; CheckShortcutTest holds both paths to the
 * same output for the lists taken here.
 */
final class CheckShortcut {
    private CheckShortcut() {
    }

    /** Runs {@code args} when they are a plain check and returns its exit code; null when picocli must parse them. */
    static Integer run(String[] args, PrintWriter out, PrintWriter err) {
        if (args.length < 2 || !args[0].equals("check")) {
            return null;
        }
        CheckCommand check = new CheckCommand();
        boolean debug = false;
        Set<String> seen = new HashSet<>();
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            String option = a.startsWith("--output=") ? "--output" : a;
            if (a.startsWith("-") && !seen.add(option)) {
                return null;
            }
            switch (option) {
                case "-q" -> check.progress.quiet = true;
                case "-p" -> check.progress.requested = true;
                case "--debug" -> debug = true;
                case "-r" -> {
                    check.repair = ++i < args.length ? CheckCommand.repairModeNamed(args[i]) : null;
                    if (check.repair == null) {
                        return null;
                    }
                }
                case "--output" -> {
                    String value = a.equals(option) ? (++i < args.length ? args[i] : "") : a.substring(option.length() + 1);
                    check.output = outputFormat(value);
                    if (check.output == null) {
                        return null;
                    }
                }
                default -> {
                    if (a.isEmpty() || a.startsWith("-") || a.startsWith("@") || check.image.name != null) {
                        return null;
                    }
                    check.image.name = a;
                }
            }
        }
        if (check.image.name == null) {
            return null;
        }
        try {
            return check.callWith(out, err);
        } catch (Exception e) {
            return ErrorReporter.report(err, e, check.subject(), debug);
        }
    }

    private static OutputFormat outputFormat(String value) {
        for (OutputFormat f : OutputFormat.values()) {
            if (f.name().equalsIgnoreCase(value)) {
                return f;
            }
        }
        return null;
    }
}
