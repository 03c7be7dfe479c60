package io.qedfs.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * What every subcommand shares: output only through picocli's writers (so tests can capture it), the file
 * that error messages should name, and no {@link Error} escaping picocli (which only handles Exceptions).
 */
abstract class BaseCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** The writers of a run without picocli ({@link #callWith}); unused when picocli injected {@link #spec}. */
    private PrintWriter directOut;
    private PrintWriter directErr;

    /** Runs the command and returns its exit code. */
    abstract int run() throws Exception;

    /** The file an error message names when the message itself does not; null if none. */
    abstract String subject();

    /** The file to name in front of {@code ex}'s message: {@link #subject()} unless a command knows better. */
    String subjectFor(Exception ex) {
        return subject();
    }

    @Override
    public final Integer call() throws Exception {
        refuseEmptyOperands();
        try {
            return run();
        } catch (OutOfMemoryError e) {
            // the JVM's own words name the direct-memory limit; the heap's is added here
            throw new CommandFailedException(String.format("out of memory (%s; this JVM's heap limit is %d MiB,"
                    + " set by -Xmx in QEDFS_JAVA_OPTS)", e.getMessage(), Runtime.getRuntime().maxMemory() >> 20), e);
        } catch (StackOverflowError e) {
            throw new CommandFailedException("internal error: " + e, e);
        } finally {
            out().flush();
            err().flush();
        }
    }

    /**
     * An empty operand ({@code qedfs info "$IMG"} with IMG unset) is bad usage naming the operand: as a path it would
     * be the current directory. The shortcuts, which run without picocli, leave such command lines to picocli.
     */
    private void refuseEmptyOperands() {
        if (spec == null) {
            return;
        }
        for (var p : spec.positionalParameters()) {
            Object v = p.getValue();
            for (Object each : v instanceof java.util.Collection<?> c ? c : java.util.Collections.singletonList(v)) {
                if (each != null && each.toString().isEmpty()) {
                    throw usage(p.paramLabel() + " is empty");
                }
            }
        }
    }

    /** Runs the command with its fields set by the caller instead of picocli, writing to these writers. */
    final int callWith(PrintWriter out, PrintWriter err) throws Exception {
        directOut = out;
        directErr = err;
        return call();
    }

    final PrintWriter out() {
        return spec == null ? directOut : spec.commandLine().getOut();
    }

    final PrintWriter err() {
        return spec == null ? directErr : spec.commandLine().getErr();
    }

    /**
     * A usage error found after parsing (exit {@link QedfsCommand#EXIT_USAGE}, with the "Try ... --help" line). Only for commands picocli
     * runs: a command run through {@link #callWith} has no command line to name (check, see CheckShortcut).
     */
    final ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
