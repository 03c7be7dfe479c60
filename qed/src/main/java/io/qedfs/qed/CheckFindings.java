package io.qedfs.qed;

import java.util.ArrayList;
import java.util.List;

/**
 * What a consistency check's scan found, handed to its repair: the counters, the problems (at most
 * {@link CheckReport#MAX_PROBLEMS}, kept here and nowhere else), and what a repair is to change. Confined to the
 * thread that checks, which holds the allocation lock.
 */
final class CheckFindings {
    /** One L2 entry a repair changes: cleared ({@code cluster} 0), or given a copy of {@code cluster}. */
    record EntryFix(int l1Index, long table, long slot, long cluster, long guestCluster) {
    }

    private final List<CheckProblem> problems = new ArrayList<>();
    long allocated;
    long fragmented;
    long corruptions;
    long corruptionsFixed;
    long checkErrors;
    /** Leaked clusters: counted after the scan, lowered by what a repair reclaims. */
    long leaks;
    /** The file end the scan saw; a repair's copies go after it. */
    long fileSize;
    /** The clusters the scan found referenced (tables and data). */
    ClusterBitmap used;
    /** End of the last cluster a repair copies (past {@link #fileSize}), 0 if none. */
    long copiesEnd;
    /** L1 entries in memory a repair clears, and the file offsets of those beyond it that it zeroes. */
    final List<Integer> l1Clears = new ArrayList<>();
    final List<Long> unreachableL1Clears = new ArrayList<>();
    /** L2 entries a repair changes, in the order the scan met them (the copies are allocated in that order). */
    final List<EntryFix> entryFixes = new ArrayList<>();
    /** Leaked ranges, found after the scan (null when not counted: there were check errors). */
    List<ClusterRange> leaked;

    /** Notes {@code p}, unless the report is full; the counters are the caller's. */
    void problem(CheckProblem p) {
        if (problems.size() < CheckReport.MAX_PROBLEMS) {
            problems.add(p);
        }
    }

    /** A corruption, repaired or left. */
    void corruption(CheckProblem p, boolean repaired) {
        corruptions(1, p, repaired);
    }

    /** {@code n} corruptions, said in one problem. */
    void corruptions(long n, CheckProblem p, boolean repaired) {
        if (repaired) {
            corruptionsFixed += n;
        } else {
            corruptions += n;
        }
        problem(p);
    }

    /** A table that could not be read, or a repair that could not be written. */
    void checkError(CheckProblem p) {
        checkErrors++;
        problem(p);
    }

    List<CheckProblem> problems() {
        return List.copyOf(problems);
    }
}
