package io.qedfs.qed;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The real image file, with a hook that runs before each positional write and each fsync reaches it: it may
 * block the calling thread, or throw (an I/O error, or an Error such as OutOfMemoryError) in its place. The
 * engine's other descriptor of the file (fallocate, hole punching) is untouched, so reservations and holes
 * are the host file system's own.
 */
final class FaultyChannel extends ForwardingChannel {
    /** What reaches the file. */
    enum Op { WRITE, FORCE }

    /** Runs before the operation on the calling thread; whatever it throws is the operation's outcome. */
    interface Hook {
        void before(Op op, long pos, int len) throws IOException;
    }

    private volatile Hook hook = (op, pos, len) -> { };

    private FaultyChannel(FileChannel file) {
        super(file);
    }

    /** Opens {@code img} through a faulty channel; {@code channel[0]} receives it. */
    static QedImage open(Path img, QedOpenOptions options, FaultyChannel[] channel) throws IOException {
        return QedImage.open(img, options, (p, readOnly) -> {
            channel[0] = new FaultyChannel(readOnly ? FileChannel.open(p, StandardOpenOption.READ)
                    : FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE));
            return channel[0];
        });
    }

    void hook(Hook h) {
        hook = h;
    }

    @Override
    public int write(ByteBuffer src, long pos) throws IOException {
        hook.before(Op.WRITE, pos, src.remaining());
        return file.write(src, pos);
    }

    @Override
    public void force(boolean metaData) throws IOException {
        hook.before(Op.FORCE, 0, 0);
        file.force(metaData);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        hook.before(Op.WRITE, file.position(), src.remaining());
        return file.write(src);
    }

    /** Writes that would pass the hook unseen: the engine makes none, and a test must not miss one. */
    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) {
        throw new UnsupportedOperationException("gathering writes bypass the fault hook");
    }

    @Override
    public long transferFrom(java.nio.channels.ReadableByteChannel src, long position, long count) {
        throw new UnsupportedOperationException("transferFrom bypasses the fault hook");
    }
}
