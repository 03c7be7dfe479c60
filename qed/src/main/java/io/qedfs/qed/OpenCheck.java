package io.qedfs.qed;

import io.qedfs.qed.host.HostFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * The check an open runs on an image ({@link QedOpenOptions#check}): during the open, or deferred to a thread of
 * the caller's ({@link QedOpenOptions#deferCheck}; docs/architecture.md, "Background check"), and what it leaves
 * behind: its report, whether the image may be marked clean, and whether its tables may change. While a deferred
 * check runs, it decides which reads and writes go on ({@link #permit}, {@link #writeWhileChecking}) and which
 * wait for its end ({@link #awaitEnd}).
 */
final class OpenCheck {
    private final String name;
    private final boolean readOnly;
    private final ImageMetadata meta;
    private final HostFile host;
    private final WritePath writes;
    /** The repair a check at the open runs: all of it read-write, none read-only. */
    private final RepairMode mode;
    /** The check while it runs in the background, or null: it ran during the open, or none was due. */
    private final DeferredCheck deferred;
    /** The handle a caller runs {@link #deferred} by; null without one. */
    private final BackgroundCheck background;
    /**
     * The report: set during the open, or by the deferred check once it has run to its end (then under the
     * allocation lock); read without a lock.
     */
    private volatile CheckReport report;
    /**
     * False when the image was opened dirty and not checked (yet: a deferred check sets it when it ends), or when
     * the check could not read every table or left corruption: then NEED_CHECK must stay set, so that the next
     * open checks again. Written as {@link #report} is.
     */
    private volatile boolean cleanable;

    /**
     * Runs the check the options ask for on an image whose header is {@code h}, or defers it; throws, as the open
     * must, when a read-write check leaves corruption behind.
     */
    OpenCheck(QedOpenOptions options, QedHeader h, ImageMetadata meta, HostFile host, WritePath writes)
            throws IOException {
        this.name = meta.name;
        this.readOnly = options.readOnly();
        this.meta = meta;
        this.host = host;
        this.writes = writes;
        this.mode = readOnly ? RepairMode.NONE : RepairMode.ALL;
        boolean due = options.check() == QedOpenOptions.CheckPolicy.ALWAYS
                || (options.check() == QedOpenOptions.CheckPolicy.AUTO && h.needsCheck());
        this.deferred = due && options.deferCheck() ? new DeferredCheck(meta, DeferredCheck.PRE_IMAGE_BUDGET) : null;
        this.background = deferred == null ? null : new BackgroundCheck(this);
        this.report = due && deferred == null ? checkNow() : null;
        this.cleanable = report != null ? report.checkErrors() == 0 : !h.needsCheck() && deferred == null;
    }

    private CheckReport checkNow() throws IOException {
        CheckReport r = ConsistencyCheck.runLocked(meta, host, mode, ProgressListener.NONE);
        if (!readOnly && r.corruptions() > 0) {
            throw new QedFormatException(unrepaired(r));
        }
        return r;
    }

    private String unrepaired(CheckReport r) {
        return name + ": the image is corrupt and could not be repaired: " + r.corruptions()
                + " corruptions remain (see check)";
    }

    /** The report of a check that has run to its end, during the open or deferred. */
    Optional<CheckReport> report() {
        return Optional.ofNullable(report);
    }

    /** True when the image may be marked clean: it was clean, or a check has left it free of errors. */
    boolean cleanable() {
        return cleanable;
    }

    /** The handle of the deferred check; empty when the open deferred none. */
    Optional<BackgroundCheck> background() {
        return Optional.ofNullable(background);
    }

    /** True while the deferred check has not ended. */
    boolean pending() {
        return deferred != null && !deferred.isFinished();
    }

    /** Runs the deferred check on the calling thread (see {@link BackgroundCheck#run}). */
    Optional<CheckReport> runDeferred(ProgressListener progress) throws IOException {
        if (deferred == null) {
            return Optional.empty();
        }
        try (Allocator.Held locked = meta.allocator.hold()) {
            return Optional.ofNullable(deferred.run(new ConsistencyCheck(meta, host, mode, progress), this::settle));
        }
    }

    /**
     * The deferred check has ended, with {@code r} or (null) without one because of {@code why}: whether the image
     * may be marked clean, and whether its tables may change (as after a check during the open: not when it left
     * corruption). Returns why they may not, or null. Expects the allocation lock.
     */
    private String settle(CheckReport r, String why) {
        if (r != null) {
            boolean corrupt = !readOnly && r.corruptions() > 0;
            why = corrupt ? unrepaired(r) : null;
            report = r;
            cleanable = r.checkErrors() == 0 && !corrupt;
        }
        if (why != null) {
            writes.refuseChanges(why);
        }
        return why;
    }

    /** Asks the deferred check to stop at its next table; returns at once (see {@link BackgroundCheck#stop}). */
    void stop() {
        if (deferred != null) {
            deferred.stop();
        }
    }

    /** True once a stop of the deferred check was asked for. */
    boolean stopping() {
        return deferred != null && deferred.stopRequested();
    }

    /** Stops the deferred check and waits for its end: a scan stops at its next table, a repair runs to its end. */
    void stopAndAwaitEnd() {
        if (deferred != null) {
            deferred.stop();
            deferred.awaitEnd();
        }
    }

    /** A hold that keeps the deferred check's repair from running under a read or lookup; nothing without one. */
    DeferredCheck.Permit permit() {
        return deferred == null ? DeferredCheck.NOTHING : deferred.shared();
    }

    /** Returns once no deferred check runs; throws when the tables may not change (it stopped, or left corruption). */
    void awaitEnd() throws IOException {
        if (deferred != null) {
            deferred.awaitFinished();
        }
    }

    /**
     * While the deferred check runs, writes {@code src} in place when that may go on during the check, and returns
     * true; otherwise waits for the check's end and returns false, having written nothing (the caller writes as
     * usual), or throws when the tables may not change. False at once when no check runs.
     */
    boolean writeWhileChecking(long pos, ByteBuffer src) throws IOException {
        if (!pending()) {
            return false;
        }
        if (deferred.tryWriteInPlace(pos, src)) {
            return true;
        }
        deferred.awaitFinished(); // it allocates, or it may not go in place yet: after the check
        return false;
    }
}
