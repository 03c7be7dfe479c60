package io.qedfs.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.util.ArrayList;
import java.util.List;

/**
 * How a serving process tells the {@code qedfs mount} that started it and waits (the launcher script, or
 * {@link Daemonizer} under {@code java -jar}) that the mount is ready, or why not. The waiting command names
 * itself in {@link #PARENT_ENV} and reads the server's stderr, line by line:
 * <ul>
 *   <li>{@code qedfs-mount-out: TEXT}: a line for the command's stdout ("mounted at ...", help);</li>
 *   <li>any other line: for its stderr (the one-line error; libfuse's and fusermount's own lines, which the
 *   waiting command appends to the next error line in brackets);</li>
 *   <li>last, one status line: {@code qedfs-mount-status: ready}, {@code ... exit N} (the command exits N),
 *   or {@code ... foreground} (-f was asked for: run the command again, in the foreground).</li>
 * </ul>
 * The command stops reading at the status line, not at the end of the stream: fusermount, which libfuse2 starts
 * to unmount the mount should the server die ({@code auto_unmount}), inherits the stream and holds it for as
 * long as the mount lasts. Once ready, the server lets go of the stdout and stderr it was given (the JVM
 * points them at /dev/null), so it holds nothing of the caller's. Nothing on the way to ready polls or sleeps.
 */
final class ServerReport {
    /** The environment variable that carries the waiting command's process id to the serving process. */
    static final String PARENT_ENV = "QEDFS_MOUNT_PARENT";
    static final String OUT = "qedfs-mount-out: ";
    static final String STATUS = "qedfs-mount-status: ";

    private static final ServerReport OF_THIS_PROCESS = fromEnvironment();

    private final long parentPid;
    /** Whether the status line went out; guarded by this. */
    private boolean settled;

    private ServerReport(long parentPid) {
        this.parentPid = parentPid;
    }

    /** The report this process owes a waiting {@code qedfs mount}, or null when none waits for it. */
    static ServerReport ofThisProcess() {
        return OF_THIS_PROCESS;
    }

    private static ServerReport fromEnvironment() {
        String parent = System.getenv(PARENT_ENV);
        try {
            return parent == null ? null : new ServerReport(Long.parseLong(parent.strip()));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    long parentPid() {
        return parentPid;
    }

    /** A writer whose lines go to the waiting command's stdout. */
    PrintWriter out() {
        return new PrintWriter(new TaggedLines(), true);
    }

    synchronized boolean isSettled() {
        return settled;
    }

    /** The mount is ready: says so, and lets go of stdout and stderr. */
    synchronized void ready() {
        if (settle("ready")) {
            System.out.close(); // the JVM keeps fds 0-2 open on /dev/null
            System.err.close();
        }
    }

    /** The command ends with {@code code} (the mount failed, or it was not a mount to serve). */
    synchronized void exit(int code) {
        settle("exit " + code);
    }

    /** The command asked for the foreground: the waiting command runs it again, itself. */
    synchronized void foreground() {
        settle("foreground");
    }

    private boolean settle(String status) {
        if (settled) {
            return false;
        }
        settled = true;
        System.err.println(STATUS + status);
        System.err.flush();
        return true;
    }

    /** What a serving process reported, as {@link #follow} read it. */
    enum Outcome { READY, EXIT, FOREGROUND, ENDED }

    /** The outcome, with the exit code for {@link Outcome#EXIT} and the last line read for {@link Outcome#ENDED}. */
    record Result(Outcome outcome, int exitCode, String lastLine) {
    }

    /**
     * The waiting command's side: reads a server's report from {@code in} up to its status line (or the end of
     * the stream, when the server died without one), passing the lines on to {@code out} and {@code err}.
     */
    static Result follow(BufferedReader in, PrintWriter out, PrintWriter err) throws IOException {
        List<String> fuse = new ArrayList<>(); // libfuse's and fusermount's lines, for the next error line
        String last = "no output";
        try {
            for (String line; (line = in.readLine()) != null; ) {
                if (line.startsWith(OUT)) {
                    out.println(line.substring(OUT.length()));
                } else if (line.startsWith(STATUS)) {
                    String status = line.substring(STATUS.length());
                    if (status.equals("ready")) {
                        return new Result(Outcome.READY, 0, last);
                    }
                    if (status.equals("foreground")) {
                        return new Result(Outcome.FOREGROUND, 0, last);
                    }
                    if (status.startsWith("exit ")) {
                        return new Result(Outcome.EXIT, Integer.parseInt(status.substring(5).strip()), last);
                    }
                } else if (line.startsWith("fuse: ") || line.startsWith("fusermount")) {
                    fuse.add(line.strip());
                    last = line.strip();
                } else {
                    err.println(line.startsWith("qedfs: ") && !fuse.isEmpty() ? line + " [" + String.join("; ", fuse) + "]" : line);
                    if (line.startsWith("qedfs: ")) {
                        fuse.clear();
                    }
                    last = line.strip();
                }
            }
            return new Result(Outcome.ENDED, 1, last);
        } catch (NumberFormatException e) {
            return new Result(Outcome.ENDED, 1, last);
        } finally {
            fuse.forEach(err::println);
            out.flush();
            err.flush();
        }
    }

    /** Writes each whole line, tagged, to stderr at once, so that no other output splits it. */
    private static final class TaggedLines extends Writer {
        private final StringBuilder line = new StringBuilder();

        @Override
        public void write(char[] chars, int off, int len) {
            synchronized (System.err) {
                for (int i = off; i < off + len; i++) {
                    if (chars[i] == '\n') {
                        System.err.print(OUT + line + "\n");
                        line.setLength(0);
                    } else if (chars[i] != '\r') {
                        line.append(chars[i]);
                    }
                }
            }
        }

        @Override
        public void flush() {
            System.err.flush();
        }

        @Override
        public void close() {
            synchronized (System.err) {
                if (line.length() > 0) {
                    System.err.print(OUT + line + "\n");
                    line.setLength(0);
                }
                System.err.flush();
            }
        }
    }
}
