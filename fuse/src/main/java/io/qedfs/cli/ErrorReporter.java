package io.qedfs.cli;

import io.qedfs.qed.host.Printable;
import java.io.EOFException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * The one place where an exception becomes what the user sees: {@code qedfs: <file>: <problem>} on one line
 * of stderr, exit code 1 (63 for check's {@link NoCheckSupportException}), and the stack trace only with
 * {@code --debug}.
 */
final class ErrorReporter implements IExecutionExceptionHandler {
    static final int EXIT_ERROR = 1;

    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parseResult) {
        String subject = cmd.getCommand() instanceof BaseCommand c ? c.subjectFor(ex) : null;
        return report(cmd.getErr(), ex, subject, debug(parseResult));
    }

    /**
     * Prints {@code ex} as one line naming {@code subject} (and its stack trace when debugging); the exit code: 1,
     * or check's 63 for a file it cannot check.
     */
    static int report(PrintWriter err, Exception ex, String subject, boolean debug) {
        err.println("qedfs: " + message(ex, subject));
        if (debug) {
            ex.printStackTrace(err);
        }
        err.flush();
        return ex instanceof NoCheckSupportException ? NoCheckSupportException.EXIT_CODE : EXIT_ERROR;
    }

    private static boolean debug(ParseResult pr) {
        for (ParseResult p = pr; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--debug")) {
                return true;
            }
        }
        return false;
    }

    /** One line naming the file and the problem; {@code subject} is prefixed when the message lacks a file. */
    static String message(Throwable t, String subject) {
        Throwable e = t;
        while (e instanceof UncheckedIOException && e.getCause() != null) {
            e = e.getCause();
        }
        String msg = describe(e);
        if (subject != null && !msg.contains(subject)) {
            msg = subject + ": " + msg;
        }
        // one line, and nothing in it (a backing name, say) that a terminal would take as a command
        return Printable.escape(msg.replace('\n', ' ').replace('\r', ' '));
    }

    private static String describe(Throwable e) {
        if (e instanceof NoSuchFileException f) {
            return fileProblem(f, "no such file or directory");
        }
        if (e instanceof AccessDeniedException f) {
            return fileProblem(f, "permission denied");
        }
        if (e instanceof FileAlreadyExistsException f) {
            return fileProblem(f, "file already exists");
        }
        if (e instanceof NotDirectoryException f) {
            return fileProblem(f, "not a directory");
        }
        if (e instanceof FileSystemException f) {
            return fileProblem(f, "I/O error");
        }
        if (e instanceof EOFException && e.getMessage() == null) {
            return "unexpected end of file";
        }
        if (e instanceof OutOfMemoryError) {
            return "out of memory (the JVM's -Xmx is too small for this image)";
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    private static String fileProblem(FileSystemException e, String fallback) {
        String file = e.getFile();
        String reason = e.getReason() == null ? fallback : e.getReason();
        if (reason.equals("Too many open files")) {
            reason = io.qedfs.fuse.FileDescriptors.tooManyOpen();
        }
        if (e.getOtherFile() != null && !reason.contains(e.getOtherFile())) {
            reason = reason + " (" + e.getOtherFile() + ")";
        }
        return file == null || reason.contains(file) ? reason : file + ": " + reason;
    }
}
