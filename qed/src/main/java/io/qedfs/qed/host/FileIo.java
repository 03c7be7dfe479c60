package io.qedfs.qed.host;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/** Positional read/write loops whose errors name the file, the position and the length. */
public final class FileIo {
    private FileIo() {
    }

    /** Reads exactly {@code dst.remaining()} bytes at {@code pos}; fails at end of file. */
    public static void readFully(FileChannel ch, long pos, ByteBuffer dst, String file) throws IOException {
        int want = dst.remaining();
        long at = pos;
        while (dst.hasRemaining()) {
            int n = ch.read(dst, at);
            if (n < 0) {
                throw new EOFException(String.format("%s: short read of %d bytes at offset 0x%x (end of file at 0x%x)",
                        file, want, pos, at));
            }
            at += n;
        }
    }

    /** Reads up to {@code dst.remaining()} bytes at {@code pos} and fills what lies past end of file with zeroes. */
    public static void readOrZero(FileChannel ch, long pos, ByteBuffer dst) throws IOException {
        long at = pos;
        while (dst.hasRemaining()) {
            int n = ch.read(dst, at);
            if (n < 0) {
                Buffers.fillZeros(dst, dst.remaining());
                return;
            }
            at += n;
        }
    }

    public static void writeFully(FileChannel ch, long pos, ByteBuffer src) throws IOException {
        long at = pos;
        while (src.hasRemaining()) {
            at += ch.write(src, at);
        }
    }
}
