package io.qedfs.qed;

import java.io.IOException;

/**
 * Grows an image. Only image_size changes (the file does not). Where the backing file reaches past the old
 * size, the new range is zeroed explicitly so that stale backing data does not appear in the guest (QEMU 7.2
 * refuses such resizes instead). Shrinking is refused.
 *
 * <p>Order: the zeroes first (zero clusters, zeroed tails), synced, then the header with the new size, synced.
 * Until the header is published nobody can reach the grown range (every request is checked against the
 * published size), so the zeroing cannot overwrite a concurrent write there, no reader sees the backing data
 * it hides, and a crash at any point leaves either the old size or the new size with its zeroes on disk.
 * All of it runs under the allocation lock, which also orders the resize against zero writes that cover the
 * last cluster whole because they reach the image end (see {@link WritePath#writeZeroes}).
 */
final class ImageResizer {
    private ImageResizer() {
    }

    static void resize(ImageEngine engine, long requested) throws IOException {
        ImageMetadata meta = engine.meta();
        long newSize = (requested + 511) & ~511L;
        long max = meta.geometry.maxImageSize();
        if (requested < 0 || newSize < 0 || newSize > max) {
            throw new IllegalArgumentException(String.format("%s: new size %d is invalid (allowed: up to %d for this cluster and table size)",
                    meta.name, requested, max));
        }
        try (Allocator.Held locked = meta.allocator.hold()) {
            long old = meta.header().imageSize();
            if (newSize < old) {
                throw new IllegalArgumentException(String.format("%s: shrinking is not supported (image is %d bytes, asked for %d)",
                        meta.name, old, newSize));
            }
            if (newSize == old) {
                return;
            }
            meta.reachTo(newSize); // the cached slices must hold the grown range's entries before they are zeroed
            zeroStaleRange(meta, engine.writes(), engine.backing(), old, newSize);
            meta.sync();
            meta.writeHeader(meta.header().withImageSize(newSize));
            meta.sync();
        }
    }

    /**
     * Makes what {@code [old, newSize)} would show read as zeroes: the tail of the old last cluster (a data
     * cluster's copy-on-write bytes from past the old end, or backing data) and the backing file's data past
     * the old end. Caller holds the allocation lock; the image size is still {@code old}.
     */
    private static void zeroStaleRange(ImageMetadata meta, WritePath writes, Backing backing, long old, long newSize)
            throws IOException {
        long tailEnd = old + Math.min(newSize - old, meta.geometry.padToCluster(old));
        if (tailEnd > old && isStale(meta.lookup(old, tailEnd - old), backing, old)) {
            writes.writeZeroes(old, tailEnd - old);
        }
        long backingEnd = backing == null ? 0 : Math.min(newSize, backing.size());
        if (backingEnd > tailEnd) {
            writes.writeZeroes(tailEnd, backingEnd - tailEnd);
        }
    }

    /** True when the last cluster's part past the old end would not read as zeroes. */
    private static boolean isStale(Run tail, Backing backing, long old) {
        return switch (tail.kind()) {
            case DATA -> true;
            case ZERO -> false;
            case UNALLOCATED -> backing != null && backing.size() > old;
        };
    }
}
