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

    static AtomicLongArray decode(ByteBuffer buf, int entries) {
        ByteBuffer b = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        AtomicLongArray t = new AtomicLongArray(entries);
        int p = b.position();
        for (int i = 0; i < entries; i++) {
            t.setPlain(i, b.getLong(p + i * 8));
        }
        return t;
    }

    /** Encodes entries [from, to) into a new buffer ready to be written. */
    static ByteBuffer encode(AtomicLongArray t, int from, int to) {
        ByteBuffer b = ByteBuffer.allocateDirect((to - from) * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = from; i < to; i++) {
            b.putLong(t.get(i));
        }
        return b.flip();
    }
}
