package io.qedfs.cli;

import io.qedfs.qed.ProgressListener;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * qemu-img's {@code -p} progress: {@code "    (42.00/100%)"} rewritten in place with carriage returns. Shown
 * from the start with {@code -p}; without it, only when stderr is a terminal and the work has already taken
 * {@link #DEFAULT_DELAY_MILLIS} (short work stays silent); never with {@code -q}.
 */
final class Progress implements ProgressListener {
    /** How long unrequested work runs before its progress appears; system property qedfs.progress.delayMillis. */
    static final long DEFAULT_DELAY_MILLIS = 1000;

    private final PrintWriter err;
    private final long total;
    private final boolean enabled;
    private final long showFromNanos;
    private boolean shown;
    private int shownPercent = -1;

    Progress(PrintWriter err, long total, boolean enabled) {
        this(err, total, enabled, 0);
    }

    private Progress(PrintWriter err, long total, boolean enabled, long delayMillis) {
        this.err = err;
        this.total = total;
        this.enabled = enabled;
        this.showFromNanos = System.nanoTime() + delayMillis * 1_000_000;
    }

    /** What {@code -p} (requested) and {@code -q} (quiet) ask for, given where stderr goes. */
    static Progress of(PrintWriter err, long total, boolean requested, boolean quiet) {
        if (quiet || !(requested || stderrIsTerminal())) {
            return new Progress(err, total, false);
        }
        return new Progress(err, total, true, requested ? 0 : Long.getLong("qedfs.progress.delayMillis", DEFAULT_DELAY_MILLIS));
    }

    /** Whether file descriptor 2 is a terminal (Linux: where /proc/self/fd/2 points). */
    static boolean stderrIsTerminal() {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** {@code done} bytes of {@code total} are processed; prints when a new whole percent is reached. */
    void update(long done) {
        update(done, total);
    }

    /** As {@link #update(long)}, for work whose total is only known once it has started. */
    void update(long done, long total) {
        if (!visible()) {
            return;
        }
        double pct = total == 0 ? 100.0 : Math.min(100.0, done * 100.0 / total);
        if ((int) pct > shownPercent) {
            shown = true;
            shownPercent = (int) pct;
            err.print(String.format(Locale.ROOT, "    (%3.2f/100%%)\r", pct));
            err.flush();
        }
    }

    /** The engine's progress (check: L2 tables done of the total). */
    @Override
    public void progress(long done, long total) {
        update(done, total);
    }

    /** The final 100% and a newline, if any progress was shown. */
    void done() {
        if (!visible()) {
            return;
        }
        err.print(String.format(Locale.ROOT, "    (%3.2f/100%%)\r%n", 100.0));
        err.flush();
    }

    private boolean visible() {
        return enabled && (shown || System.nanoTime() - showFromNanos >= 0);
    }
}
