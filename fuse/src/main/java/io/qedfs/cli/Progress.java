package io.qedfs.cli;

import java.io.PrintWriter;
import java.util.Locale;

/** qemu-img's {@code -p} progress: {@code "    (42.00/100%)"} rewritten in place with carriage returns. */
final class Progress {
    private final PrintWriter err;
    private final long total;
    private final boolean enabled;
    private int shownPercent = -1;

    Progress(PrintWriter err, long total, boolean enabled) {
        this.err = err;
        this.total = total;
        this.enabled = enabled;
    }

    /** {@code done} bytes of {@code total} are processed; prints when a new whole percent is reached. */
    void update(long done) {
        update(done, total);
    }

    /** As {@link #update(long)}, for work whose total is only known once it has started. */
    void update(long done, long total) {
        if (!enabled) {
            return;
        }
        double pct = total == 0 ? 100.0 : Math.min(100.0, done * 100.0 / total);
        if ((int) pct > shownPercent) {
            shownPercent = (int) pct;
            err.print(String.format(Locale.ROOT, "    (%3.2f/100%%)\r", pct));
            err.flush();
        }
    }

    /** The final 100% and a newline. */
    void done() {
        if (!enabled) {
            return;
        }
        err.print(String.format(Locale.ROOT, "    (%3.2f/100%%)\r%n", 100.0));
        err.flush();
    }
}
