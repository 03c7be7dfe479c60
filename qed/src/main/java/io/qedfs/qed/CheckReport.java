package io.qedfs.qed;

import java.util.List;

/**
 * What a consistency check found (and, with repair, fixed). Counters have qemu-img check's meaning.
 *
 * @param totalClusters      clusters of guest space: ceil(image_size / cluster_size)
 * @param allocatedClusters  data clusters referenced by L2 tables
 * @param fragmentedClusters data clusters not directly after the previous entry's
 * @param corruptions        problems found and left (all of them without repair)
 * @param corruptionsFixed   invalid L1/L2 entries cleared, shared data clusters given copies
 * @param leaks              clusters inside the file that nothing references (left, without repair)
 * @param leaksFixed         leaked clusters reclaimed (file truncated or holes punched)
 * @param checkErrors        tables that could not be read
 * @param imageEndOffset     end of the last referenced cluster (the file's useful length)
 * @param problems           what was found and repaired, each naming table, entry and offset, in the order
 *                           found; the first {@link #MAX_PROBLEMS} only
 */
public record CheckReport(long totalClusters, long allocatedClusters, long fragmentedClusters, long corruptions,
                          long corruptionsFixed, long leaks, long leaksFixed, long checkErrors, long imageEndOffset,
                          List<CheckProblem> problems) {
    /** The most problems a report lists: the counters count them all, a damaged table can hold millions. */
    public static final int MAX_PROBLEMS = 1000;

    /**
     * The exit code {@code qemu-img check} would give.
     *
     * @return 0 clean, 1 check errors, 2 corruption, 3 leaks only
     */
    public int exitCode() {
        if (checkErrors > 0) {
            return 1;
        }
        if (corruptions > 0) {
            return 2;
        }
        return leaks > 0 ? 3 : 0;
    }

    /**
     * Tells whether the check found nothing to report.
     *
     * @return true without check errors, corruptions and leaks
     */
    public boolean isClean() {
        return exitCode() == 0;
    }
}
