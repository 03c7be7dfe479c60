package io.qedfs.cli;

import io.qedfs.qed.host.FileOpener;
import io.qedfs.qed.host.WriteLockedFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * A sparse raw file: sized with ftruncate, so that every range not written stays a hole. It holds QEMU's write
 * lock from before it is cut to nothing until it is closed: a file in use is refused unchanged.
 */
final class RawSink implements ConvertSink {
    /** File-system block size: zero blocks become holes. */
    private static final int GRANULARITY = 4096;

    private final String name;
    private final WriteLockedFile file;
    private final FileChannel channel;

    RawSink(Path path, long size) throws IOException {
        this.name = path.toString();
        this.file = WriteLockedFile.open(path); // a FIFO, a character device or a directory is refused
        try {
            if (!file.isRegularFile()) {
                // holes cannot be left in a block device: what it held would show through them
                throw new FileOpener.FileTypeException(path, name + ": is a block device; convert -O raw writes"
                        + " regular files only (they stay sparse)");
            }
            try {
                file.setLength(0);
                file.setLength(size);
            } catch (IOException e) {
                throw new CommandFailedException(name + ": cannot be cut to the new size (" + e.getMessage() + "): it is a"
                        + " disk of fixed size, such as a raw file of a qedfs mount, and convert -O raw writes files it can"
                        + " size; copy onto a disk with dd conv=notrunc", e);
            }
        } catch (IOException e) {
            file.close();
            throw Inputs.naming(name, e);
        }
        this.channel = file.channel();
    }

    @Override
    public int granularity() {
        return GRANULARITY;
    }

    @Override
    public void write(long pos, ByteBuffer src) throws IOException {
        try {
            long at = pos;
            while (src.hasRemaining()) {
                at += channel.write(src, at);
            }
        } catch (IOException e) {
            throw Inputs.naming(name, e);
        }
    }

    @Override
    public void finish() throws IOException {
        try {
            channel.force(false);
        } catch (IOException e) {
            throw Inputs.naming(name, e);
        }
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
