package io.qedfs.qed;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The allocation lock of one image and the allocation pointer it guards. Whatever changes metadata (table
 * entries, the header, the file's end) holds the lock, taken with {@code try (Allocator.Held h = allocator.hold())};
 * the classes that change metadata assert that their caller holds it.
 *
 * <p>The pointer is read without the lock (lookups validate offsets against it; the write-behind queue
 * reserves space past it): it only moves forward while the lock is held, but for a release or a repair's
 * truncation, which come before anything references the space given back.
 */
final class Allocator {
    /** The lock, held until closed; closing it once more than it was taken is an error, as for the lock. */
    interface Held extends AutoCloseable {
        @Override
        void close();
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Held held = lock::unlock; // made once: taking the lock allocates nothing
    private final FileChannel channel;
    /** End of the cluster-rounded file: where the next cluster goes (written under {@link #lock}). */
    private volatile long fileEnd;

    Allocator(FileChannel channel, long fileEnd) {
        this.channel = channel;
        this.fileEnd = fileEnd;
    }

    /** Takes the allocation lock; it is released when the returned {@link Held} is closed. */
    Held hold() {
        lock.lock();
        return held;
    }

    boolean isHeldByCurrentThread() {
        return lock.isHeldByCurrentThread();
    }

    long fileEnd() {
        return fileEnd;
    }

    /** Reserves {@code bytes} (a cluster multiple) at the end of the file. */
    long allocate(long bytes) {
        assert lock.isHeldByCurrentThread();
        long at = fileEnd;
        fileEnd = at + bytes;
        return at;
    }

    /**
     * Gives back everything allocated from {@code from} on, after a failed allocation that no table references
     * (a full disk, say): the pointer moves back and the file is cut there. No unlocked write can be past
     * {@code from}, since only referenced clusters are written without the lock.
     */
    void release(long from) {
        assert lock.isHeldByCurrentThread();
        fileEnd = from;
        try {
            channel.truncate(from);
        } catch (IOException e) {
            // the bytes stay past the pointer; the next allocation overwrites them
        }
    }

    /** Moves the pointer back to {@code end}, where the file was just truncated (a repair, an emptied image). */
    void truncatedTo(long end) {
        assert lock.isHeldByCurrentThread();
        fileEnd = end;
    }
}
