package io.qedfs.qed;

import io.qedfs.qed.host.FileIo;
import io.qedfs.qed.host.FileOpener;
import io.qedfs.qed.host.LibC;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * What can be done to an image file as a whole, as {@code qemu-img} does it: create, commit, compact, rebase, and
 * telling a QED image from other files. Each call opens and closes what it needs; none keeps anything open.
 */
public final class QedTools {
    private QedTools() {
    }

    /**
     * Creates a new image (replacing any file of that name) and returns it closed and clean. A file in use (a
     * qedfs mount or a QEMU process has it open) is refused with {@link ImageLockedException}, unchanged.
     *
     * @param path    the image file to write
     * @param options its size, geometry and backing file
     * @throws IOException when the file cannot be written or is in use
     */
    public static void create(Path path, QedCreateOptions options) throws IOException {
        ImageCreator.create(path, options);
    }

    /**
     * Merges the overlay at {@code path} into its backing file (QED or raw) so that the backing file reads as the
     * overlay did; then, if {@code emptyOverlay}, drops the overlay's clusters (otherwise the overlay is only read).
     *
     * @param path         the overlay
     * @param emptyOverlay whether the overlay's clusters are dropped once the backing file holds them
     * @param trustBacking open the chain's files whoever owns them, and write the backing file even when the
     *                     overlay's owner could not (see {@link QedOpenOptions#trustBacking})
     * @param progress     receives the guest bytes processed so far
     * @throws IOException when a file cannot be read or written, or a backing file is refused
     */
    public static void commit(Path path, boolean emptyOverlay, boolean trustBacking, ProgressListener progress)
            throws IOException {
        QedOpenOptions options = (emptyOverlay ? QedOpenOptions.readWrite()
                : QedOpenOptions.readOnlyOptions().withCheck(QedOpenOptions.CheckPolicy.AUTO)).withTrustBacking(trustBacking);
        // The backing file is write-locked by the commit itself (CommitTarget): the overlay's chain must not
        // hold the read lock that would refuse it.
        try (QedImage overlay = QedImage.openUnlockedChain(path, options)) {
            overlay.openCheckReport().filter(r -> r.corruptions() > 0).ifPresent(r -> {
                throw new IllegalStateException(path + ": the image is corrupt (" + r.corruptions()
                        + " corruptions); run check -r all first");
            });
            ImageCommitter.commit(overlay.engine(), emptyOverlay, trustBacking, progress);
        }
    }

    /**
     * Rewrites the image at {@code path} without leaked clusters and without clusters of zeroes; crash-safe
     * through a synced temporary file renamed over the target.
     *
     * @param path         the image
     * @param output       where the compacted copy goes, or null to compact in place
     * @param trustBacking open the backing chain whoever owns its files
     * @param progress     receives the guest bytes processed so far
     * @return how large the image was and is
     * @throws IOException when a file cannot be read or written, or the image is in use or corrupt
     */
    public static CompactResult compact(Path path, Path output, boolean trustBacking, ProgressListener progress)
            throws IOException {
        return ImageCompactor.compact(path, output, trustBacking, progress);
    }

    /**
     * Makes {@code newBacking} the backing file of the image at {@code path}. Safe mode first copies into the image
     * whatever the change would alter, so that the guest reads the same; unsafe mode only rewrites the reference
     * and opens neither backing file.
     *
     * @param path         the image
     * @param newBacking   the new backing file's name, stored as given; null or empty for none
     * @param format       "raw", "qed", or null to probe
     * @param unsafe       only rewrite the reference
     * @param trustBacking open the old and the new chain whoever owns their files
     * @param progress     receives the guest bytes processed so far
     * @throws IOException when a file cannot be read or written, or a backing file is refused
     */
    public static void rebase(Path path, String newBacking, String format, boolean unsafe, boolean trustBacking,
            ProgressListener progress) throws IOException {
        if (unsafe) {
            ImageRebaser.rewriteReference(path, newBacking, format);
            return;
        }
        try (QedImage image = QedImage.open(path, QedOpenOptions.readWrite().withTrustBacking(trustBacking))) {
            ImageRebaser.rebase(image.engine(), newBacking, format, trustBacking, progress);
        }
    }

    /**
     * Tells whether a file is a QED image.
     *
     * @param path the file
     * @return true when the file starts with the QED magic
     * @throws IOException when the file cannot be read, or is a FIFO, a character device or a directory
     */
    public static boolean isQed(Path path) throws IOException {
        try (FileChannel ch = FileOpener.open(path, false, path.toString())) {
            ByteBuffer b = ByteBuffer.allocate(4);
            FileIo.readOrZero(ch, 0, b);
            return QedHeader.hasMagic(b.flip());
        }
    }

    /**
     * Why a file is not a QED image, for a file {@link #isQed} refused.
     *
     * @param path the file
     * @param name how the line names the file
     * @return one line naming the file and what format it is instead
     * @throws IOException when the file cannot be read
     */
    public static String notQedReason(Path path, String name) throws IOException {
        try (FileChannel ch = FileOpener.open(path, false, name)) {
            return ForeignFormat.notQed(name, ch);
        }
    }

    /**
     * Binds the native calls the engine uses (jffi's library and the libc functions) now, on the calling thread,
     * so that opening an image later does not wait for it: a command line starts this in the background while it
     * parses its arguments. Safe from any thread, any number of times.
     */
    public static void bindNativeCalls() {
        LibC.get();
    }
}
