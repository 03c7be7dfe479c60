package io.qedfs.qed;

import io.qedfs.qed.host.FileOpener;
import io.qedfs.qed.host.FileSyscalls;
import io.qedfs.qed.host.HostFile;
import io.qedfs.qed.host.LibC;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.time.Duration;
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
    private final OpenedFile file;
    private final HostFile host;
    private final ImageMetadata meta;
    private final Backing backing; // null without backing file
    private final ReadPath reads;
    private final WritePath writes;
    private final WriteRouter router;
    private final ImageMapper mapper;
    private final DataSeeker seeker;
    private final OpenCheck openCheck;
    private volatile boolean closed;

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
        this.file = OpenedFile.open(path, options, ctx, opener);
        this.host = file.host();
        this.backing = file.backing();
        L2Cache cache = null;
        try {
            QedHeader h = file.header();
            cache = l2Cache(options.memory(), options.l2CacheBytes(), Geometry.of(h));
            this.meta = new ImageMetadata(name, file.channel(), host, h, file.length(), cache);
            this.reads = new ReadPath(meta, backing);
            this.writes = new WritePath(meta, backing, host);
            this.mapper = new ImageMapper(meta, backing);
            this.seeker = new DataSeeker(meta, backing);
            this.openCheck = new OpenCheck(options, h, meta, host, writes);
            this.router = new WriteRouter(options, meta, host, writes, openCheck);
        } catch (IOException | RuntimeException | Error e) {
            if (cache != null) {
                cache.dropAll();
            }
            file.close();
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

    /**
     * What the open-time check found and fixed.
     *
     * @return its report, or empty when no check ran at the open (or a deferred one has not run to its end)
     */
    public Optional<CheckReport> openCheckReport() {
        return openCheck.report();
    }

    /**
     * The open-time check left to the caller by {@link QedOpenOptions#withDeferredCheck}: a mount runs it on a
     * thread of its own while it serves the image.
     *
     * @return the check, whether it has run or not; empty when the open deferred none (none was due, or it ran
     *         during the open)
     */
    public Optional<BackgroundCheck> backgroundCheck() {
        return openCheck.background();
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
        return file.backingName();
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
        router.awaitOverlapping(pos, dst.remaining()); // only queued writes into this range come first
        try (DeferredCheck.Permit p = openCheck.permit()) {
            reads.read(pos, dst);
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
     * As {@link #write}, without a copy: with {@link QedOpenOptions#writeBehind}, a write that allocates may be
     * queued as {@code src} itself and applied later by the image's writer thread. That saves copying up to 1 MiB
     * a write for a caller that keeps a pool of buffers (the mount queues FUSE's request buffers); anyone else
     * wants {@link #write}. Without write-behind, or with {@code giveBack} null, it is {@link #write}.
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
        return router.write(pos, src, giveBack) == WriteRouter.Route.QUEUED && giveBack != null;
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
        router.changeTables(() -> {
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
            router.awaitQueued();
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
        if (!readOnly && openCheck.cleanable() && !meta.failure.isSet()) {
            router.awaitQueued();
            meta.failure.throwIfSet();
            writes.markClean();
        }
    }

    /**
     * Marks the image clean, as {@link #markClean} does, once its tables have been left unchanged for
     * {@code quiet}: call it from a timer (QEMU marks an image clean after 5 quiet seconds), so that a crash
     * while the image is idle needs no check at the next open.
     *
     * @param quiet how long the tables must have been left unchanged
     * @return true when the image was marked for a check and quiet long enough, so {@link #markClean} ran
     * @throws IOException when the flush or the header write fails
     */
    public boolean markCleanIfIdle(Duration quiet) throws IOException {
        long last = writes.lastAllocationNanos(); // 0: no table has changed since the open
        if (readOnly || !needsCheck() || last == 0 || System.nanoTime() - last < quiet.toNanos()) {
            return false;
        }
        markClean();
        return true;
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
        router.changeTables(() -> {
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
        return router.exclusively(() -> ConsistencyCheck.runLocked(meta, host, mode, progress));
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
        router.awaitQueued();
        try (DeferredCheck.Permit p = openCheck.permit()) {
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
        router.awaitQueued();
        try (DeferredCheck.Permit p = openCheck.permit()) {
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
        router.awaitQueued();
        try (DeferredCheck.Permit p = openCheck.permit()) {
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

    /** Where this image's writes go; tests ask it which route a write took. */
    WriteRouter router() {
        return router;
    }

    /**
     * How much guest data the image itself stores.
     *
     * @return bytes of the data clusters this image holds (not its backing files)
     * @throws IOException when the tables cannot be read
     */
    public long allocatedDataBytes() throws IOException {
        router.awaitQueued();
        try (DeferredCheck.Permit p = openCheck.permit()) {
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
        try (DeferredCheck.Permit p = openCheck.permit()) {
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
        return file.channel().size();
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
        openCheck.stopAndAwaitEnd(); // a scan stops at its next table; a repair that has begun runs to its end
        router.close(); // applies what is queued; never waits for a writer thread that has ended
        IOException failed = meta.failure.isSet() ? meta.failure.exception() : null;
        try {
            if (!readOnly && openCheck.cleanable() && failed == null) {
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
            file.close();
            meta.l2Cache.dropAll(); // gives its slices back to a shared budget at once
        }
        if (failed != null) {
            throw failed;
        }
    }
}
