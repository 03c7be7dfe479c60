package io.qedfs.qed;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.util.ArrayList;
import java.util.List;

/**
 * QEMU-compatible image locks. QEMU takes byte 100+i for "I use permission i" and 200+i for "I do not let
 * others have permission i" (i = 0 consistent read, 1 write); POSIX record locks conflict with QEMU's OFD
 * locks. A writer holds 101 and 201 exclusively, so any other writer (qedfs or QEMU) and any reader that wants
 * the image unchanged is refused. A reader holds 100 and 201 shared: other readers may join, writers may not.
 */
final class ImageLocks implements AutoCloseable {
    private static final long USE_READ = 100;
    private static final long USE_WRITE = 101;
    private static final long DENY_WRITE = 201;

    private final List<FileLock> held = new ArrayList<>(2);

    private ImageLocks() {
    }

    static ImageLocks acquire(FileChannel ch, boolean readOnly, String file) throws IOException {
        ImageLocks locks = new ImageLocks();
        try {
            if (readOnly) {
                locks.take(ch, USE_READ, true, file);
                locks.take(ch, DENY_WRITE, true, file);
            } else {
                locks.take(ch, USE_WRITE, false, file);
                locks.take(ch, DENY_WRITE, false, file);
            }
            return locks;
        } catch (IOException | RuntimeException e) {
            locks.close();
            throw e;
        }
    }

    private void take(FileChannel ch, long at, boolean shared, String file) throws IOException {
        FileLock lock;
        try {
            lock = ch.tryLock(at, 1, shared);
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            throw new ImageLockedException(file + ": the image is in use (locked by another qedfs mount or QEMU process"
                    + (shared ? " writing it)" : ")"));
        }
        held.add(lock);
    }

    @Override
    public void close() {
        for (FileLock l : held) {
            try {
                l.release();
            } catch (IOException e) {
                // the channel is closing anyway; the kernel drops the lock with it
            }
        }
        held.clear();
    }
}
