package io.qedfs.cli;

import java.nio.file.Path;

/** Configures slf4j-simple before the first logger exists: where the log goes and how much of it. */
final class Logging {
    private static final String P = "org.slf4j.simpleLogger.";

    private Logging() {
    }

    /** Nothing is logged at all (no line is even formatted): a serving process without --log. */
    static void off() {
        System.setProperty(P + "defaultLogLevel", "off");
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
