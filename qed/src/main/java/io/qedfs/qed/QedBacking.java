package io.qedfs.qed;

import io.qedfs.qed.host.Buffers;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A QED image used read-only as the backing file of another. */
final class QedBacking implements Backing {
    private final QedImage image;
    private final String name;

    QedBacking(QedImage image, String name) {
        this.image = image;
        this.name = name;
    }

    @Override
    public long size() {
        return image.size();
    }

    @Override
    public void read(long pos, ByteBuffer dst) throws IOException {
        long inImage = Math.max(0, Math.min(dst.remaining(), image.size() - pos));
        if (inImage > 0) {
            // fits in int: at most dst.remaining()
            ByteBuffer part = dst.slice(dst.position(), (int) inImage);
            image.read(pos, part);
            dst.position(dst.position() + (int) inImage);
        }
        Buffers.fillZeros(dst, dst.remaining());
    }

    @Override
    public String fileName() {
        return name;
    }

    @Override
    public String format() {
        return "qed";
    }

    @Override
    public List<Path> files() {
        List<Path> out = new ArrayList<>();
        out.add(image.path());
        out.addAll(image.backingFiles());
        return out;
    }

    @Override
    public long nextData(long pos, long end) throws IOException {
        return image.nextData(pos, end); // -1 past the image's end: that part reads as zeroes
    }

    @Override
    public long nextHole(long pos, long end) throws IOException {
        return image.nextHole(pos, end); // pos itself past the image's end: that part reads as zeroes
    }

    @Override
    public List<Extent> map(long pos, long len, int depth) throws IOException {
        return image.mapper().map(pos, len, depth);
    }

    @Override
    public void close() throws IOException {
        image.close();
    }
}
