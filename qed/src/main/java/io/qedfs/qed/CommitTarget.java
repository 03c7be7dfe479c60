package io.qedfs.qed;

import io.qedfs.qed.host.FileIo;
import io.qedfs.qed.host.FileOpener;
import io.qedfs.qed.host.HostFile;
import io.qedfs.qed.host.ImageLocks;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/** The backing file a commit writes into, opened read-write and locked like any writer. */
interface CommitTarget extends Closeable {
    long size() throws IOException;

    /** Grows the file to {@code newSize} bytes of guest data (the overlay may be larger than its backing). */
    void grow(long newSize) throws IOException;

    void write(long pos, ByteBuffer src) throws IOException;

    void writeZeroes(long pos, long len) throws IOException;

    /** Makes everything written durable. */
    void flush() throws IOException;

    static CommitTarget open(Path path, String format, boolean trustBacking) throws IOException {
        return "raw".equals(format) ? RawTarget.open(path)
                : new QedTarget(QedImage.open(path, QedOpenOptions.readWrite().withTrustBacking(trustBacking)));
    }

    /** A QED backing file: the engine's write path, so it is marked NEED_CHECK while it is being changed. */
    record QedTarget(QedImage image) implements CommitTarget {
        @Override
        public long size() {
            return image.size();
        }

        @Override
        public void grow(long newSize) throws IOException {
            image.resize(newSize);
        }

        @Override
        public void write(long pos, ByteBuffer src) throws IOException {
            image.write(pos, src);
        }

        @Override
        public void writeZeroes(long pos, long len) throws IOException {
            image.writeZeroes(pos, len);
        }

        @Override
        public void flush() throws IOException {
            image.flush();
        }

        @Override
        public void close() throws IOException {
            image.close();
        }
    }

    /** A raw backing file, taken with the same locks QEMU takes. */
    record RawTarget(FileChannel channel, HostFile host, ImageLocks locks) implements CommitTarget {
        static RawTarget open(Path path) throws IOException {
            FileChannel ch = FileOpener.open(path, true, path.toString());
            HostFile host = new HostFile(path, ch, true);
            try {
                return new RawTarget(ch, host, ImageLocks.acquire(host, ch, false, path.toString()));
            } catch (IOException | RuntimeException e) {
                host.close();
                ch.close();
                throw e;
            }
        }

        @Override
        public long size() throws IOException {
            return channel.size();
        }

        @Override
        public void grow(long newSize) throws IOException {
            if (newSize > channel.size()) {
                FileIo.writeFully(channel, newSize - 1, ByteBuffer.allocate(1)); // one zero byte sets the length
            }
        }

        @Override
        public void write(long pos, ByteBuffer src) throws IOException {
            FileIo.writeFully(channel, pos, src);
        }

        @Override
        public void writeZeroes(long pos, long len) throws IOException {
            host.zeroRange(pos, len);
        }

        @Override
        public void flush() throws IOException {
            channel.force(false);
        }

        @Override
        public void close() throws IOException {
            try {
                locks.close();
                host.close();
            } finally {
                channel.close();
            }
        }
    }
}
