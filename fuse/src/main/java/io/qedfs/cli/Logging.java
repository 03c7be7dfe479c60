package io.qedfs.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Configures slf4j-simple before the first logger exists: where the log goes and how much of it. */
final class Logging {
    private static final String P = "org.slf4j.simpleLogger.";
    private static final String PROVIDER = "slf4j.provider";
    private static final String VERBOSITY = "slf4j.internal.verbosity";
    private static final String SIMPLE = "org.slf4j.simple.SimpleServiceProvider";

    private Logging() {
    }

    /**
     * Names slf4j's provider (slf4j-simple, the only one in the jar) instead of letting slf4j find it: its
     * ServiceLoader search reads the jar's service files through URL connections, a few hundredths of a second
     * of interpreted code on the way to every ready mount. The note slf4j prints about a named provider is
     * kept off stderr, which is the serving process's report to its waiting command; its warnings and
     * errors still come. A provider given on the command line wins. Must run before the first logger exists.
     */
    static void bindDirectly() {
        if (System.getProperty(PROVIDER) == null) {
            System.setProperty(PROVIDER, SIMPLE);
            if (System.getProperty(VERBOSITY) == null) {
                System.setProperty(VERBOSITY, "WARN");
            }
        }
    }

    /**
     * Nothing is logged at all (no line is even formatted): a serving process without --log, and a command that
     * has no log line to show (unmount). With the provider named by {@link #bindDirectly}, slf4j's no-operation
     * one replaces it, which skips slf4j-simple's search of the class path for its properties file.
     */
    static void off() {
        System.setProperty(P + "defaultLogLevel", "off");
        if (SIMPLE.equals(System.getProperty(PROVIDER))) {
            System.setProperty(PROVIDER, "org.slf4j.helpers.NOP_FallbackServiceProvider");
        }
    }

    /**
     * Refuses a log file that slf4j-simple could not open: it would print its own stack trace and log to stderr
     * instead, which a serving process does not have. Looks, does not open: opening a FIFO would block, and
     * closing it again would end its reader.
     */
    static void refuseUnwritable(Path file) throws CommandFailedException {
        Path absolute = file.toAbsolutePath();
        Path dir = absolute.getParent();
        String problem = null;
        if (Files.isDirectory(absolute)) {
            problem = "is a directory";
        } else if (dir == null || !Files.isDirectory(dir)) {
            problem = "its directory does not exist";
        } else if (Files.exists(absolute) ? !Files.isWritable(absolute) : !Files.isWritable(dir)) {
            problem = "permission denied";
        }
        if (problem != null) {
            throw new CommandFailedException(file + ": cannot log there: " + problem, null);
        }
    }

    /** {@code file} null logs to stderr; {@code verbose} adds debug lines. */
    static void configure(Path file, boolean verbose) {
        System.setProperty(P + "logFile", file == null ? "System.err" : file.toAbsolutePath().toString());
        System.setProperty(P + "defaultLogLevel", verbose ? "debug" : "info");
        System.setProperty(P + "showDateTime", "true");
        System.setProperty(P + "dateTimeFormat", "yyyy-MM-dd HH:mm:ss.SSS");
        System.setProperty(P + "showThreadName", "false");
        System.setProperty(P + "showShortLogName", "true");
        System.setProperty(P + "levelInBrackets", "true");
    }
}
