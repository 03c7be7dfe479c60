package io.qedfs.qed.host;

import io.qedfs.qed.FileStatus;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * What FileChannel cannot do on the image file: give space back. {@link #zeroRange} punches a hole
 * (fallocate PUNCH_HOLE|KEEP_SIZE) through a second descriptor of the same file; where that is not
 * possible (no libc binding, a filesystem without hole support) it writes zeroes instead, so the
 * contents are right either way and only the space saving is lost.
 */
public final class HostFile implements AutoCloseable {
    private static final int O_RDONLY = 0;
    private static final int O_RDWR = 2;
    private static final int F_OFD_GETLK = 36;
    private static final int F_OFD_SETLK = 37;
    private static final short F_RDLCK = 0;
    private static final short F_WRLCK = 1;
    private static final short F_UNLCK = 2;
    private static final int SEEK_DATA = 3;
    private static final int SEEK_HOLE = 4;
    private static final int ENXIO = 6;
    private static final int O_NONBLOCK = 04000;
    private static final int O_CLOEXEC = 0x80000;
    private static final int FALLOC_FL_KEEP_SIZE = 1;
    private static final int FALLOC_FL_PUNCH_HOLE = 2;

    private final FileChannel channel;
    private final FileSyscalls libc; // null without a libc binding
    private final int fd;
    private volatile boolean punchWorks;

    public HostFile(Path path, FileChannel channel, boolean writable) {
        this(path, channel, writable, LibC.get());
    }

    /** The same, making its libc calls through {@code libc} (a crash test records them). */
    public HostFile(Path path, FileChannel channel, boolean writable, FileSyscalls libc) {
        this.channel = channel;
        this.libc = libc;
        // a second descriptor of the file FileOpener checked, by its path: O_NONBLOCK keeps a FIFO swapped in
        // meanwhile from blocking this open
        this.fd = libc != null ? libc.open(path.toString(), (writable ? O_RDWR : O_RDONLY) | O_NONBLOCK | O_CLOEXEC) : -1;
        this.punchWorks = writable && fd >= 0;
    }

    /** Makes {@code [offset, offset+len)} of the file read as zeroes, returning the space where possible. */
    public void zeroRange(long offset, long len) throws IOException {
        if (punchWorks && libc.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, len) == 0) {
            return;
        }
        punchWorks = false;
        long at = offset;
        long left = len;
        while (left > 0) {
            int chunk = (int) Math.min(left, Buffers.zerosCapacity()); // fits: at most 1 MiB
            FileIo.writeFully(channel, at, Buffers.zeros(chunk));
            at += chunk;
            left -= chunk;
        }
    }

    /**
     * Reserves host space for {@code [offset, offset+len)} without changing the file length (fallocate
     * KEEP_SIZE), so that later writes there cannot fail for lack of space; false when the file system
     * refuses (full, or no fallocate).
     */
    public boolean reserve(long offset, long len) {
        return fd >= 0 && libc.fallocate(fd, FALLOC_FL_KEEP_SIZE, offset, len) == 0;
    }

    /**
     * Allocates host space for {@code [offset, offset+len)} and makes the file at least that long (fallocate
     * without flags): the range reads as zeroes and later writes there cannot fail for lack of space. False
     * when the file system refuses (full, or no fallocate); then nothing changed.
     */
    public boolean allocate(long offset, long len) {
        return fd >= 0 && libc.fallocate(fd, 0, offset, len) == 0;
    }

    /**
     * Starts writing {@code [offset, offset+len)} to the disk without waiting, so that a later fsync finds
     * little left to do; a hint only (nothing happens without the libc binding).
     */
    public void startWriteback(long offset, long len) {
        if (fd >= 0) {
            libc.startWriteback(fd, offset, len);
        }
    }

    /** Gives back space reserved past the end of the file: truncating to the same length drops it. */
    public void releaseReserved() throws IOException {
        if (fd >= 0) {
            libc.ftruncate(fd, channel.size());
        }
    }

    /**
     * The first offset in {@code [from, to)} that holds data, or -1 when the range is all hole. Without
     * SEEK_DATA support, or when the call fails, every byte counts as data: a hole reported here reads as zeroes.
     */
    public long nextData(long from, long to) {
        if (fd < 0) {
            return from;
        }
        long at = libc.lseek(fd, from, SEEK_DATA);
        if (at < 0) {
            return libc.lastError() == ENXIO ? -1 : from; // ENXIO: no data from here to the end of the file
        }
        return at >= to ? -1 : at;
    }

    /** The first offset at or after {@code from} that is a hole (end of file counts), capped at {@code to}. */
    public long nextHole(long from, long to) {
        if (fd < 0) {
            return to;
        }
        long at = libc.lseek(fd, from, SEEK_HOLE);
        return at < 0 ? to : Math.min(at, to);
    }

    /** True when this JVM can take open-file-description locks (the fallback is FileChannel's POSIX locks). */
    public boolean hasOfdLocks() {
        return fd >= 0;
    }

    /**
     * Takes an OFD byte-range lock without waiting; false when another holder conflicts. OFD locks belong to
     * this descriptor: closing another descriptor of the same file (which drops every POSIX lock the process
     * holds) leaves them alone, and a second open in the same process conflicts as another process would.
     */
    public boolean tryLock(long at, long len, boolean shared) {
        return libc.fcntlLock(fd, F_OFD_SETLK, shared ? F_RDLCK : F_WRLCK, at, len, new short[1]) == 0;
    }

    /**
     * True when another descriptor holds any lock on the range (what an exclusive lock would conflict with),
     * tested without taking one: a read-only descriptor cannot take an exclusive lock.
     */
    public boolean lockedByOthers(long at, long len) {
        short[] holder = new short[1];
        return libc.fcntlLock(fd, F_OFD_GETLK, F_WRLCK, at, len, holder) == 0 && holder[0] != F_UNLCK;
    }

    /**
     * Bytes the host file system really gives the file (st_blocks * 512), falling back to the file length
     * where fstat cannot be called.
     */
    public long allocatedBytes() throws IOException {
        long bytes = fd >= 0 ? libc.allocatedBytes(fd) : -1;
        return bytes >= 0 ? bytes : channel.size();
    }

    /** The file's status through this descriptor: the file open now, even after its name was removed or reused. */
    public FileStatus status(Path path) throws IOException {
        FileStatus s = fd >= 0 ? libc.status(fd) : null;
        return s != null ? s : FileStatus.of(path);
    }

    public boolean punchesHoles() {
        return punchWorks;
    }

    @Override
    public void close() {
        if (fd >= 0) {
            libc.close(fd);
        }
    }
}
