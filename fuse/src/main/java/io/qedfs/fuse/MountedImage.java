package io.qedfs.fuse;

import io.qedfs.qed.BackgroundCheck;
import io.qedfs.qed.FileStatus;
import io.qedfs.qed.ImageLockedException;
import io.qedfs.qed.ImageSummary;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.host.SparseFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One image served under the mountpoint as {@code name} (e.g. "disk.raw"), and whether it is open now.
 *
 * <p>An image named on the command line, or served through an overlay, is opened when the mount starts and stays
 * open (and locked) until unmount. An image found by listing a directory is <em>lazy</em>: the mount knows only
 * its {@link ImageSummary} (header and backing chain; nothing kept open, no lock, no memory beyond this object)
 * until its file is first opened, which opens the image with the mount's options: tables, caches, write-behind,
 * QEMU's locks, backing chain, and the open-time check if it is dirty (deferred to {@link BackgroundChecks} when the
 * mount defers checks: the check holds the image as an open file does, so it is never closed for being idle while its
 * check runs). Once no process has had its file open for a while, {@link IdleCleaner} closes it again (flushed, marked clean, locks released, its cache's memory
 * given back). An open that fails (another process holds the image's lock, the file is no QED image any more)
 * fails that open() and leaves the image listed, as it was.
 *
 * <p>The status shown while it is closed comes from the image file's path (owner, mode, times, space used) and
 * the size it had when last seen (listed or closed); every open reads the header again, so nothing is ever read
 * or written with a geometry that changed meanwhile.
 */
final class MountedImage {
    private static final Logger LOG = LoggerFactory.getLogger(MountedImage.class);

    private final String name;
    private final Path path;
    private final QedOpenOptions options;
    private final boolean lazy;
    private final List<Path> listedBacking;
    private final Consumer<QedImage> onOpen;
    private final BackgroundChecks checks; // runs a check the open deferred; null: the caller runs it
    /** The size last seen: the listing's, then the image's when it was last closed. */
    private volatile long knownSize;
    private volatile int clusterSize; // the listing's, then the image's when it was last opened
    /** Null while the image is closed (written under this; read without it by requests). */
    private volatile QedImage image;
    private int users; // guarded by this: files open, calls running and a deferred check running that need the image
    private long idleSince; // guarded by this: System.nanoTime() when users last fell to 0
    private volatile String closeFailure; // why an idle close failed, reported at unmount

    /**
     * {@code listed}: what the listing found; {@code options}: how to open it; {@code lazy}: opened on first use
     * and closed when idle (otherwise the caller {@link #acquire}s it at mount, for good); {@code onOpen}: told of
     * every open (it logs the check report); {@code checks}: runs the check an open deferred (see
     * {@link QedOpenOptions#deferCheck}), or null when the caller runs it.
     */
    MountedImage(String name, ImageSummary listed, QedOpenOptions options, boolean lazy, Consumer<QedImage> onOpen,
            BackgroundChecks checks) {
        this.name = name;
        this.path = listed.path();
        this.options = options;
        this.lazy = lazy;
        this.listedBacking = listed.backingFiles();
        this.onOpen = onOpen;
        this.checks = checks;
        this.knownSize = listed.size();
        this.clusterSize = listed.clusterSize();
    }

    String name() {
        return name;
    }

    Path path() {
        return path;
    }

    boolean isLazy() {
        return lazy;
    }

    boolean isReadOnly() {
        return options.readOnly();
    }

    boolean isOpen() {
        return image != null;
    }

    /**
     * The image, opening it if it is closed, held open until the matching {@link #release}. An image another
     * process has locked is refused with an {@link ImageLockedException} that names the holder where it can be seen.
     */
    synchronized QedImage acquire() throws IOException {
        QedImage open = image;
        if (open == null) {
            open = openNow();
            image = open;
        }
        users++;
        return open;
    }

    // expects this
    private QedImage openNow() throws IOException {
        QedImage opened;
        try {
            opened = QedImage.open(path, options);
        } catch (ImageLockedException e) {
            throw new ImageLockedException(e.getMessage() + "; " + LockHolders.describe(path));
        }
        if (opened.size() != knownSize) {
            LOG.info("{}: the image is {} bytes now, {} when last seen: {} has the new size", path, opened.size(), knownSize, name);
        }
        clusterSize = opened.clusterSize();
        onOpen.accept(opened);
        LOG.debug("{} opened for {}", path, name);
        Optional<BackgroundCheck> check = BackgroundChecks.pendingCheck(opened);
        if (checks != null && check.isPresent()) {
            users++; // the check's: given back when it has ended
            checks.submit(this, opened, check.get(), this::release);
        }
        return opened;
    }

    /** Gives back what {@link #acquire} took. */
    synchronized void release() {
        if (--users == 0) {
            idleSince = System.nanoTime();
        }
    }

    /** The open image, for a request on a file whose open holds it; fails when it is not open. */
    QedImage inUse() throws IOException {
        QedImage open = image;
        if (open == null) {
            throw new IOException(path + ": the image is not open");
        }
        return open;
    }

    /** The image when it is open (it may be closing), else null. */
    QedImage ifOpen() {
        return image;
    }

    /** The guest size: the open image's, else the size last seen. */
    long size() {
        QedImage open = image;
        return open != null ? open.size() : knownSize;
    }

    int clusterSize() {
        return clusterSize;
    }

    /**
     * Bytes of the guest range held as data clusters by the image itself (a partition file's st_blocks); while it is
     * closed, the space its file occupies, at most {@code len}, stands in: telling would mean opening it.
     */
    long allocatedDataBytes(long pos, long len) throws IOException {
        QedImage open = image;
        if (open != null) {
            try {
                return open.allocatedDataBytes(pos, len);
            } catch (IOException e) {
                if (image == open) {
                    throw e;
                }
            }
        }
        return Math.min(len, SparseFiles.allocatedBytes(path));
    }

    /** Owner, group, mode and times: of the open file, else of the file at the path. */
    FileStatus fileStatus() throws IOException {
        QedImage open = image;
        if (open != null) {
            try {
                return open.fileStatus();
            } catch (IOException e) {
                if (image == open) {
                    throw e;
                }
                // closed meanwhile: the path tells
            }
        }
        return FileStatus.of(path);
    }

    /** Bytes the image file occupies on the host. */
    long hostAllocatedBytes() throws IOException {
        QedImage open = image;
        if (open != null) {
            try {
                return open.hostAllocatedBytes();
            } catch (IOException e) {
                if (image == open) {
                    throw e;
                }
            }
        }
        return SparseFiles.allocatedBytes(path);
    }

    /** The backing chain's files, nearest first: as opened, else as listed. */
    List<Path> backingFiles() {
        QedImage open = image;
        return open != null ? open.backingFiles() : listedBacking;
    }

    /**
     * Closes a lazy image that nobody has used for {@code idleNanos} (0: nobody uses it now); true when it was
     * closed. A failure to close cleanly is logged and reported again at unmount.
     */
    boolean closeIfIdle(long idleNanos) {
        if (!lazy || image == null) {
            return false;
        }
        synchronized (this) {
            if (image == null || users > 0 || System.nanoTime() - idleSince < idleNanos) {
                return false;
            }
            String failure = closeNow();
            if (failure != null) {
                closeFailure = failure;
            } else {
                LOG.debug("{} unused: flushed, marked clean and closed", path);
            }
            return true;
        }
    }

    /** Closes the image if it is open, whoever uses it (unmount); null, or why it did not close cleanly now or before. */
    synchronized String close() {
        String failure = image == null ? null : closeNow();
        return failure != null ? failure : closeFailure;
    }

    // expects this
    private String closeNow() {
        QedImage open = image;
        knownSize = open.size();
        image = null;
        try {
            open.close();
            return null;
        } catch (Throwable t) {
            LOG.error("closing {} failed: {}", path, t.toString(), t);
            String msg = t.getMessage() == null ? t.toString() : t.getMessage();
            return msg.contains(path.toString()) ? msg : path + ": " + msg;
        }
    }
}
