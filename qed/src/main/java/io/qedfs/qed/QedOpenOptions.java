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
 *                     and the caller runs the check with {@link QedImage#runDeferredCheck} (on a thread of its
 *                     own); until it has finished, changes to tables wait for it (see QedImage)
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

    public static final long DEFAULT_L2_CACHE_BYTES = 64L << 20;
    public static final int DEFAULT_MAX_CHAIN_DEPTH = 32;

    /** Options that check backing files (not {@link #trustBacking}) and run the open-time check during the open. */
    public QedOpenOptions(boolean readOnly, CheckPolicy check, boolean lock, long l2CacheBytes, int maxChainDepth,
            boolean writeBehind) {
        this(readOnly, check, lock, l2CacheBytes, maxChainDepth, writeBehind, false, false, null);
    }

    /** Options that run the open-time check during the open. */
    public QedOpenOptions(boolean readOnly, CheckPolicy check, boolean lock, long l2CacheBytes, int maxChainDepth,
            boolean writeBehind, boolean trustBacking) {
        this(readOnly, check, lock, l2CacheBytes, maxChainDepth, writeBehind, trustBacking, false, null);
    }

    public static QedOpenOptions readWrite() {
        return new QedOpenOptions(false, CheckPolicy.AUTO, true, DEFAULT_L2_CACHE_BYTES, DEFAULT_MAX_CHAIN_DEPTH, false);
    }

    public static QedOpenOptions readOnlyOptions() {
        return new QedOpenOptions(true, CheckPolicy.NEVER, true, DEFAULT_L2_CACHE_BYTES, DEFAULT_MAX_CHAIN_DEPTH, false);
    }

    public QedOpenOptions withCheck(CheckPolicy policy) {
        return new QedOpenOptions(readOnly, policy, lock, l2CacheBytes, maxChainDepth, writeBehind, trustBacking, deferCheck, memory);
    }

    public QedOpenOptions withLock(boolean useLock) {
        return new QedOpenOptions(readOnly, check, useLock, l2CacheBytes, maxChainDepth, writeBehind, trustBacking, deferCheck, memory);
    }

    public QedOpenOptions withL2CacheBytes(long bytes) {
        return new QedOpenOptions(readOnly, check, lock, bytes, maxChainDepth, writeBehind, trustBacking, deferCheck, memory);
    }

    public QedOpenOptions withWriteBehind(boolean on) {
        return new QedOpenOptions(readOnly, check, lock, l2CacheBytes, maxChainDepth, on, trustBacking, deferCheck, memory);
    }

    public QedOpenOptions withTrustBacking(boolean trust) {
        return new QedOpenOptions(readOnly, check, lock, l2CacheBytes, maxChainDepth, writeBehind, trust, deferCheck, memory);
    }

    public QedOpenOptions withDeferredCheck(boolean defer) {
        return new QedOpenOptions(readOnly, check, lock, l2CacheBytes, maxChainDepth, writeBehind, trustBacking, defer, memory);
    }

    /** Draws the L2 cache and write-behind buffers from {@code budget}, shared with every image opened with it. */
    public QedOpenOptions withMemory(MemoryBudget budget) {
        return new QedOpenOptions(readOnly, check, lock, l2CacheBytes, maxChainDepth, writeBehind, trustBacking, deferCheck, budget);
    }
}
