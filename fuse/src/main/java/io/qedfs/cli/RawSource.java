package io.qedfs.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import jnr.posix.POSIX;

/** A raw file. Holes are skipped with SEEK_DATA/SEEK_HOLE where the platform has them. */
final class RawSource implements ConvertSource {
    private static final int SEEK_DATA = 3;
    private static final int SEEK_HOLE = 4;
    private static final int ENXIO = 6;

    private final String name;
    private final Path path;
    private final FileChannel channel;
    private final long size;

    RawSource(Path path) throws IOException {
        this.name = path.toString();
        this.path = path;
        this.channel = FileChannel.open(path, StandardOpenOption.READ);
        this.size = channel.size();
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public List<long[]> dataRanges() {
        List<long[]> whole = size == 0 ? List.of() : List.<long[]>of(new long[] {0, size});
        POSIX posix = DiskUsage.posix();
        if (posix == null || size == 0) {
            return whole;
        }
        int fd = posix.open(path.toString(), 0, 0); // O_RDONLY
        if (fd < 0) {
            return whole;
        }
        try {
            List<long[]> out = new ArrayList<>();
            long at = 0;
            while (at < size) {
                long data = posix.lseekLong(fd, at, SEEK_DATA);
                if (data < 0 && posix.errno() != ENXIO) {
                    return whole; // SEEK_DATA not supported: read everything
                }
                if (data < 0 || data >= size) {
                    break; // ENXIO: only holes from here to the end
                }
                long hole = posix.lseekLong(fd, data, SEEK_HOLE);
                long end = hole < 0 ? size : Math.min(hole, size);
                if (end <= data) {
                    return whole;
                }
                out.add(new long[] {data, end - data});
                at = end;
            }
            return out;
        } catch (RuntimeException e) { // no usable lseek here: read everything
            return whole;
        } finally {
            posix.close(fd);
        }
    }

    @Override
    public void read(long pos, ByteBuffer dst) throws IOException {
        long at = pos;
        while (dst.hasRemaining()) {
            int n;
            try {
                n = channel.read(dst, at);
            } catch (IOException e) {
                throw Inputs.naming(name, e);
            }
            if (n < 0) {
                while (dst.hasRemaining()) {
                    dst.put((byte) 0); // the file shrank while we read it: the rest is gone
                }
                return;
            }
            at += n;
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
