package io.qedfs.qed;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicLongArray;

/** Byte order and layout of L1/L2 tables: arrays of little-endian u64 entries. */
final class TableCodec {
    /** The L2 entry of a zero cluster: reads as zeroes, hides the backing file, owns no space. */
    static final long ZERO_CLUSTER = 1;
    static final int SECTOR = 512;
    static final int ENTRIES_PER_SECTOR = SECTOR / 8;

    private TableCodec() {
    }

    /** Decodes {@code n} entries from {@code buf} into {@code t} from index {@code at}. */
    static void decodeInto(ByteBuffer buf, AtomicLongArray t, int at, int n) {
        ByteBuffer b = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int p = b.position();
        for (int i = 0; i < n; i++) {
            t.setPlain(at + i, b.getLong(p + i * 8));
        }
    }

    /**
     * Encodes entries [from, to) into a new buffer ready to be written; on the heap, so that it is gone with the
     * next young collection (a direct one would hold native memory until then too, see TableIo.read).
     */
    static ByteBuffer encode(AtomicLongArray t, int from, int to) {
        ByteBuffer b = ByteBuffer.allocate((to - from) * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = from; i < to; i++) {
            b.putLong(t.get(i));
        }
        return b.flip();
    }
}
