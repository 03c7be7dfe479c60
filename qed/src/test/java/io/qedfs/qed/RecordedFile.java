package io.qedfs.qed;

import io.qedfs.qed.host.DataRange;
import io.qedfs.qed.host.FileIo;
import io.qedfs.qed.host.FileSyscalls;
import io.qedfs.qed.host.LibC;
import io.qedfs.qed.host.SparseFiles;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * A real image file whose every change is recorded as the engine makes it: through its FileChannel (pwrite,
 * truncate, fdatasync) and through {@link HostFile}'s libc calls (fallocate: allocation, reservation and hole
 * punching; ftruncate). A second real file follows it as of its last sync: each fdatasync replays the changes
 * made since the one before. {@link #writeCrashState} makes a file a power loss could leave at this moment:
 * that durable file plus any subset of the later changes, in their order, writes and hole punches torn at
 * 512-byte granularity. Open the image with {@code QedImage.open(path, options, recordedFile)}.
 */
final class RecordedFile implements QedImage.ChannelOpener {
    private static final int SECTOR = 512;
    private static final int O_RDWR = 2;
    private static final int FALLOC_FL_PUNCH_HOLE = 2;
    /** The real calls; the test that uses this class assumes the binding exists. */
    private static final LibC LIBC = LibC.get();

    /** A change made to the file since its last sync. */
    private sealed interface Change permits Write, SetLength, Fallocate {
    }

    private record Write(long pos, byte[] data) implements Change {
    }

    private record SetLength(long length) implements Change {
    }

    private record Fallocate(int mode, long pos, long len) implements Change {
    }

    /** Called before every change and sync reaches the file: the moment a power loss may strike. */
    interface CrashPoint {
        void beforeChange(RecordedFile file) throws IOException;
    }

    private final Path live;
    private final Path durable;
    private final List<Change> pending = new ArrayList<>(); // guarded by this
    private CrashPoint crashPoint = f -> { }; // guarded by this
    /** How many changes of each kind were made: writes, lengths set, allocations, reservations, hole punches. */
    private final Map<String, Long> counts = new TreeMap<>(); // guarded by this
    private long syncs; // guarded by this

    /** Records changes to {@code live}, whose present contents count as synced; keeps its durable copy in {@code durable}. */
    RecordedFile(Path live, Path durable) throws IOException {
        this.live = live;
        this.durable = durable;
        copySparse(live, durable);
    }

    synchronized void onChange(CrashPoint p) {
        crashPoint = p;
    }

    synchronized int pendingCount() {
        return pending.size();
    }

    @Override
    public FileChannel open(Path path, boolean readOnly) throws IOException {
        return new Channel(openReal(live, readOnly), this);
    }

    /**
     * Opens image files for real, unrecorded, except that syncs flush nothing to the disk: for checking the
     * crash states, which are thrown away.
     */
    static QedImage.ChannelOpener withoutDiskFlushes() {
        return (path, readOnly) -> new Channel(openReal(path, readOnly), null);
    }

    private static FileChannel openReal(Path path, boolean readOnly) throws IOException {
        return readOnly ? FileChannel.open(path, StandardOpenOption.READ)
                : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
    }

    @Override
    public FileSyscalls syscalls() {
        return new Calls();
    }

    /** Writes to {@code out} one file a power loss at this moment could leave behind. */
    synchronized void writeCrashState(Random rnd, Path out) throws IOException {
        copySparse(durable, out);
        try (Target t = new Target(out)) {
            for (Change c : pending) {
                if (rnd.nextInt(3) > 0) {
                    t.apply(c, rnd);
                }
            }
        }
    }

    /**
     * Fails unless the recording, replayed (the durable copy and every pending change), gives what the live file
     * holds: a change the engine made around the recording would be missing from every crash state.
     */
    synchronized void assertRecordingMatchesLiveFile() throws IOException {
        Path replayed = durable;
        if (!pending.isEmpty()) {
            replayed = durable.resolveSibling(durable.getFileName() + ".all");
            copySparse(durable, replayed);
            try (Target t = new Target(replayed)) {
                for (Change c : pending) {
                    t.apply(c, null);
                }
            }
        }
        try (FileChannel a = FileChannel.open(live); FileChannel b = FileChannel.open(replayed)) {
            if (a.size() != b.size()) {
                throw new AssertionError("recorded changes give a file of " + b.size() + " bytes, the live file has " + a.size());
            }
            ByteBuffer x = ByteBuffer.allocate(1 << 20);
            ByteBuffer y = ByteBuffer.allocate(1 << 20);
            for (long at = 0; at < a.size(); at += x.capacity()) {
                x.clear();
                y.clear();
                FileIo.readOrZero(a, at, x);
                FileIo.readOrZero(b, at, y);
                int mismatch = x.flip().mismatch(y.flip());
                if (mismatch >= 0) {
                    throw new AssertionError("recorded changes differ from the live file at offset " + (at + mismatch));
                }
            }
        }
    }

    // expects this lock
    private void record(Change change) {
        pending.add(change);
        counts.merge(kind(change), 1L, Long::sum);
    }

    private static String kind(Change change) {
        if (change instanceof Write) {
            return "writes";
        }
        if (change instanceof SetLength) {
            return "lengths set";
        }
        int mode = ((Fallocate) change).mode();
        return (mode & FALLOC_FL_PUNCH_HOLE) != 0 ? "hole punches" : mode == 0 ? "allocations" : "reservations";
    }

    /** The changes and syncs recorded so far, by kind. */
    synchronized String summary() {
        StringBuilder b = new StringBuilder();
        counts.forEach((kind, n) -> b.append(n).append(' ').append(kind).append(", "));
        return b.append(syncs).append(" syncs").toString();
    }

    /** A sync: the changes so far become durable. Expects this lock. */
    private void synced() throws IOException {
        try (Target t = new Target(durable)) {
            for (Change c : pending) {
                t.apply(c, null);
            }
        }
        pending.clear();
        syncs++;
    }

    /** A copy of {@code from} at {@code to} with the same length, data ranges and holes. */
    private static void copySparse(Path from, Path to) throws IOException {
        Files.deleteIfExists(to); // a fresh file: no blocks left over from an earlier state
        try (FileChannel src = FileChannel.open(from);
             FileChannel dst = FileChannel.open(to, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (DataRange range : SparseFiles.dataRanges(from)) {
                dst.position(range.start());
                for (long done = 0; done < range.length(); ) {
                    done += src.transferTo(range.start() + done, range.length() - done, dst);
                }
            }
            if (dst.size() < src.size()) {
                FileIo.writeFully(dst, src.size() - 1, ByteBuffer.allocate(1)); // the length, with a hole before it
            }
        }
    }

    /** A real file the recorded changes are replayed on, through the same calls the engine made. */
    private static final class Target implements Closeable {
        private final FileChannel ch;
        private final int fd;

        Target(Path path) throws IOException {
            ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            fd = LIBC.open(path.toString(), O_RDWR);
            if (fd < 0) {
                ch.close();
                throw new IOException(path + ": cannot open for replay");
            }
        }

        /** Replays {@code change} whole, or (with {@code tear} not null) perhaps torn. */
        void apply(Change change, Random tear) throws IOException {
            if (change instanceof Write w) {
                write(w, tear != null && tear.nextInt(4) == 0 ? tear : null);
            } else if (change instanceof SetLength s) {
                setLength(s.length());
            } else {
                Fallocate f = (Fallocate) change;
                boolean torn = tear != null && (f.mode() & FALLOC_FL_PUNCH_HOLE) != 0 && tear.nextInt(4) == 0;
                if (!torn) {
                    fallocate(f.mode(), f.pos(), f.len());
                    return;
                }
                for (long s = f.pos(); s < f.pos() + f.len(); s += SECTOR) {
                    if (tear.nextBoolean()) {
                        fallocate(f.mode(), s, Math.min(SECTOR, f.pos() + f.len() - s)); // this sector's hole made it
                    }
                }
            }
        }

        private void write(Write w, Random tear) throws IOException {
            if (tear == null) {
                FileIo.writeFully(ch, w.pos(), ByteBuffer.wrap(w.data()));
                return;
            }
            long end = w.pos() + w.data().length;
            for (long s = w.pos() - Math.floorMod(w.pos(), SECTOR); s < end; s += SECTOR) {
                if (tear.nextBoolean()) {
                    continue; // this sector never made it
                }
                long from = Math.max(s, w.pos());
                long to = Math.min(s + SECTOR, end);
                // fits: offsets within one write's data
                FileIo.writeFully(ch, from, ByteBuffer.wrap(w.data(), (int) (from - w.pos()), (int) (to - from)));
            }
            if (tear.nextBoolean() && ch.size() < end) {
                setLength(end); // the size update may land where the data did not (reads as zeroes)
            }
        }

        private void setLength(long length) throws IOException {
            if (LIBC.ftruncate(fd, length) != 0) {
                throw new IOException("replaying ftruncate to " + length + " failed");
            }
        }

        private void fallocate(int mode, long pos, long len) throws IOException {
            if (LIBC.fallocate(fd, mode, pos, len) != 0) {
                throw new IOException("replaying fallocate mode " + mode + " at " + pos + " of " + len + " failed");
            }
        }

        @Override
        public void close() throws IOException {
            LIBC.close(fd);
            ch.close();
        }
    }

    /** The engine's libc calls on the live file: made for real, and those that change the file recorded. */
    private final class Calls implements FileSyscalls {
        @Override
        public int open(String path, int flags) {
            return LIBC.open(path, flags);
        }

        @Override
        public int close(int fd) {
            return LIBC.close(fd);
        }

        @Override
        public int fallocate(int fd, int mode, long offset, long len) {
            synchronized (RecordedFile.this) {
                crashPointUnchecked();
                int rc = LIBC.fallocate(fd, mode, offset, len);
                if (rc == 0) {
                    record(new Fallocate(mode, offset, len));
                }
                return rc;
            }
        }

        @Override
        public int ftruncate(int fd, long length) {
            synchronized (RecordedFile.this) {
                crashPointUnchecked();
                int rc = LIBC.ftruncate(fd, length);
                if (rc == 0) {
                    record(new SetLength(length));
                }
                return rc;
            }
        }

        @Override
        public long lseek(int fd, long offset, int whence) {
            return LIBC.lseek(fd, offset, whence);
        }

        @Override
        public int lastError() {
            return LIBC.lastError(); // this thread's: the call it follows went to LIBC on the same thread
        }

        @Override
        public int startWriteback(int fd, long offset, long len) {
            return LIBC.startWriteback(fd, offset, len); // makes nothing durable: not a sync
        }

        @Override
        public int fcntlLock(int fd, int cmd, short type, long start, long len, short[] typeAfter) {
            return LIBC.fcntlLock(fd, cmd, type, start, len, typeAfter);
        }

        @Override
        public long allocatedBytes(int fd) {
            return LIBC.allocatedBytes(fd);
        }

        @Override
        public FileStatus status(int fd) {
            return LIBC.status(fd);
        }

        /** libc calls report errors by their result, so a crash point's IOException cannot pass through here. */
        private void crashPointUnchecked() {
            try {
                crashPoint.beforeChange(RecordedFile.this);
            } catch (IOException e) {
                throw new IllegalStateException("a crash point of a libc call failed", e);
            }
        }
    }

    /**
     * The engine's channel on a real file: positional I/O only. With an owner, every write, truncate and sync is
     * recorded there; without one, changes go to the file unrecorded. Either way a sync flushes nothing to the
     * disk: what a crash keeps is the recording's business, and real disk flushes of every state are slow.
     */
    private static final class Channel extends FileChannel {
        private final FileChannel real;
        private final RecordedFile owner; // null: nothing is recorded

        Channel(FileChannel real, RecordedFile owner) {
            this.real = real;
            this.owner = owner;
        }

        @Override
        public int read(ByteBuffer dst, long pos) throws IOException {
            return real.read(dst, pos);
        }

        @Override
        public int write(ByteBuffer src, long pos) throws IOException {
            if (owner == null) {
                return real.write(src, pos);
            }
            synchronized (owner) {
                owner.crashPoint.beforeChange(owner);
                ByteBuffer copy = src.duplicate();
                int n = real.write(src, pos);
                if (n > 0) {
                    byte[] data = new byte[n];
                    copy.get(data);
                    owner.record(new Write(pos, data));
                }
                return n;
            }
        }

        @Override
        public long size() throws IOException {
            return real.size();
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            if (owner == null) {
                real.truncate(size);
                return this;
            }
            synchronized (owner) {
                owner.crashPoint.beforeChange(owner);
                if (size < real.size()) { // FileChannel leaves a file that is not longer alone
                    real.truncate(size);
                    owner.record(new SetLength(size));
                }
                return this;
            }
        }

        @Override
        public void force(boolean metaData) throws IOException {
            if (owner == null) {
                return;
            }
            synchronized (owner) {
                owner.crashPoint.beforeChange(owner);
                owner.synced();
            }
        }

        @Override
        protected void implCloseChannel() throws IOException {
            real.close();
        }

        @Override
        public int read(ByteBuffer dst) {
            throw positionalOnly();
        }

        @Override
        public int write(ByteBuffer src) {
            throw positionalOnly();
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) {
            throw positionalOnly();
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) {
            throw positionalOnly();
        }

        @Override
        public long position() {
            throw positionalOnly();
        }

        @Override
        public FileChannel position(long newPosition) {
            throw positionalOnly();
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) {
            throw positionalOnly();
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) {
            throw positionalOnly();
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) {
            throw positionalOnly();
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) {
            throw positionalOnly();
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) {
            throw positionalOnly();
        }

        private UnsupportedOperationException positionalOnly() {
            return new UnsupportedOperationException("the engine uses positional I/O and OFD locks only");
        }
    }
}
