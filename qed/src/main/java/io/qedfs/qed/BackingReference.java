package io.qedfs.qed;

import io.qedfs.qed.host.FileIo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;

/**
 * Changes which backing file a header names. The name lives in the header cluster after the 64-byte header;
 * the new name is written where the old one is not (when there is room), synced, and only then does the
 * one-sector header point at it, so a crash leaves either the old reference or the new one, never a mix.
 */
final class BackingReference {
    private BackingReference() {
    }

    /**
     * Writes {@code newName} (null or empty: no backing file) into the header cluster and syncs it; returns the
     * header that refers to it, for the caller to write. {@code format} "raw" records the no-probe bit.
     */
    static QedHeader placeName(FileChannel ch, QedHeader h, String newName, String format, String file) throws IOException {
        long flags = QedHeader.F_BACKING_FILE | QedHeader.F_BACKING_FORMAT_NO_PROBE;
        if (newName == null || newName.isEmpty()) {
            return h.withBacking(h.features() & ~flags, 0, 0);
        }
        byte[] name = newName.getBytes(StandardCharsets.UTF_8);
        long room = Geometry.of(h).headerBytes;
        if (name.length > HeaderValidator.MAX_BACKING_NAME || QedHeader.SIZE + name.length > room) {
            throw new IllegalArgumentException(file + ": backing file name of " + name.length + " bytes is too long (at most "
                    + Math.min(HeaderValidator.MAX_BACKING_NAME, room - QedHeader.SIZE) + ")");
        }
        long offset = freeSpot(h, name.length, room);
        FileIo.writeFully(ch, offset, ByteBuffer.wrap(name));
        ch.force(false);
        long features = (h.features() & ~flags) | QedHeader.F_BACKING_FILE
                | ("raw".equals(format) ? QedHeader.F_BACKING_FORMAT_NO_PROBE : 0);
        return h.withBacking(features, offset, name.length);
    }

    /** Writes the header sector and syncs: the step that makes the new reference current. */
    static void writeHeader(FileChannel ch, QedHeader h) throws IOException {
        FileIo.writeFully(ch, 0, h.encode());
        ch.force(false);
    }

    /** Where a name of {@code len} bytes fits without overwriting the current one. */
    private static long freeSpot(QedHeader h, long len, long room) {
        if (!h.hasBackingFile() || QedHeader.SIZE + len <= h.backingNameOffset()) {
            return QedHeader.SIZE;
        }
        long after = Math.max(QedHeader.SIZE, h.backingNameOffset() + h.backingNameSize());
        if (after + len <= room) {
            return after;
        }
        // No room beside the old name (two names of thousands of bytes): overwrite it. A crash before the
        // header write then leaves a garbled name, which open reports; the image data is untouched.
        return QedHeader.SIZE;
    }
}
