package io.qedfs.qed;

/**
 * Decides whether a decoded header describes an image that can be opened, in the order QEMU checks
 * (docs/format.md, section 2). Every refusal names the file, the field, its value and the allowed range.
 */
final class HeaderValidator {
    /** QEMU reads backing names into a PATH_MAX buffer. */
    static final long MAX_BACKING_NAME = 4095;

    private HeaderValidator() {
    }

    static void validate(QedHeader h, String file, long fileLength) throws QedFormatException {
        long unknown = h.features() & ~QedHeader.KNOWN_FEATURES;
        if (unknown != 0) {
            throw new QedFormatException(String.format(
                    "%s: unsupported QED features 0x%x (this version knows 0x%x)", file, unknown, QedHeader.KNOWN_FEATURES));
        }
        if (!isPowerOfTwoIn(h.clusterSize(), Geometry.MIN_CLUSTER_SIZE, Geometry.MAX_CLUSTER_SIZE)) {
            throw new QedFormatException(String.format(
                    "%s: cluster_size 0x%x is invalid (allowed: a power of 2 from 4096 to 67108864)", file, h.clusterSize()));
        }
        if (!isPowerOfTwoIn(h.tableSize(), Geometry.MIN_TABLE_SIZE, Geometry.MAX_TABLE_SIZE)) {
            throw new QedFormatException(String.format(
                    "%s: table_size 0x%x is invalid (allowed: a power of 2 from 1 to 16 clusters)", file, h.tableSize()));
        }
        long max = Geometry.maxImageSize(h.clusterSize(), h.tableSize());
        if (h.imageSize() < 0 || h.imageSize() % 512 != 0 || h.imageSize() > max) {
            throw new QedFormatException(String.format(
                    "%s: image_size 0x%x is invalid (allowed: a multiple of 512 from 0 to 0x%x for cluster_size %d and table_size %d)",
                    file, h.imageSize(), max, h.clusterSize(), h.tableSize()));
        }
        if (h.headerSize() == 0 || h.headerSize() > 0xffffffffL / h.clusterSize()) {
            throw new QedFormatException(String.format(
                    "%s: header_size 0x%x is invalid (allowed: 1 to %d clusters)", file, h.headerSize(), 0xffffffffL / h.clusterSize()));
        }
        Geometry g = Geometry.of(h);
        long fileSize = fileLength & -h.clusterSize();
        if (!g.isValidTableOffset(h.l1TableOffset(), fileSize)) {
            throw new QedFormatException(String.format(
                    "%s: l1_table_offset 0x%x is invalid (allowed: cluster-aligned, at or after the header end 0x%x, "
                            + "with the %d-cluster table inside the file of 0x%x bytes)",
                    file, h.l1TableOffset(), g.headerBytes, h.tableSize(), fileLength));
        }
        if (h.hasBackingFile()) {
            long end = h.backingNameOffset() + h.backingNameSize();
            if (end > g.headerBytes || h.backingNameSize() > MAX_BACKING_NAME) {
                throw new QedFormatException(String.format(
                        "%s: backing file name at 0x%x, %d bytes, is out of range (allowed: inside the header's 0x%x bytes, at most %d bytes)",
                        file, h.backingNameOffset(), h.backingNameSize(), g.headerBytes, MAX_BACKING_NAME));
            }
            if (h.backingNameSize() == 0) {
                throw new QedFormatException(file + ": the backing file flag is set but the backing file name is empty");
            }
        }
    }

    static boolean isPowerOfTwoIn(long v, long min, long max) {
        return v >= min && v <= max && Long.bitCount(v) == 1;
    }
}
