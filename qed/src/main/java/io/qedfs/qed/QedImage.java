package io.qedfs.qed;

import io.qedfs.qed.host.Buffers;
import io.qedfs.qed.host.FileIo;
import io.qedfs.qed.host.FileOpener;
import io.qedfs.qed.host.FileSyscalls;
import io.qedfs.qed.host.HostFile;
import io.qedfs.qed.host.ImageLocks;
import io.qedfs.qed.host.LibC;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * An open QED image: read and write guest bytes, flush, grow, map, check and repair it, then close it. Open one
 * with {@link #open}; make one with {@link QedTools#create}. Every failure is an {@link IOException} whose
 * message names the file and the problem.
 *
 * <p>Thread-safe: reads and writes of allocated clusters run in parallel with positional I/O; allocations are
 * serialised. Never interrupt a thread blocked in this class's I/O: an interrupt closes the underlying
 * FileChannel for every thread.
 */
public final class QedImage implements Closeable {
    private final Path path;
    private final String name;
    private final boolean readOnly;
    private final FileChannel channel;
    private final ImageLocks locks;
    private final HostFile host;
    private final ImageMetadata meta;
    private final Backing backing;
    private final String backingName;
    private final WritePath writes;
    private final WriteBehind behind; // null unless the options ask for it (read-write only)
    private final ImageMapper mapper;
    private final DataSeeker seeker;
    /** The open-time check's report: set during the open, or by the deferred check once it has run to its end. */
    private volatile CheckReport openCheck;
    /**
     * False when the image was opened dirty and not checked (yet: a deferred check sets it when it ends), or when
     * the open-time check could not read every table or left corruption: then NEED_CHECK must stay set, so that
     * the next open checks again.
     */
    private volatile boolean cleanable;
    /** The open-time check while it runs in the background, or null (see QedOpenOptions.deferCheck). */
    private final DeferredCheck deferred;
    /** The repair mode of the deferred check. */
    private final RepairMode deferredMode;
    private volatile boolean closed;

    /** Writes the background thread may hold (up to 8 MiB): deep enough to ride out host stalls. */
    private static final int WRITE_BEHIND_SLOTS = 8;

    /** Opens the image file; tests substitute a simulated disk, or a real file whose changes they record. */
    interface ChannelOpener {
        FileChannel open(Path path, boolean readOnly) throws IOException;

        /** The libc calls made on the image file (hole punching, space reservation). */
        default FileSyscalls syscalls() {
            return LibC.get();
        }
    }

    private QedImage(Path path, QedOpenOptions options, BackingChain.Context ctx, ChannelOpener opener) throws IOException {
        this.path = path;
        this.name = path.toString();
        this.readOnly = options.readOnly();
        this.channel = opener.open(path, readOnly);
        ImageLocks takenLocks = null;
        HostFile hostFile = null;
        Backing opened = null;
        L2Cache cache = null;
        try {
            hostFile = new HostFile(path, channel, !readOnly, opener.syscalls());
            takenLocks = options.lock() ? ImageLocks.acquire(hostFile, channel, readOnly, name) : null;
            long length = channel.size();
            QedHeader h = QedHeader.read(channel, name, length);
            HeaderValidator.validate(h, name, length);
            this.backingName = h.hasBackingFile() ? BackingChain.readName(channel, h, name) : null;
            opened = backingName == null ? null : BackingChain.open(path, backingName, h, ctx);
            if (!readOnly && h.autoclearFeatures() != 0) {
                // Unknown autoclear bits: a writer that does not know them must clear them, as QEMU does.
                FileIo.writeFully(channel, 0, h.withAutoclearFeatures(0).encode());
                channel.force(false);
                h = h.withAutoclearFeatures(0);
            }
            Geometry g = Geometry.of(h);
            cache = l2Cache(options.memory(), options.l2CacheBytes(), g);
            this.meta = new ImageMetadata(name, channel, hostFile, h, length, cache);
            this.host = hostFile;
            this.backing = opened;
            this.locks = takenLocks;
            this.writes = new WritePath(meta, opened, hostFile);
            this.mapper = new ImageMapper(meta, opened);
            this.seeker = new DataSeeker(meta, opened);
            boolean checkNow = checkOnOpen(options.check(), h);
            this.deferredMode = readOnly ? RepairMode.NONE : RepairMode.ALL;
            this.deferred = checkNow && options.deferCheck() ? new DeferredCheck(meta, DeferredCheck.PRE_IMAGE_BUDGET) : null;
            this.openCheck = checkNow && deferred == null ? runOpenCheck() : null;
            this.cleanable = openCheck != null ? openCheck.checkErrors() == 0 : !h.needsCheck() && deferred == null;
            this.behind = options.writeBehind() && !readOnly ? new WriteBehind(writes, meta, hostFile, writeBuffers(options.memory()),
                    WRITE_BEHIND_SLOTS) : null;
        } catch (IOException | RuntimeException | Error e) {
            if (cache != null) {
                cache.dropAll();
            }
            closeQuietly(opened);
            if (hostFile != null) {
                hostFile.close();
            }
            if (takenLocks != null) {
                takenLocks.close();
            }
            channel.close();
            throw e;
        }
    }

    /**
     * The image's L2 cache: on the shared budget, or on its own of {@code ownBytes}, 4 to 4096 slices (at the
     * defaults 256 tables, 512 GiB of guest space).
     */
    private static L2Cache l2Cache(MemoryBudget shared, long ownBytes, Geometry g) {
        if (shared != null) {
            return new L2Cache(shared.l2());
        }
        long slices = Math.max(4, Math.min(4096, ownBytes / g.sliceBytes));
        return new L2Cache(new L2Budget(slices * g.sliceBytes));
    }

    private static WriteBuffers writeBuffers(MemoryBudget shared) {
        return shared != null ? shared.writeBuffers() : new WriteBuffers(MemoryBudget.OWN_WRITE_BUFFERS);
    }

    /**
     * Opens an image and its backing chain. With {@code options.lock()}, the image takes QEMU's read or write
     * lock and every backing file QEMU's read lock (nobody may write it while this image is open). A read-write
     * open of an image marked dirty checks and repairs it first (see {@link QedOpenOptions#check}).
     *
     * @param path    the image file
     * @param options how to open it: {@link QedOpenOptions#readWrite()} or {@link QedOpenOptions#readOnlyOptions()}
     * @return the open image; close it to flush it and release its file and locks
     * @throws QedFormatException     when the file is not a valid QED image, or is corrupt beyond repair
     * @throws ImageLockedException   when a qedfs mount or a QEMU process has the image open
     * @throws BackingRefusedException when a backing file may not be opened (see {@link QedOpenOptions#trustBacking})
     * @throws IOException            when a file cannot be opened or read
     */
    public static QedImage open(Path path, QedOpenOptions options) throws IOException {
        return open(path, options, options.lock());
    }

    /** Opens an image without read-locking its backing files (a commit write-locks the one it writes). */
    static QedImage openUnlockedChain(Path path, QedOpenOptions options) throws IOException {
        return open(path, options, false);
    }

    /** Opens an image; its backing files are read-locked only when {@code lockChain}. */
    private static QedImage open(Path path, QedOpenOptions options, boolean lockChain) throws IOException {
        return new QedImage(path, options, new BackingChain.Context(List.of(path.toRealPath()), options.maxChainDepth(),
                lockChain, BackingTrust.forImage(path, options.trustBacking()), options.memory()), QedImage::openChannel);
    }

    /** Opens an image whose file is reached through {@code opener} (a simulated disk in tests). */
    static QedImage open(Path path, QedOpenOptions options, ChannelOpener opener) throws IOException {
        return new QedImage(path, options, new BackingChain.Context(List.of(path.toAbsolutePath()), options.maxChainDepth(),
                options.lock(), BackingTrust.forImage(path, options.trustBacking()), options.memory()), opener);
    }

    static QedImage openBacking(Path path, BackingChain.Context ctx) throws IOException {
        QedOpenOptions ro = new QedOpenOptions(true, QedOpenOptions.CheckPolicy.NEVER, ctx.lock(),
                QedOpenOptions.DEFAULT_L2_CACHE_BYTES / 4, ctx.maxDepth(), false).withMemory(ctx.memory());
        // ctx.trust() already holds this file's owner and whether the chain is trusted
        return new QedImage(path, ro, ctx, QedImage::openChannel);
    }

    /** Never blocks: a FIFO, a character device or a directory is refused, with the file named. */
    private static FileChannel openChannel(Path path, boolean readOnly) throws IOException {
        return FileOpener.open(path, !readOnly, path.toString());
    }

    private static boolean checkOnOpen(QedOpenOptions.CheckPolicy policy, QedHeader h) {
        return policy == QedOpenOptions.CheckPolicy.ALWAYS || (policy == QedOpenOptions.CheckPolicy.AUTO && h.needsCheck());
    }

    private CheckReport runOpenCheck() throws IOException {
        CheckReport report = check(readOnly ? RepairMode.NONE : RepairMode.ALL);
        if (!readOnly && report.corruptions() > 0) {
            throw new QedFormatException(name + ": the image is corrupt and could not be repaired: "
                    + report.corruptions() + " corruptions remain (see check)");
        }
        return report;
    }

    /**
     * What the open-time check found and fixed.
     *
     * @return its report, or empty when no check ran at the open (or a deferred one has not run to its end)
     */
    public Optional<CheckReport> openCheckReport() {
        return Optional.ofNullable(openCheck);
    }

    /**
     * Tells whether the open-time check deferred by {@link QedOpenOptions#deferCheck} has yet to end: reads and
     * writes into allocated clusters are served meanwhile, and everything that changes tables waits for it.
     *
     * @return true while the deferred check has not ended
     */
    public boolean checkPending() {
        return deferred != null && !deferred.isFinished();
    }

    /**
     * Runs the deferred open-time check on the calling thread: the scan, with reads and in-place writes going on,
     * then, read-write, the repair, with them paused. A read-write check that leaves corruption behind returns its
     * report, and every later change to the tables fails as the open would have.
     *
     * @param progress hears of each L2 table checked; it may block (a test's)
     * @return the report, or empty when the check was stopped before its repair (the image stays marked for a
     *         check; from then on every change to its tables fails), ran already or was not deferred
     * @throws IOException when the image cannot be read or repaired
     */
    public Optional<CheckReport> runDeferredCheck(ProgressListener progress) throws IOException {
        if (deferred == null) {
            return Optional.empty();
        }
        try (Allocator.Held locked = meta.allocator.hold()) {
            return Optional.ofNullable(deferred.run(new ConsistencyCheck(meta, host, deferredMode, progress), this::settleCheck));
        }
    }

    /**
     * The deferred check has ended, with {@code report} or (null) without one because of {@code why}: whether the
     * image may be marked clean, and whether its tables may change (as after a check during the open: not when it
     * left corruption). Returns why they may not, or null. Expects the allocation lock.
     */
    private String settleCheck(CheckReport report, String why) {
        if (report != null) {
            boolean corrupt = !readOnly && report.corruptions() > 0;
            why = corrupt ? name + ": the image is corrupt and could not be repaired: " + report.corruptions()
                    + " corruptions remain (see check)" : null;
            openCheck = report;
            cleanable = report.checkErrors() == 0 && !corrupt;
        }
        if (why != null) {
            writes.refuseChanges(why);
        }
        return why;
    }

    /**
     * Asks the deferred check to stop at its next table (one not begun yet never runs); returns at once. Nothing is
     * repaired then, the image stays marked for a check, and changes to its tables fail from then on.
     */
    public void stopDeferredCheck() {
        if (deferred != null) {
            deferred.stop();
        }
    }

    /**
     * Tells whether {@link #stopDeferredCheck} was called: a progress listener that blocks must give way then.
     *
     * @return true once a stop of the deferred check was asked for
     */
    public boolean deferredCheckStopping() {
        return deferred != null && deferred.stopRequested();
    }

    /** A hold that keeps the deferred check's repair from running under a read or lookup; nothing without one. */
    private DeferredCheck.Permit checkPermit() {
        return deferred == null ? DeferredCheck.NOTHING : deferred.shared();
    }

    /** Returns once no deferred check runs; throws when the tables may not change (it stopped, or left corruption). */
    private void awaitCheck() throws IOException {
        if (deferred != null) {
            deferred.awaitFinished();
        }
    }

    /**
     * The image file.
     *
     * @return the path the image was opened by
     */
    public Path path() {
        return path;
    }

    /**
     * Tells whether the image was opened read-only.
     *
     * @return true when writes are refused with {@link ReadOnlyImageException}
     */
    public boolean isReadOnly() {
        return readOnly;
    }

    /**
     * The guest-visible size.
     *
     * @return the virtual size in bytes
     */
    public long size() {
        return meta.header().imageSize();
    }

    /**
     * The cluster size: the unit in which the image allocates.
     *
     * @return bytes per cluster, a power of two from 4 KiB to 64 MiB
     */
    public int clusterSize() {
        return meta.geometry.clusterSize;
    }

    /**
     * The table size: how many clusters one L1 or L2 table takes.
     *
     * @return clusters per table, a power of two from 1 to 16
     */
    public int tableSize() {
        return meta.geometry.tableSize;
    }

    QedHeader header() {
        return meta.header();
    }

    /**
     * Tells whether the image is marked for a check (NEED_CHECK): from its first table change until it is marked
     * clean again, and from the open of an image left dirty until its check has repaired it.
     *
     * @return true while a crash now would need a check
     */
    public boolean needsCheck() {
        return meta.header().needsCheck();
    }

    /**
     * The backing file's name as stored in the header (relative names are relative to the image's directory).
     *
     * @return the name, or null without backing file
     */
    public String backingFileName() {
        return backingName;
    }

    /**
     * Owner, group, mode and times of the image file this image has open (the same file even when its name has
     * been removed since, as a temporary overlay's is).
     *
     * @return the file's status
     * @throws IOException when it cannot be read
     */
    public FileStatus fileStatus() throws IOException {
        return host.status(path);
    }

    /**
     * The files of the backing chain as opened (relative names resolved), nearest first.
     *
     * @return the chain; empty without backing file
     */
    public List<Path> backingFiles() {
        return backing == null ? List.of() : backing.files();
    }

    /**
     * The format of the backing file.
     *
     * @return "raw" or "qed" (probed unless the header records it), or null without backing file
     */
    public String backingFormat() {
        return backing == null ? null : backing.format();
    }

    /**
     * Reads guest bytes. Unallocated clusters read from the backing chain, or as zeroes without one.
     *
     * @param pos guest offset
     * @param dst receives {@code dst.remaining()} bytes; its position ends at its limit
     * @throws OutOfRangeException when the range reaches past {@link #size()}
     * @throws IOException         when the image or a backing file cannot be read
     */
    public void read(long pos, ByteBuffer dst) throws IOException {
        checkRange(pos, dst.remaining());
        if (behind != null) {
            behind.awaitOverlapping(pos, dst.remaining()); // only queued writes into this range come first
        }
        try (DeferredCheck.Permit p = checkPermit()) {
            readRuns(pos, dst);
        }
    }

    private void readRuns(long pos, ByteBuffer dst) throws IOException {
        long at = pos;
        while (dst.hasRemaining()) {
            Run run = meta.lookup(at, dst.remaining());
            int n = (int) run.length(); // fits: at most dst.remaining()
            // the common case, one run for the whole request, needs no slice
            ByteBuffer piece = n == dst.remaining() ? dst : dst.slice(dst.position(), n);
            int start = dst.position();
            switch (run.kind()) {
                case DATA -> FileIo.readFully(channel, run.fileOffset(), piece, name);
                case ZERO -> Buffers.fillZeros(piece, n);
                case UNALLOCATED -> {
                    if (backing != null) {
                        backing.read(at, piece);
                    } else {
                        Buffers.fillZeros(piece, n);
                    }
                }
            }
            dst.position(start + n);
            at += n;
        }
    }

    /**
     * Writes guest bytes, allocating clusters as needed.
     *
     * @param pos guest offset
     * @param src supplies {@code src.remaining()} bytes; its position ends at its limit
     * @throws ReadOnlyImageException when the image is open read-only
     * @throws OutOfRangeException    when the range reaches past {@link #size()}
     * @throws IOException            when the write fails (the host file system is full, say), or an earlier failure
     *                                left the image unable to take writes
     */
    public void write(long pos, ByteBuffer src) throws IOException {
        writeMayKeep(pos, src, null);
    }

    /**
     * As {@link #write}, but the image may keep {@code src} itself to apply later instead of copying it (only
     * with {@link QedOpenOptions#writeBehind}).
     *
     * @param pos      guest offset
     * @param src      supplies {@code src.remaining()} bytes
     * @param giveBack run on another thread once a kept buffer's bytes are applied; null never lets the image
     *                 keep the buffer
     * @return true when the image kept {@code src}: the caller must not change its bytes until {@code giveBack}
     *         has run; false when the bytes were consumed during the call and the buffer is the caller's again
     * @throws IOException as {@link #write} does
     */
    public boolean writeMayKeep(long pos, ByteBuffer src, Runnable giveBack) throws IOException {
        checkWritable();
        checkRange(pos, src.remaining());
        meta.failure.throwIfSet();
        try {
            if (deferred != null && !deferred.isFinished()) {
                if (deferred.tryWriteInPlace(pos, src)) {
                    return false;
                }
                deferred.awaitFinished(); // it allocates, or it may not go in place yet: after the check
            }
            if (behind == null) {
                writes.write(pos, src);
                return false;
            }
            Run seen = null; // the range's first run, as the attempt to write in place saw it
            if (src.remaining() <= WriteBehind.MAX_WRITE) {
                // in place, and then any failure is the caller's, unless it must come after a queued write
                if (!behind.overlapsQueued(pos, src.remaining())) {
                    seen = writes.writeInPlace(pos, src);
                    if (seen == null) {
                        return false;
                    }
                }
                if (behind.trySubmit(pos, src, giveBack)) {
                    return giveBack != null;
                }
            }
            try (WriteBehind.Exclusive nothingQueued = behind.exclusive()) {
                writes.write(pos, src, seen);
            }
            return false;
        } catch (Error e) {
            throw broken(e);
        }
    }

    /** An Error in the middle of a change: the image may be left half-changed, so the failure is sticky. */
    private Error broken(Error e) {
        meta.failure.record(StickyFailure.Kind.INTERNAL_ERROR, e);
        return e;
    }

    /**
     * Runs {@code change} with no queued write pending and none accepted meanwhile (see
     * {@link WriteBehind#exclusive}); an Error in it is sticky.
     */
    private <T> T exclusively(Change<T> change) throws IOException {
        try {
            if (behind == null) {
                return change.run();
            }
            try (WriteBehind.Exclusive nothingQueued = behind.exclusive()) {
                return change.run();
            }
        } catch (Error e) {
            throw broken(e);
        }
    }

    @FunctionalInterface
    private interface Change<T> {
        T run() throws IOException;
    }

    /** Lets the writes queued before this call reach the file first, so that what follows sees them. */
    private void awaitQueuedWrites() throws IOException {
        if (behind != null) {
            behind.awaitSubmitted();
        }
    }

    /**
     * Makes a range read as zeroes; whole clusters store nothing (zero clusters or host-file holes).
     *
     * @param pos guest offset
     * @param len bytes
     * @throws ReadOnlyImageException when the image is open read-only
     * @throws OutOfRangeException    when the range reaches past {@link #size()}
     * @throws IOException            when the image cannot be written
     */
    public void writeZeroes(long pos, long len) throws IOException {
        checkWritable();
        checkRange(pos, len);
        awaitCheck();
        exclusively(() -> {
            writes.writeZeroes(pos, len);
            return null;
        });
    }

    /**
     * Discards a range: it reads as zeroes afterwards, and its whole clusters give their space back.
     *
     * @param pos guest offset
     * @param len bytes
     * @throws IOException as {@link #writeZeroes} does
     */
    public void discard(long pos, long len) throws IOException {
        writeZeroes(pos, len);
    }

    /**
     * Makes every write completed before the call durable: it waits for the queued ones among them, not for
     * writes submitted later. A write into a cluster that another write allocates can only complete once the
     * cluster's table entries are in the file, so the sync covers them too.
     *
     * @throws IOException when the sync fails; it keeps failing from then on, since anything written may be lost
     */
    public void flush() throws IOException {
        if (!readOnly) {
            awaitQueuedWrites();
            meta.failure.throwIfSet();
            meta.sync();
        }
    }

    /**
     * Flushes and clears NEED_CHECK: a crash from now until the next table change needs no check. An image that
     * was opened dirty and not checked, or whose writes failed, stays marked and this does nothing (its flushes
     * and its close report a failure).
     *
     * @throws IOException when the flush or the header write fails
     */
    public void markClean() throws IOException {
        if (!readOnly && cleanable && !meta.failure.isSet()) {
            awaitQueuedWrites();
            meta.failure.throwIfSet();
            writes.markClean();
        }
    }

    /**
     * When the tables last changed, for a caller that marks an idle image clean.
     *
     * @return {@link System#nanoTime()} of the last metadata change, 0 if none since the open
     */
    public long lastAllocationNanos() {
        return writes.lastAllocationNanos();
    }

    /**
     * Grows the image. Where the backing file reaches into the grown range, the range is zeroed so that the
     * guest does not see stale backing data.
     *
     * @param newSize the new guest size in bytes, rounded up to a multiple of 512
     * @throws IllegalArgumentException when {@code newSize} is smaller than {@link #size()} or too large
     * @throws ReadOnlyImageException   when the image is open read-only
     * @throws IOException              when the image cannot be written
     */
    public void resize(long newSize) throws IOException {
        checkWritable();
        awaitCheck();
        exclusively(() -> {
            ImageResizer.resize(engine(), newSize);
            return null;
        });
    }

    /**
     * Runs the consistency check, as {@code qemu-img check} does.
     *
     * @param mode {@link RepairMode#NONE} only reports; the others also fix what they can
     * @return what the check found and fixed
     * @throws ReadOnlyImageException when a repair is asked of an image open read-only
     * @throws IOException            when the image cannot be read or repaired
     */
    public CheckReport check(RepairMode mode) throws IOException {
        return check(mode, ProgressListener.NONE);
    }

    /**
     * As {@link #check(RepairMode)}, telling {@code progress} how far it has got.
     *
     * @param mode     {@link RepairMode#NONE} only reports; the others also fix what they can
     * @param progress hears how many of the image's L2 tables have been checked
     * @return what the check found and fixed
     * @throws IOException as {@link #check(RepairMode)} does
     */
    public CheckReport check(RepairMode mode, ProgressListener progress) throws IOException {
        if (mode != RepairMode.NONE) {
            checkWritable();
        }
        return exclusively(() -> {
            try (Allocator.Held locked = meta.allocator.hold()) {
                return new ConsistencyCheck(meta, host, mode, progress).run();
            }
        });
    }

    /**
     * The map of the whole image, as {@code qemu-img map} prints it.
     *
     * @return the extents, ascending, covering {@code [0, size())}
     * @throws IOException when the image or a backing file cannot be read
     */
    public List<Extent> map() throws IOException {
        if (size() == 0) {
            return List.of(new Extent(0, 0, 0, false, false, false, -1)); // what qemu-img map prints
        }
        awaitQueuedWrites();
        try (DeferredCheck.Permit p = checkPermit()) {
            return mapper.map(0, size(), 0);
        }
    }

    /**
     * SEEK_DATA: finds data stored by this image or by its backing chain beneath an unallocated cluster. Whole
     * clusters count, so a hole always reads as zeroes. Queued writes are applied first: they count as data.
     *
     * @param pos where the search starts
     * @param end where it ends; clipped to {@link #size()}
     * @return the first guest offset in {@code [pos, end)} that holds data, or -1 when the range is all holes
     * @throws IOException when the image or a backing file cannot be read
     */
    public long nextData(long pos, long end) throws IOException {
        long limit = seekLimit(pos, end);
        awaitQueuedWrites();
        try (DeferredCheck.Permit p = checkPermit()) {
            return pos >= limit ? -1 : seeker.nextData(pos, limit);
        }
    }

    /**
     * SEEK_HOLE: finds the next hole; the image's end counts as one. Queued writes are applied first.
     *
     * @param pos where the search starts
     * @param end where it ends; clipped to {@link #size()}
     * @return the first guest offset in {@code [pos, end)} that is a hole, else {@code end} as clipped, or
     *         {@code pos} itself when it lies at or past that end
     * @throws IOException when the image or a backing file cannot be read
     */
    public long nextHole(long pos, long end) throws IOException {
        long limit = seekLimit(pos, end);
        awaitQueuedWrites();
        try (DeferredCheck.Permit p = checkPermit()) {
            return pos >= limit ? pos : seeker.nextHole(pos, limit);
        }
    }

    private long seekLimit(long pos, long end) {
        if (pos < 0 || end < pos) {
            throw new IllegalArgumentException(name + ": no range [" + pos + ", " + end + ")");
        }
        return Math.min(end, size());
    }

    /** The engine behind this facade, for the tools that change a whole image (commit, rebase, resize). */
    ImageEngine engine() {
        return new ImageEngine(this, meta, writes, backing);
    }

    ImageMapper mapper() {
        return mapper;
    }

    /**
     * How much guest data the image itself stores.
     *
     * @return bytes of the data clusters this image holds (not its backing files)
     * @throws IOException when the tables cannot be read
     */
    public long allocatedDataBytes() throws IOException {
        awaitQueuedWrites();
        try (DeferredCheck.Permit p = checkPermit()) {
            return mapper.allocatedDataBytes();
        }
    }

    /**
     * How much of a guest range the image itself stores.
     *
     * @param pos guest offset
     * @param len bytes
     * @return bytes of {@code [pos, pos+len)} held as data clusters by this image (not its backing files)
     * @throws IOException when the tables cannot be read
     */
    public long allocatedDataBytes(long pos, long len) throws IOException {
        try (DeferredCheck.Permit p = checkPermit()) {
            return mapper.allocatedDataBytes(pos, len);
        }
    }

    /**
     * The space the image file takes on the host.
     *
     * @return bytes the file occupies on the host file system (holes not counted)
     * @throws IOException when the file's status cannot be read
     */
    public long hostAllocatedBytes() throws IOException {
        return host.allocatedBytes();
    }

    /** Length of the image file. */
    long fileLength() throws IOException {
        return channel.size();
    }

    private void checkRange(long pos, long len) throws OutOfRangeException {
        long size = size();
        if (pos < 0 || len < 0 || pos > size || len > size - pos) {
            throw new OutOfRangeException(String.format("%s: request at 0x%x of %d bytes lies past the image end 0x%x",
                    name, pos, len, size));
        }
    }

    private void checkWritable() throws IOException {
        if (readOnly) {
            throw new ReadOnlyImageException(name + ": image is open read-only");
        }
        if (closed) {
            throw new IOException(name + ": image is closed");
        }
    }

    /**
     * Flushes, marks the image clean (read-write) and releases the file, its locks and the backing chain. After a
     * failed write or sync the image is flushed as far as it goes but stays marked for a check, and the failure is
     * thrown once everything is released. A second close does nothing.
     *
     * @throws IOException when the flush fails, or a write failed earlier
     */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        if (deferred != null) {
            deferred.stop();
            deferred.awaitEnd(); // a scan stops at its next table; a repair that has begun runs to its end
        }
        if (behind != null) {
            behind.close(); // applies what is queued; never waits for a writer thread that has ended
        }
        IOException failed = meta.failure.isSet() ? meta.failure.exception() : null;
        try {
            if (!readOnly && cleanable && failed == null) {
                writes.markClean();
            } else if (!readOnly) {
                meta.sync();
            }
        } catch (IOException e) {
            if (failed == null) {
                throw e;
            }
            failed.addSuppressed(e);
        } finally {
            host.close();
            if (locks != null) {
                locks.close();
            }
            channel.close();
            closeQuietly(backing);
            meta.l2Cache.dropAll(); // gives its slices back to a shared budget at once
        }
        if (failed != null) {
            throw failed;
        }
    }

    private static void closeQuietly(Closeable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (IOException e) {
            // best effort: a read-only backing file has nothing to lose
        }
    }
}
