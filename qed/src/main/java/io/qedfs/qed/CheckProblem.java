package io.qedfs.qed;

/**
 * One thing a consistency check found or did, naming the table, entry and offset; {@link #message()} says it in
 * one line. A {@link CheckReport} holds at most {@link CheckReport#MAX_PROBLEMS} of them.
 */
public sealed interface CheckProblem {
    /**
     * Says the problem.
     *
     * @return the problem in one line, as {@code qedfs check} prints it
     */
    String message();

    /** The L1 table's clusters overlap one another (its offset is inside the file, but its size wraps). */
    record L1TableOverlap(long l1Offset) implements CheckProblem {
        @Override
        public String message() {
            return String.format("L1 table at 0x%x overlaps itself", l1Offset);
        }
    }

    /** An L1 entry that is not a valid L2 table offset; a repair clears it. */
    record InvalidL2TableOffset(int l1Index, long tableOffset, long fileEnd, boolean repaired) implements CheckProblem {
        @Override
        public String message() {
            return repairedPrefix(repaired) + String.format("L1 entry %d: L2 table offset 0x%x is invalid (file end 0x%x)",
                    l1Index, tableOffset, fileEnd);
        }
    }

    /** An L2 table whose clusters belong to the L1 table or to another L2 table; a repair clears its L1 entry. */
    record OverlappingL2Table(int l1Index, long tableOffset, boolean repaired) implements CheckProblem {
        @Override
        public String message() {
            return repairedPrefix(repaired) + String.format(
                    "L1 entry %d: L2 table at 0x%x overlaps the L1 table or another L2 table", l1Index, tableOffset);
        }
    }

    /** An L2 entry that is not a valid cluster offset ({@code why}: how); a repair clears it. */
    record InvalidClusterOffset(long tableOffset, int index, long guestOffset, long clusterOffset, String why,
                                boolean repaired) implements CheckProblem {
        @Override
        public String message() {
            return repairedPrefix(repaired) + String.format("L2 table 0x%x entry %d (guest 0x%x): cluster offset 0x%x is invalid (%s)",
                    tableOffset, index, guestOffset, clusterOffset, why);
        }
    }

    /** A data cluster referenced by an earlier entry too; a repair gives this reference a copy of its own. */
    record SharedCluster(long tableOffset, int index, long guestOffset, long clusterOffset, boolean repaired)
            implements CheckProblem {
        @Override
        public String message() {
            return repairedPrefix(repaired) + String.format("L2 table 0x%x entry %d (guest 0x%x): cluster 0x%x is referenced twice",
                    tableOffset, index, guestOffset, clusterOffset) + (repaired ? "; this reference now has a copy of its own" : "");
        }
    }

    /** Part of the L1 table past the reachable entries could not be read (a check error). */
    record UnreadableL1Table(long l1Offset, long at, String error) implements CheckProblem {
        @Override
        public String message() {
            return String.format("L1 table at 0x%x: cannot read it at 0x%x: %s", l1Offset, at, error);
        }
    }

    /** An L2 table could not be read (a check error). */
    record UnreadableL2Table(int l1Index, long tableOffset, String error) implements CheckProblem {
        @Override
        public String message() {
            return String.format("L1 entry %d: cannot read L2 table at 0x%x: %s", l1Index, tableOffset, error);
        }
    }

    /** A repair of the L1 table past the reachable entries could not be written (a check error). */
    record UnwritableL1Repair(long at, String error) implements CheckProblem {
        @Override
        public String message() {
            return String.format("L1 table: the repair could not be written at 0x%x: %s", at, error);
        }
    }

    /** A repair of an L2 table could not be written (a check error). */
    record UnwritableL2Repair(long tableOffset, String error) implements CheckProblem {
        @Override
        public String message() {
            return String.format("L2 table at 0x%x: the repair could not be written: %s", tableOffset, error);
        }
    }

    /** Clusters inside the file that nothing references, left (no repair). */
    record Leaks(long clusters, long bytes, int ranges) implements CheckProblem {
        @Override
        public String message() {
            return String.format("%d leaked clusters (%d bytes) in %d ranges", clusters, bytes, ranges);
        }
    }

    /** Leaked clusters inside the file a repair made a hole of. */
    record LeaksPunched(long clusters, long offset) implements CheckProblem {
        @Override
        public String message() {
            return String.format("repaired: %d leaked clusters at 0x%x returned to the host file system", clusters, offset);
        }
    }

    /** Leaked clusters at the end of the file a repair cut off. */
    record LeaksTruncated(long clusters, long newFileEnd) implements CheckProblem {
        @Override
        public String message() {
            return String.format("repaired: %d leaked clusters at the end; file truncated to 0x%x", clusters, newFileEnd);
        }
    }

    private static String repairedPrefix(boolean repaired) {
        return repaired ? "repaired: " : "";
    }
}
