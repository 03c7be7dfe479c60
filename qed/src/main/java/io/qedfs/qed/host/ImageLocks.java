package io.qedfs.qed.host;

import io.qedfs.qed.ImageLockedException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.util.ArrayList;
import java.util.List;

/**
 * QEMU-compatible image locks. QEMU takes byte 100+i for "I use permission i" and 200+i for "I do not let
 * others have permission i" (i = 0 consistent read, 1 write). A writer holds 101 and 201 exclusively, so any
 * other writer (qedfs or QEMU) and any reader that wants the image unchanged is refused. A reader holds 100
 * and 201 shared: other readers may join, writers may not; and, as QEMU's readers do, it tests that nobody
 * holds 101, since QEMU's writers take their bytes shared.
 *
 * <p>Locks are OFD locks on the {@link HostFile} descriptor, released when it closes. Without a libc binding
 * they fall back to FileChannel's POSIX locks, which the process loses whenever any descriptor of the file
 * is closed.
 */
public final class ImageLocks implements AutoCloseable {
    private static final long USE_READ = 100;
    private static final long USE_WRITE = 101;
    private static final long DENY_WRITE = 201;

    private final List<FileLock> fallback = new ArrayList<>(2);

    private ImageLocks() {
    }

    public static ImageLocks acquire(HostFile host, FileChannel ch, boolean readOnly, String file) throws IOException {
        ImageLocks locks = new ImageLocks();
        try {
            locks.take(host, ch, readOnly ? USE_READ : USE_WRITE, readOnly, file);
            locks.take(host, ch, DENY_WRITE, readOnly, file);
            if (readOnly && host.hasOfdLocks() && host.lockedByOthers(USE_WRITE, 1)) {
                // QEMU's writers hold their bytes shared, so the shared DENY_WRITE above does not meet them
                throw inUse(file, true);
            }
            return locks;
        } catch (IOException | RuntimeException e) {
            locks.close();
            throw e;
        }
    }

    private void take(HostFile host, FileChannel ch, long at, boolean shared, String file) throws IOException {
        boolean ok;
        if (host.hasOfdLocks()) {
            ok = host.tryLock(at, 1, shared);
        } else {
            FileLock lock;
            try {
                lock = ch.tryLock(at, 1, shared);
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            ok = lock != null;
            if (ok) {
                fallback.add(lock);
            }
        }
        if (!ok) {
            throw inUse(file, shared);
        }
    }

    private static ImageLockedException inUse(String file, boolean byWriter) {
        return new ImageLockedException(file + ": the image is in use (locked by a qedfs mount or a QEMU process"
                + (byWriter ? " writing it)" : ")"));
    }

    @Override
    public void close() {
        for (FileLock l : fallback) {
            try {
                l.release();
            } catch (IOException e) {
                // the channel is closing anyway; the kernel drops the lock with it
            }
        }
        fallback.clear();
    }
}
