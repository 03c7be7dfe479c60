package io.qedfs.qed.host;

import java.io.Closeable;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * A file opened read-write (created when missing) under QEMU's write lock, for commands that write a file
 * whole or replace it (create, convert, compact): the lock is taken before anything changes, so a file that a
 * qedfs mount or a QEMU process has open, reading or writing, is refused with {@link ImageLockedException}
 * and left exactly as it was. The lock lasts until {@link #close}.
 */
public final class WriteLockedFile implements Closeable {
    private final RandomAccessFile file;
    private final boolean regular;
    private final HostFile host;
    private final ImageLocks locks;

    private WriteLockedFile(RandomAccessFile file, boolean regular, HostFile host, ImageLocks locks) {
        this.file = file;
        this.regular = regular;
        this.host = host;
        this.locks = locks;
    }

    /**
     * Opens (or creates) {@code path} and takes the write lock; refuses a file in use without changing it, and
     * anything but a regular file or a block device (a FIFO, whose open would wait forever) without opening it.
     */
    public static WriteLockedFile open(Path path) throws IOException {
        // RandomAccessFile for its sparse setLength; FileOpener names a missing directory or a denied file as NIO does
        FileOpener.Checked<RandomAccessFile> opened = FileOpener.open(path, true, true, path.toString(),
                same -> new RandomAccessFile(same.toFile(), "rw"));
        RandomAccessFile file = opened.file();
        HostFile host = null;
        try {
            host = new HostFile(path, file.getChannel(), true);
            return new WriteLockedFile(file, opened.regular(), host,
                    ImageLocks.acquire(host, file.getChannel(), false, path.toString()));
        } catch (IOException | RuntimeException e) {
            if (host != null) {
                host.close();
            }
            file.close();
            throw e;
        }
    }

    /** False for a block device: it has a fixed length, and what it held shows through anything not written. */
    public boolean isRegularFile() {
        return regular;
    }

    public FileChannel channel() {
        return file.getChannel();
    }

    /** Sets the file's length (ftruncate): what is cut off is gone, and what is added is a hole. */
    public void setLength(long length) throws IOException {
        file.setLength(length);
    }

    /** Releases the lock and the file. */
    @Override
    public void close() throws IOException {
        try {
            locks.close();
            host.close();
        } finally {
            file.close();
        }
    }
}
