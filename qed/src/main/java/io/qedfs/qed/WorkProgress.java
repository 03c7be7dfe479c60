package io.qedfs.qed;

/** Told how far a long operation (commit, rebase, compact) has come: {@code done} of {@code total} guest bytes. */
@FunctionalInterface
public interface WorkProgress {
    WorkProgress NONE = (done, total) -> { };

    void update(long done, long total);
}
