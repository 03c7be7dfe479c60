package io.qedfs.qed;

/**
 * One stretch of an image's map, with qemu-img map's meaning: {@code depth} is the chain level the data
 * comes from (0 = the image itself), {@code present} whether any level allocates it, {@code zero} whether
 * it reads as zeroes, {@code data} whether it is stored data, {@code offset} where it lies in the file at
 * that depth (-1 when not data).
 */
public record Extent(long start, long length, int depth, boolean present, boolean zero, boolean data, long offset) {
    /** True when {@code next} directly follows and looks the same, so the two can be shown as one. */
    public boolean joins(Extent next) {
        return start + length == next.start && depth == next.depth && present == next.present
                && zero == next.zero && data == next.data
                && (offset < 0 ? next.offset < 0 : next.offset == offset + length);
    }

    public Extent extendedBy(long more) {
        return new Extent(start, length + more, depth, present, zero, data, offset);
    }
}
