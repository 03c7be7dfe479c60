package io.qedfs.fuse;

import java.util.concurrent.ConcurrentLinkedQueue;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * The buffer a FUSE worker thread receives requests into, which a write may keep: the image then queues the
 * request's bytes where they are instead of copying them (one copy of 1 MiB less per request of a sequential
 * write), and the worker receives its next request into a spare buffer. Kept buffers come back to the pool,
 * shared by a session's workers, once the image has applied their bytes.
 *
 * <p>Keeping is safe because libfuse2 does not touch a request's memory once the write callback returns: it
 * has parsed the header before, and the reply is built elsewhere.
 */
final class RequestBuffer {
    private static final ThreadLocal<RequestBuffer> OF_THREAD = new ThreadLocal<>();

    private final Pool pool;
    private Pointer mem;
    private boolean kept;

    /** Spare request buffers; grows to what is in flight (bounded by the images' write-behind queues). */
    static final class Pool {
        private final Runtime runtime;
        private final long size;
        private final ConcurrentLinkedQueue<Pointer> spare = new ConcurrentLinkedQueue<>();

        Pool(Runtime runtime, long size) {
            this.runtime = runtime;
            this.size = size;
        }

        long size() {
            return size;
        }

        private Pointer take() {
            Pointer p = spare.poll();
            return p != null ? p : Memory.allocateDirect(runtime, size, false);
        }
    }

    private RequestBuffer(Pool pool) {
        this.pool = pool;
        this.mem = pool.take();
    }

    /** Gives the calling (worker) thread its buffer. */
    static RequestBuffer bindToThisThread(Pool pool) {
        RequestBuffer b = new RequestBuffer(pool);
        OF_THREAD.set(b);
        return b;
    }

    /** The calling thread's buffer, or null on a thread that is not one of a session loop's workers. */
    static RequestBuffer ofThisThread() {
        return OF_THREAD.get();
    }

    /** Where to receive the next request: the same buffer, or a spare one when the last request's was kept. */
    Pointer forNextRequest() {
        if (kept) {
            mem = pool.take();
            kept = false;
        }
        return mem;
    }

    /** True when {@code [address, address + n)} lies in the buffer the current request was received into. */
    boolean holds(long address, long n) {
        long base = mem.address();
        return address >= base && address + n <= base + pool.size;
    }

    /**
     * Offers the current request's buffer to {@code keeper}, which returns true when it kept it: the buffer
     * then goes back to the pool when the keeper runs the give-back it was handed.
     */
    <E extends Exception> boolean offer(Keeper<E> keeper) throws E {
        Pointer p = mem;
        kept = true; // before handing it over: the give-back may run before the keeper returns
        boolean keeps = false;
        try {
            keeps = keeper.keep(() -> pool.spare.offer(p));
            return keeps;
        } finally {
            kept = keeps;
        }
    }

    /** Something that may keep a request buffer until it runs {@code giveBack}. */
    @FunctionalInterface
    interface Keeper<E extends Exception> {
        boolean keep(Runnable giveBack) throws E;
    }
}
