package io.qedfs.qed;

/**
 * Told how far long work (a check, commit, rebase or compaction) has got, so that a command line can show it;
 * called on the working thread.
 */
@FunctionalInterface
public interface ProgressListener {
    /** Nothing to tell anyone. */
    ProgressListener NONE = (done, total) -> {
    };

    /**
     * Reports progress.
     *
     * @param done  the units finished so far: L2 tables for a check, guest bytes for the other work
     * @param total the units in all
     */
    void progress(long done, long total);
}
