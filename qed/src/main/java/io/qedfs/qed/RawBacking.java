package io.qedfs.qed;

import io.qedfs.qed.host.FileIo;
import io.qedfs.qed.host.FileOpener;
import io.qedfs.qed.host.HostFile;
import io.qedfs.qed.host.ImageLocks;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A raw file as backing store; it may be shorter or longer than the image. Read-locked as QEMU locks a
 * backing file (others may read it, nobody may write it) unless opened without locks. Where its data lies is
 * the host's answer (SEEK_DATA/SEEK_HOLE): a sparse raw base passes its holes on to the images above it.
 */
final class RawBacking implements Backing {
    private final Path path;
    private final String name;
    private final FileChannel channel;
    private final HostFile host; // a second descriptor: SEEK_DATA/SEEK_HOLE, and the locks
    private final ImageLocks locks; // null without locks
    private final long size;

    /** {@code subject}: how errors name the file ("top.qed: backing file base.raw"). */
    RawBacking(Path path, String name, String subject, boolean lock) throws IOException {
        this.path = path;
        this.name = name;
        this.channel = FileOpener.open(path, false, subject); // a FIFO or a character device is refused
        HostFile hostFile = null;
        try {
            hostFile = new HostFile(path, channel, false);
            this.locks = lock ? ImageLocks.acquire(hostFile, channel, true, path.toString()) : null;
            this.host = hostFile;
            this.size = channel.size();
        } catch (IOException | RuntimeException e) {
            if (hostFile != null) {
                hostFile.close();
            }
            channel.close();
            throw e;
        }
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(long pos, ByteBuffer dst) throws IOException {
        FileIo.readOrZero(channel, pos, dst);
    }

    @Override
    public String fileName() {
        return name;
    }

    @Override
    public String format() {
        return "raw";
    }

    @Override
    public List<Path> files() {
        return List.of(path);
    }

    @Override
    public long nextData(long pos, long end) {
        long limit = Math.min(end, size);
        return pos >= limit ? -1 : host.nextData(pos, limit);
    }

    @Override
    public long nextHole(long pos, long end) {
        return pos >= size ? pos : Math.min(host.nextHole(pos, size), end);
    }

    @Override
    public List<Extent> map(long pos, long len, int depth) {
        List<Extent> out = new ArrayList<>(2);
        long inFile = Math.max(0, Math.min(len, size - pos));
        if (inFile > 0) {
            out.add(new Extent(pos, inFile, depth, true, false, true, pos));
        }
        if (inFile < len) {
            // qemu-img map gives the range past a raw file's end the depth of the image above it
            out.add(new Extent(pos + inFile, len - inFile, depth - 1, false, true, false, -1));
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        try {
            if (locks != null) {
                locks.close();
            }
            host.close();
        } finally {
            channel.close();
        }
    }
}
