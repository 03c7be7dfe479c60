package io.qedfs.fuse;

import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.ErrorCodes;

/**
 * One thread of the {@link WorkerPool}, doing what a worker of libfuse2's {@code fuse_loop_mt.c} does:
 * {@code fuse_session_receive_buf} into its own fuse_buf (a read of /dev/fuse; the kernel hands each request
 * to exactly one reader), then {@code fuse_session_process_buf}, which runs the callback and writes the reply.
 * An lseek, which libfuse2 cannot process, is answered by {@link SeekRequests}; OPEN and INIT replies go
 * through the {@link ReplyChannel} that adjusts them. Its fuse_buf and channel slot are reused for every
 * request, its request buffer is replaced when a write kept it ({@link RequestBuffer}).
 *
 * <p>It returns when the session has ended (receive_buf returns 0: the kernel ended the connection), on a
 * read error other than EINTR, or on a Throwable; the last two exit the session, so that the others return too.
 */
final class SessionWorker implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(SessionWorker.class);

    // struct fuse_buf (fuse_common.h, libfuse 2.9, LP64): size_t size; enum flags; void *mem; int fd; off_t pos
    private static final int FUSE_BUF_SIZE = 0;
    private static final int FUSE_BUF_FLAGS = 8;
    private static final int FUSE_BUF_MEM = 16;
    private static final int FUSE_BUF_FD = 24;
    private static final int FUSE_BUF_POS = 32;
    private static final int FUSE_BUF_BYTES = 40;

    private final LibFuse2 lib;
    private final Runtime runtime;
    private final long session;
    private final Pointer channel;
    private final RequestBuffer.Pool buffers;
    private final ReplyChannel replies; // null: libfuse2's own OPEN and INIT replies
    private final SeekRequests seeks;
    private final Runnable onReturn;
    private final Pointer fbuf;
    private final Pointer channelSlot;
    /** Why this worker ended the session, or null; written by its thread before {@code onReturn}. */
    private volatile String failure;

    /** {@code onReturn} runs in the worker's thread as it returns, however it returns. */
    SessionWorker(LibFuse2 lib, Runtime runtime, long session, Pointer channel, RequestBuffer.Pool buffers,
            ReplyChannel replies, SeekRequests seeks, Runnable onReturn) {
        this.lib = lib;
        this.runtime = runtime;
        this.session = session;
        this.channel = channel;
        this.buffers = buffers;
        this.replies = replies;
        this.seeks = seeks;
        this.onReturn = onReturn;
        this.fbuf = Memory.allocateDirect(runtime, FUSE_BUF_BYTES, true);
        this.channelSlot = Memory.allocateDirect(runtime, runtime.addressSize(), true);
    }

    /** Why this worker ended the session (a read error or a Throwable), or null. */
    String failure() {
        return failure;
    }

    @Override
    public void run() {
        final int eintr = ErrorCodes.EINTR();
        final long chAddress = channel.address();
        try {
            RequestBuffer request = RequestBuffer.bindToThisThread(buffers);
            while (!lib.exited(session)) {
                // as fuse_loop_mt.c: a fresh fuse_buf over this thread's memory, and the session's channel
                Pointer mem = request.forNextRequest();
                fbuf.putLong(FUSE_BUF_SIZE, buffers.size());
                fbuf.putInt(FUSE_BUF_FLAGS, 0);
                fbuf.putAddress(FUSE_BUF_MEM, mem.address());
                fbuf.putInt(FUSE_BUF_FD, 0);
                fbuf.putLong(FUSE_BUF_POS, 0);
                channelSlot.putAddress(0, chAddress);
                int res = lib.receive(session, fbuf.address(), channelSlot.address());
                if (res == -eintr) {
                    continue;
                }
                if (res <= 0) { // 0: the session has ended (unmounted: ENODEV); < 0: a read error
                    if (res < 0) {
                        failure = "reading /dev/fuse failed with errno " + -res;
                        lib.exit(session);
                    }
                    break;
                }
                long c = channelSlot.getAddress(0);
                if (c == chAddress && seeks.answer(mem)) {
                    continue;
                }
                Pointer replyTo = c == chAddress ? channel : Pointer.wrap(runtime, c);
                if (replies != null && c == chAddress) {
                    Pointer special = replies.channelFor(mem);
                    if (special != null) {
                        replyTo = special;
                    }
                }
                lib.process(session, fbuf.address(), replyTo.address());
            }
        } catch (Throwable t) {
            failure = t.toString();
            LOG.error("FUSE worker {} failed: {}", Thread.currentThread().getName(), t.toString(), t);
            try {
                lib.exit(session);
            } catch (Throwable ignored) {
                // the pool is being stopped anyway
            }
        } finally {
            onReturn.run();
        }
    }
}
