package io.qedfs.qed;

/**
 * One stretch of an image's map, with {@code qemu-img map}'s meaning.
 *
 * @param start   guest offset
 * @param length  bytes
 * @param depth   the chain level the bytes come from: 0 the image itself, 1 its backing file, and so on
 * @param present whether any level allocates the stretch
 * @param zero    whether it reads as zeroes
 * @param data    whether it is stored data
 * @param offset  where it lies in the file at that depth, or -1 when it is not data
 */
public record Extent(long start, long length, int depth, boolean present, boolean zero, boolean data, long offset) {
    /**
     * Tells whether two extents can be shown as one.
     *
     * @param next the extent after this one
     * @return true when {@code next} directly follows and looks the same
     */
    public boolean joins(Extent next) {
        return start + length == next.start && depth == next.depth && present == next.present
                && zero == next.zero && data == next.data
                && (offset < 0 ? next.offset < 0 : next.offset == offset + length);
    }

    /**
     * This extent made longer, as when {@link #joins} holds for the next one.
     *
     * @param more bytes to add
     * @return the longer extent
     */
    public Extent extendedBy(long more) {
        return new Extent(start, length + more, depth, present, zero, data, offset);
    }
}
