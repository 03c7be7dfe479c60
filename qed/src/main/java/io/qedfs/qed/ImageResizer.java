package io.qedfs.qed;

import java.io.IOException;

/**
 * Grows an image. Only image_size changes (the file does not). Where the backing file reaches past the old
 * size, the new range is zeroed explicitly so that stale backing data does not appear in the guest (QEMU 7.2
 * refuses such resizes instead). Shrinking is refused.
 */
final class ImageResizer {
    private ImageResizer() {
    }

    static void resize(QedImage image, ImageMetadata meta, WritePath writes, Backing backing, long requested)
            throws IOException {
        long newSize = (requested + 511) & ~511L;
        long old = meta.header().imageSize();
        long max = meta.geometry.maxImageSize();
        if (requested < 0 || newSize < 0 || newSize > max) {
            throw new IllegalArgumentException(String.format("%s: new size %d is invalid (allowed: up to %d for this cluster and table size)",
                    meta.name, requested, max));
        }
        if (newSize < old) {
            throw new IllegalArgumentException(String.format("%s: shrinking is not supported (image is %d bytes, asked for %d)",
                    meta.name, old, newSize));
        }
        if (newSize == old) {
            return;
        }
        Run atOldEnd = old % meta.geometry.clusterSize != 0 ? meta.lookup(old, 1) : null;
        writes.allocLock.lock();
        try {
            writes.markDirty();
            meta.writeHeader(meta.header().withImageSize(newSize));
            meta.sync();
        } finally {
            writes.allocLock.unlock();
        }
        long stale = old;
        if (atOldEnd != null && atOldEnd.kind() == Run.Kind.DATA) {
            // the tail of the last cluster may hold copy-on-write bytes from past the old end
            stale = Math.min(newSize, meta.geometry.roundUp(old));
        }
        if (backing != null) {
            stale = Math.max(stale, Math.min(newSize, backing.size()));
        }
        if (stale > old) {
            image.writeZeroes(old, stale - old);
        }
    }
}
