package io.qedfs.qed;

import java.io.IOException;
import java.util.Optional;

/**
 * The open-time check of an image opened with {@link QedOpenOptions#withDeferredCheck}: the image is served while a
 * thread of the caller's runs it (docs/architecture.md, "Background check"). Reads, and writes into clusters that
 * already hold data, go on meanwhile; everything that changes tables waits for the check's end. Get it from
 * {@link QedImage#backgroundCheck()}.
 */
public final class BackgroundCheck {
    private final OpenCheck check;

    BackgroundCheck(OpenCheck check) {
        this.check = check;
    }

    /**
     * Runs the check on the calling thread: the scan, with reads and in-place writes going on, then, read-write,
     * the repair, with them paused. A read-write check that leaves corruption behind returns its report, and every
     * later change to the tables fails as the open would have.
     *
     * @param progress hears of each L2 table checked; it may block, as long as it gives way once {@link #stopping()}
     * @return the report (then also {@link QedImage#openCheckReport()}), or empty when the check was stopped before
     *         its repair (the image stays marked for a check; from then on every change to its tables fails) or ran
     *         already
     * @throws IOException when the image cannot be read or repaired
     */
    public Optional<CheckReport> run(ProgressListener progress) throws IOException {
        return check.runDeferred(progress);
    }

    /**
     * Asks the check to stop at its next table (one not begun yet never runs); returns at once. Nothing is repaired
     * then, the image stays marked for a check, and changes to its tables fail from then on. Closing the image
     * stops it too.
     */
    public void stop() {
        check.stop();
    }

    /**
     * Tells whether {@link #stop()} was called: a progress listener that blocks must give way then.
     *
     * @return true once a stop was asked for
     */
    public boolean stopping() {
        return check.stopping();
    }

    /**
     * Tells whether the check has yet to end: until then, changes to the image's tables wait for it.
     *
     * @return true while it has not run to its end, been stopped or failed
     */
    public boolean pending() {
        return check.pending();
    }
}
