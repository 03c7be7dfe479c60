package io.qedfs.fuse;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file under the mountpoint: the bytes {@code [offset, offset+length)} of an image, or the whole image
 * ({@link #whole}: offset 0 and whatever size the image has now, since truncate can grow it).
 */
record ImageView(String name, MountedImage image, long offset, long length) {
    private static final long WHOLE = -1;

    static ImageView whole(MountedImage m) {
        return new ImageView(m.name(), m, 0, WHOLE);
    }

    static ImageView window(String name, MountedImage m, long offset, long length) {
        return new ImageView(name, m, offset, length);
    }

    Path path() {
        return image.path();
    }

    boolean isWhole() {
        return length == WHOLE;
    }

    /** The file's size: a field read for a window, the image's current size for the whole image. */
    long size() {
        return length == WHOLE ? image.size() : length;
    }

    /** SEEK_DATA from {@code pos} of this file (below its size): where data is next, or -1 when none follows. */
    long nextData(long pos) throws IOException {
        long data = image.inUse().nextData(offset + pos, offset + size());
        return data < 0 ? -1 : data - offset;
    }

    /** SEEK_HOLE from {@code pos} of this file (below its size): where a hole is next, the file's end at the latest. */
    long nextHole(long pos) throws IOException {
        return image.inUse().nextHole(offset + pos, offset + size()) - offset;
    }
}
