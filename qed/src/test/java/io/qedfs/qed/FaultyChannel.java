package io.qedfs.qed;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The real image file, with a hook that runs before each positional write and each fsync reaches it: it may
 * block the calling thread, or throw (an I/O error, or an Error such as OutOfMemoryError) in its place. The
 * engine's other descriptor of the file (fallocate, hole punching) is untouched, so reservations and holes
 * are the host file system's own.
 */
final class FaultyChannel extends FileChannel {
    /** What reaches the file. */
    enum Op { WRITE, FORCE }

    /** Runs before the operation on the calling thread; whatever it throws is the operation's outcome. */
    interface Hook {
        void before(Op op, long pos, int len) throws IOException;
    }

    private final FileChannel file;
    private volatile Hook hook = (op, pos, len) -> { };

    private FaultyChannel(FileChannel file) {
        this.file = file;
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
    public int read(ByteBuffer dst, long pos) throws IOException {
        return file.read(dst, pos);
    }

    @Override
    public long size() throws IOException {
        return file.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
        file.truncate(size);
        return this;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return file.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        return file.read(dsts, offset, length);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        hook.before(Op.WRITE, file.position(), src.remaining());
        return file.write(src);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) {
        throw new UnsupportedOperationException();
    }

    @Override
    public long position() throws IOException {
        return file.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
        file.position(newPosition);
        return this;
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) {
        throw new UnsupportedOperationException();
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) {
        throw new UnsupportedOperationException();
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) {
        throw new UnsupportedOperationException();
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
        return file.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
        return file.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
        file.close();
    }
}
