package io.qedfs.qed;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The write-behind slots that one or more images share: each queued write holds one slot (one
 * {@link WriteBehind#MAX_WRITE} buffer's worth, whether the buffer is the caller's or a copy) until it is
 * applied, so that the bytes queued across every image stay within the budget. A write that finds no slot free
 * is written synchronously, by its caller, as a write that cannot reserve host space is.
 *
 * <p>The copies' buffers are pooled here too, so that an image that closes leaves them for the others; there
 * are never more of them than slots.
 */
final class WriteBuffers {
    private final int slots;
    private final AtomicInteger free;
    private final ConcurrentLinkedQueue<ByteBuffer> spare = new ConcurrentLinkedQueue<>();

    WriteBuffers(int slots) {
        if (slots < 1) {
            throw new IllegalArgumentException("write-behind slots must be at least 1: " + slots);
        }
        this.slots = slots;
        this.free = new AtomicInteger(slots);
    }

    int slots() {
        return slots;
    }

    /** Takes a slot for one queued write; false when every slot is taken. */
    boolean tryTake() {
        for (int n; (n = free.get()) > 0; ) {
            if (free.compareAndSet(n, n - 1)) {
                return true;
            }
        }
        return false;
    }

    /** Gives back the slot of a write that has been applied (or dropped). */
    void give() {
        free.incrementAndGet();
    }

    /** A buffer of {@link WriteBehind#MAX_WRITE} bytes to copy a write into; the caller holds a slot for it. */
    ByteBuffer copyBuffer() {
        ByteBuffer b = spare.poll();
        return (b != null ? b : ByteBuffer.allocateDirect(WriteBehind.MAX_WRITE)).clear();
    }

    void recycle(ByteBuffer copy) {
        spare.offer(copy);
    }

    /** Slots in use right now. */
    int inUse() {
        return slots - free.get();
    }
}
