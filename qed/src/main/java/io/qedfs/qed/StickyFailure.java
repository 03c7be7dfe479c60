package io.qedfs.qed;

import java.io.IOException;

/**
 * The first failure after which an open image may no longer hold what its callers were told it holds: a write
 * acknowledged and then lost, a failed fsync (the kernel may have dropped the pages it could not write, and
 * a later fsync would succeed without them, so it must fail too, as QEMU's does), or an Error (out of memory,
 * say) in the middle of a change. Once recorded it stays until the image is closed: every later write, fsync
 * and the close report it, and the image stays marked dirty for the next open's check.
 *
 * <p>Recording allocates nothing (it may run while the heap is exhausted); the exception a caller receives is
 * built on the caller's thread.
 */
final class StickyFailure {
    /** What went wrong, worded for "name: ... (cause); ...". */
    enum Kind {
        LOST_WRITE("a write acknowledged earlier could not be applied"),
        FAILED_SYNC("an fsync failed"),
        INTERNAL_ERROR("an internal error interrupted a change to the image");

        private final String text;

        Kind(String text) {
            this.text = text;
        }
    }

    private final String name;
    private Kind kind; // guarded by this; kind and cause are set once, together
    private volatile Throwable cause;

    StickyFailure(String name) {
        this.name = name;
    }

    /** Keeps {@code why} unless a failure was recorded before. */
    synchronized void record(Kind what, Throwable why) {
        if (cause == null) {
            kind = what;
            cause = why;
        }
    }

    boolean isSet() {
        return cause != null;
    }

    void throwIfSet() throws IOException {
        if (cause != null) {
            throw exception();
        }
    }

    /** The exception that reports the failure to a caller (call only when {@link #isSet}). */
    synchronized IOException exception() {
        Throwable why = cause;
        String detail = why instanceof IOException ? why.getMessage() : why.toString();
        return new IOException(name + ": " + kind.text + " (" + detail + "); the image may not hold everything"
                + " written since the last successful fsync, and stays marked for a check", why);
    }
}
