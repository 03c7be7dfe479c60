package io.qedfs.cli;

import io.qedfs.qed.host.DataRange;
import io.qedfs.qed.host.FileOpener;
import io.qedfs.qed.host.SparseFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;

/** A raw file. Holes are skipped with SEEK_DATA/SEEK_HOLE where the file system has them. */
final class RawSource implements ConvertSource {
    private final String name;
    private final Path path;
    private final FileChannel channel;
    private final long size;

    RawSource(Path path) throws IOException {
        this.name = path.toString();
        this.path = path;
        this.channel = FileOpener.openReadOnly(path, name); // a FIFO or a character device is refused
        this.size = channel.size();
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public List<DataRange> dataRanges() throws IOException {
        try {
            return SparseFiles.dataRanges(path);
        } catch (IOException e) {
            throw Inputs.naming(name, e);
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
