package io.qedfs.qed;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Describes which guest ranges an image (and its backing chain) stores, for {@code map} and st_blocks. */
final class ImageMapper {
    private final ImageMetadata meta;
    private final Backing backing; // null when the image has none

    ImageMapper(ImageMetadata meta, Backing backing) {
        this.meta = meta;
        this.backing = backing;
    }

    /** Extents covering {@code [pos, pos+len)}, adjacent look-alikes merged; {@code depth} is this image's level. */
    List<Extent> map(long pos, long len, int depth) throws IOException {
        List<Extent> out = new ArrayList<>();
        long size = meta.header().imageSize();
        long end = pos + len;
        long at = pos;
        while (at < Math.min(end, size)) {
            Run run = meta.lookup(at, Math.min(end, size) - at);
            switch (run.kind()) {
                case DATA -> add(out, new Extent(at, run.length(), depth, true, false, true, run.fileOffset()));
                case ZERO -> add(out, new Extent(at, run.length(), depth, true, true, false, -1));
                case UNALLOCATED -> {
                    if (backing == null) {
                        add(out, new Extent(at, run.length(), depth, false, true, false, -1));
                    } else {
                        for (Extent e : backing.map(at, run.length(), depth + 1)) {
                            add(out, e);
                        }
                    }
                }
            }
            at += run.length();
        }
        if (at < end) {
            add(out, new Extent(at, end - at, depth, false, true, false, -1));
        }
        return out;
    }

    /** What a walk over the image's own clusters is told, run by run. */
    interface RunVisitor {
        void visit(Run run) throws IOException;
    }

    /**
     * Visits, in guest order, the runs of this image's own L2 entries (never its backing file's) that cover
     * {@code [pos, pos+len)} clipped to the image.
     */
    void forEachOwnRun(long pos, long len, RunVisitor visitor) throws IOException {
        long end = Math.min(pos + len, meta.header().imageSize());
        for (long at = pos; at < end; ) {
            Run run = meta.lookup(at, end - at);
            visitor.visit(run);
            at += run.length();
        }
    }

    /** Bytes of data clusters this image itself holds (not its backing files). */
    long allocatedDataBytes() throws IOException {
        return allocatedDataBytes(0, meta.header().imageSize());
    }

    /** Bytes of {@code [pos, pos+len)} (clipped to the image) that this image itself holds as data. */
    long allocatedDataBytes(long pos, long len) throws IOException {
        long[] total = {0};
        forEachOwnRun(pos, len, run -> {
            if (run.kind() == Run.Kind.DATA) {
                total[0] += run.length();
            }
        });
        return total[0];
    }

    private static void add(List<Extent> out, Extent e) {
        if (!out.isEmpty()) {
            Extent last = out.get(out.size() - 1);
            if (last.joins(e)) {
                out.set(out.size() - 1, last.extendedBy(e.length()));
                return;
            }
        }
        out.add(e);
    }
}
