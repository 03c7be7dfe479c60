package io.qedfs.qed;

import io.qedfs.qed.host.FileIo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;

/**
 * The 64-byte QED header, little-endian, at file offset 0.
 *
 * <pre>
 *  off size field
 *    0  u32 magic "QED\0"            32  u64 autoclear_features
 *    4  u32 cluster_size (bytes)     40  u64 l1_table_offset (bytes)
 *    8  u32 table_size (clusters)    48  u64 image_size (bytes)
 *   12  u32 header_size (clusters)   56  u32 backing_filename_offset (bytes)
 *   16  u64 features                 60  u32 backing_filename_size (bytes)
 *   24  u64 compat_features
 * </pre>
 *
 * u32 fields are held as non-negative longs so that all-ones values survive decoding and can be named in
 * error messages. {@link #decode} never fails on content; {@link HeaderValidator} decides what is valid.
 */
record QedHeader(
        long clusterSize,
        long tableSize,
        long headerSize,
        long features,
        long compatFeatures,
        long autoclearFeatures,
        long l1TableOffset,
        long imageSize,
        long backingNameOffset,
        long backingNameSize) {

    static final int MAGIC = 0x00444551;
    static final int SIZE = 64;

    static final long F_BACKING_FILE = 0x01;
    static final long F_NEED_CHECK = 0x02;
    static final long F_BACKING_FORMAT_NO_PROBE = 0x04;
    static final long KNOWN_FEATURES = F_BACKING_FILE | F_NEED_CHECK | F_BACKING_FORMAT_NO_PROBE;

    /**
     * Reads the header of the file {@code name}, {@code length} bytes long, open on {@code ch}; refuses a file too
     * short for one and a file without the QED magic (saying what it is instead). The fields are not validated.
     */
    static QedHeader read(FileChannel ch, String name, long length) throws IOException {
        if (length < SIZE) {
            throw new QedFormatException(String.format(
                    "%s: not a QED image: the file is %d bytes, shorter than the %d-byte header", name, length, SIZE));
        }
        ByteBuffer b = ByteBuffer.allocate(SIZE);
        FileIo.readFully(ch, 0, b, name);
        b.flip();
        if (!hasMagic(b)) {
            throw new QedFormatException(ForeignFormat.notQed(name, ch));
        }
        return decode(b);
    }

    /** Reads the fields of a header; {@code buf} must hold at least 64 bytes from its position. */
    static QedHeader decode(ByteBuffer buf) {
        ByteBuffer b = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int p = b.position();
        return new QedHeader(
                u32(b, p + 4), u32(b, p + 8), u32(b, p + 12),
                b.getLong(p + 16), b.getLong(p + 24), b.getLong(p + 32),
                b.getLong(p + 40), b.getLong(p + 48),
                u32(b, p + 56), u32(b, p + 60));
    }

    /** True when the first four bytes are the QED magic. */
    static boolean hasMagic(ByteBuffer buf) {
        return buf.remaining() >= 4 && buf.duplicate().order(ByteOrder.LITTLE_ENDIAN).getInt(buf.position()) == MAGIC;
    }

    /** The 64 encoded bytes, position 0, limit 64. */
    ByteBuffer encode() {
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC).putInt((int) clusterSize).putInt((int) tableSize).putInt((int) headerSize)
                .putLong(features).putLong(compatFeatures).putLong(autoclearFeatures)
                .putLong(l1TableOffset).putLong(imageSize)
                .putInt((int) backingNameOffset).putInt((int) backingNameSize);
        return b.flip();
    }

    boolean hasFeature(long bit) {
        return (features & bit) != 0;
    }

    boolean needsCheck() {
        return hasFeature(F_NEED_CHECK);
    }

    boolean hasBackingFile() {
        return hasFeature(F_BACKING_FILE);
    }

    QedHeader withFeatures(long newFeatures) {
        return new QedHeader(clusterSize, tableSize, headerSize, newFeatures, compatFeatures, autoclearFeatures,
                l1TableOffset, imageSize, backingNameOffset, backingNameSize);
    }

    QedHeader withAutoclearFeatures(long newAutoclear) {
        return new QedHeader(clusterSize, tableSize, headerSize, features, compatFeatures, newAutoclear,
                l1TableOffset, imageSize, backingNameOffset, backingNameSize);
    }

    QedHeader withImageSize(long newSize) {
        return new QedHeader(clusterSize, tableSize, headerSize, features, compatFeatures, autoclearFeatures,
                l1TableOffset, newSize, backingNameOffset, backingNameSize);
    }

    QedHeader withBacking(long newFeatures, long nameOffset, long nameSize) {
        return new QedHeader(clusterSize, tableSize, headerSize, newFeatures, compatFeatures, autoclearFeatures,
                l1TableOffset, imageSize, nameOffset, nameSize);
    }

    private static long u32(ByteBuffer b, int at) {
        return Integer.toUnsignedLong(b.getInt(at));
    }
}
