package io.qedfs.qed;

/** Told how far long work has got, so that a command line can show it; called on the working thread. */
@FunctionalInterface
public interface ProgressListener {
    /** Nothing to tell anyone. */
    ProgressListener NONE = (done, total) -> {
    };

    /** {@code done} of {@code total} units (tables, bytes: the caller's choice) are finished. */
    void progress(long done, long total);
}
