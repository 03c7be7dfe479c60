package io.qedfs.qed;

import io.qedfs.qed.host.FileIo;
import io.qedfs.qed.host.HostFile;
import io.qedfs.qed.host.ImageLocks;
import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * An image file as an open finds it, before anything reads its tables: the channel, its {@link HostFile}, QEMU's
 * lock when asked for, the validated header and the backing chain opened. A read-write open clears autoclear
 * feature bits it does not know here, as QEMU does.
 *
 * @param locks       QEMU's read or write lock on the image, or null when the options ask for none
 * @param length      the file's length when the header was read
 * @param backingName the backing file's name as the header stores it, or null without one
 * @param backing     the backing chain, or null without one
 */
record OpenedFile(FileChannel channel, HostFile host, ImageLocks locks, QedHeader header, long length,
        String backingName, Backing backing) {
    /** Opens {@code path} through {@code opener}; on failure releases whatever it took and throws. */
    static OpenedFile open(Path path, QedOpenOptions options, BackingChain.Context ctx, QedImage.ChannelOpener opener)
            throws IOException {
        String name = path.toString();
        boolean readOnly = options.readOnly();
        FileChannel channel = opener.open(path, readOnly);
        ImageLocks locks = null;
        HostFile host = null;
        Backing backing = null;
        try {
            host = new HostFile(path, channel, !readOnly, opener.syscalls());
            locks = options.lock() ? ImageLocks.acquire(host, channel, readOnly, name) : null;
            long length = channel.size();
            QedHeader h = QedHeader.read(channel, name, length);
            HeaderValidator.validate(h, name, length);
            String backingName = h.hasBackingFile() ? BackingChain.readName(channel, h, name) : null;
            backing = backingName == null ? null : BackingChain.open(path, backingName, h, ctx);
            if (!readOnly && h.autoclearFeatures() != 0) {
                // Unknown autoclear bits: a writer that does not know them must clear them, as QEMU does.
                FileIo.writeFully(channel, 0, h.withAutoclearFeatures(0).encode());
                channel.force(false);
                h = h.withAutoclearFeatures(0);
            }
            return new OpenedFile(channel, host, locks, h, length, backingName, backing);
        } catch (IOException | RuntimeException | Error e) {
            release(channel, host, locks, backing);
            throw e;
        }
    }

    /** Releases the host file, the lock, the channel and the backing chain. */
    void close() throws IOException {
        release(channel, host, locks, backing);
    }

    // host, locks and backing may be null: an open that failed took only some
    private static void release(FileChannel channel, HostFile host, ImageLocks locks, Backing backing)
            throws IOException {
        if (host != null) {
            host.close();
        }
        if (locks != null) {
            locks.close();
        }
        channel.close();
        closeQuietly(backing);
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
