package io.qedfs.qed.host;

import java.nio.ByteBuffer;

/** Small ByteBuffer helpers: zero fills and zero detection without per-call allocation. */
public final class Buffers {
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << 20).asReadOnlyBuffer();

    private Buffers() {
    }

    /** Writes {@code n} zero bytes at the buffer's position and advances it. */
    public static void fillZeros(ByteBuffer dst, int n) {
        int left = n;
        while (left > 0) {
            int chunk = Math.min(left, ZEROS.capacity());
            dst.put(dst.position(), ZEROS, 0, chunk); // absolute: no duplicate of ZEROS to allocate
            dst.position(dst.position() + chunk);
            left -= chunk;
        }
    }

    /** A read-only buffer of {@code n} zero bytes (n at most 1 MiB). */
    public static ByteBuffer zeros(int n) {
        return ZEROS.duplicate().limit(n);
    }

    public static int zerosCapacity() {
        return ZEROS.capacity();
    }

    /** True when every byte between position and limit is zero; does not move the position. */
    public static boolean isZero(ByteBuffer b) {
        int i = b.position();
        int end = b.limit();
        for (; i + 8 <= end; i += 8) {
            if (b.getLong(i) != 0) {
                return false;
            }
        }
        for (; i < end; i++) {
            if (b.get(i) != 0) {
                return false;
            }
        }
        return true;
    }
}
