package io.qedfs.cli;

import java.io.PrintWriter;
import picocli.CommandLine.Option;

/** {@code -p} and {@code -q}, for every command that shows progress while it works (a picocli mixin). */
final class ProgressOptions {
    @Option(names = "-p", description = "Show progress on stderr from the start, terminal or not.")
    boolean requested;

    @Option(names = "-q", description = "Quiet: no progress (not even with -p) and no report; errors are still printed.")
    boolean quiet;

    /** The progress display for work of {@code total} units (0: shown as it goes) as these options ask for. */
    Progress on(PrintWriter err, long total) {
        return Progress.of(err, total, requested, quiet);
    }
}
