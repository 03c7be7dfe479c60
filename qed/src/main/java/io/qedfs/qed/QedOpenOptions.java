package io.qedfs.qed;

/**
 * How to open an image.
 *
 * @param readOnly    open without write access; the image is never modified
 * @param check       when to run the consistency check on open; read-write opens repair, read-only opens report
 * @param lock        take QEMU-compatible byte-range locks (a second writer, qedfs or QEMU, is refused)
 * @param l2CacheBytes memory budget for cached L2 tables (at least a few tables are always kept)
 * @param maxChainDepth longest backing chain accepted
 * @param writeBehind  acknowledge writes of up to 1 MiB that allocate once copied, and apply them on a
 *                     background thread (durable at the next flush, like the page cache); for the mount
 * @param trustBacking open every backing file the chain names, whoever owns it, and block devices too; otherwise
 *                     a backing file must be a regular file that the owners of the files above it could read
 * @param deferCheck   open without running the open-time check the policy asks for: the image is served at once
 *                     and the caller runs the check with {@link QedImage#backgroundCheck} (on a thread of its
 *                     own); until it has finished, changes to tables wait for it (see {@link BackgroundCheck})
 * @param memory       the L2 cache and write-behind buffers this image shares with others opened with the same
 *                     budget (its backing files included); null: its own, of {@code l2CacheBytes} and 8 MiB
 */
public record QedOpenOptions(boolean readOnly, CheckPolicy check, boolean lock, long l2CacheBytes, int maxChainDepth,
        boolean writeBehind, boolean trustBacking, boolean deferCheck, MemoryBudget memory) {
    /** When the open-time check runs. */
    public enum CheckPolicy {
        /** When the image is marked NEED_CHECK: read-write opens repair, read-only opens only report. */
        AUTO,
        /** On every open. */
        ALWAYS,
        /** Never; a dirty read-only image is served as it is. */
        NEVER
    }

    /** The L2 cache of an image opened without a {@link MemoryBudget}: 64 MiB. */
    public static final long DEFAULT_L2_CACHE_BYTES = 64L << 20;
    /** The longest backing chain accepted by default: 32 files. */
    public static final int DEFAULT_MAX_CHAIN_DEPTH = 32;

    /** Options that check backing files (not {@link #trustBacking}) and run the open-time check during the open. */
    QedOpenOptions(boolean readOnly, CheckPolicy check, boolean lock, long l2CacheBytes, int maxChainDepth,
            boolean writeBehind) {
        this(readOnly, check, lock, l2CacheBytes, maxChainDepth, writeBehind, false, false, null);
    }

    /**
     * The options for changing an image: locked, checked and repaired at the open when marked dirty, backing
     * files checked, no write-behind, its own memory.
     *
     * @return the read-write defaults
     */
    public static QedOpenOptions readWrite() {
        return new QedOpenOptions(false, CheckPolicy.AUTO, true, DEFAULT_L2_CACHE_BYTES, DEFAULT_MAX_CHAIN_DEPTH, false);
    }

    /**
     * The options for reading an image: locked against writers, not checked, backing files checked.
     *
     * @return the read-only defaults
     */
    public static QedOpenOptions readOnlyOptions() {
        return new QedOpenOptions(true, CheckPolicy.NEVER, true, DEFAULT_L2_CACHE_BYTES, DEFAULT_MAX_CHAIN_DEPTH, false);
    }

    /**
     * Sets when the open-time check runs.
     *
     * @param policy when the check runs
     * @return these options with {@code check} replaced
     */
    public QedOpenOptions withCheck(CheckPolicy policy) {
        return new QedOpenOptions(readOnly, policy, lock, l2CacheBytes, maxChainDepth, writeBehind, trustBacking, deferCheck, memory);
    }

    /**
     * Sets whether QEMU's locks are taken.
     *
     * @param useLock take them
     * @return these options with {@code lock} replaced
     */
    public QedOpenOptions withLock(boolean useLock) {
        return new QedOpenOptions(readOnly, check, useLock, l2CacheBytes, maxChainDepth, writeBehind, trustBacking, deferCheck, memory);
    }

    /**
     * Sets the image's own L2 cache size (ignored with a {@link MemoryBudget}).
     *
     * @param bytes the cache's budget
     * @return these options with {@code l2CacheBytes} replaced
     */
    public QedOpenOptions withL2CacheBytes(long bytes) {
        return new QedOpenOptions(readOnly, check, lock, bytes, maxChainDepth, writeBehind, trustBacking, deferCheck, memory);
    }

    /**
     * Sets whether small allocating writes are queued (see {@link #writeBehind}).
     *
     * @param on queue them
     * @return these options with {@code writeBehind} replaced
     */
    public QedOpenOptions withWriteBehind(boolean on) {
        return new QedOpenOptions(readOnly, check, lock, l2CacheBytes, maxChainDepth, on, trustBacking, deferCheck, memory);
    }

    /**
     * Sets whether backing files are opened whoever owns them (see {@link #trustBacking}).
     *
     * @param trust open them unchecked
     * @return these options with {@code trustBacking} replaced
     */
    public QedOpenOptions withTrustBacking(boolean trust) {
        return new QedOpenOptions(readOnly, check, lock, l2CacheBytes, maxChainDepth, writeBehind, trust, deferCheck, memory);
    }

    /**
     * Sets whether the open-time check is left to {@link QedImage#backgroundCheck} (see {@link #deferCheck}).
     *
     * @param defer leave it to the caller
     * @return these options with {@code deferCheck} replaced
     */
    public QedOpenOptions withDeferredCheck(boolean defer) {
        return new QedOpenOptions(readOnly, check, lock, l2CacheBytes, maxChainDepth, writeBehind, trustBacking, defer, memory);
    }

    /**
     * Draws the L2 cache and write-behind buffers from a budget shared with every image opened with it.
     *
     * @param budget the shared budget, or null for the image's own
     * @return these options with {@code memory} replaced
     */
    public QedOpenOptions withMemory(MemoryBudget budget) {
        return new QedOpenOptions(readOnly, check, lock, l2CacheBytes, maxChainDepth, writeBehind, trustBacking, deferCheck, budget);
    }
}
