package io.qedfs.qed;

import io.qedfs.qed.host.Buffers;
import io.qedfs.qed.host.FileIo;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Reads guest bytes run by run: data clusters from the image file, zero clusters as zeroes, unallocated ones from
 * the backing chain (zeroes without one). No lock: reads of allocated clusters run in parallel.
 */
final class ReadPath {
    private final ImageMetadata meta;
    private final Backing backing; // null when the image has none

    ReadPath(ImageMetadata meta, Backing backing) {
        this.meta = meta;
        this.backing = backing;
    }

    /** Fills {@code dst} from guest offset {@code pos}; the caller has checked the range. */
    void read(long pos, ByteBuffer dst) throws IOException {
        long at = pos;
        while (dst.hasRemaining()) {
            Run run = meta.lookup(at, dst.remaining());
            int n = (int) run.length(); // fits: at most dst.remaining()
            // the common case, one run for the whole request, needs no slice
            ByteBuffer piece = n == dst.remaining() ? dst : dst.slice(dst.position(), n);
            int start = dst.position();
            switch (run.kind()) {
                case DATA -> FileIo.readFully(meta.channel, run.fileOffset(), piece, meta.name);
                case ZERO -> Buffers.fillZeros(piece, n);
                case UNALLOCATED -> {
                    if (backing != null) {
                        backing.read(at, piece);
                    } else {
                        Buffers.fillZeros(piece, n);
                    }
                }
            }
            dst.position(start + n);
            at += n;
        }
    }
}
