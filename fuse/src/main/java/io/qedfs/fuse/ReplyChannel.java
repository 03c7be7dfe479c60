package io.qedfs.fuse;

import com.kenai.jffi.Closure;
import com.kenai.jffi.Type;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * A libfuse2 channel that only replies, for the two requests whose answers libfuse2 cannot phrase as this
 * file system wants: it adjusts the reply and passes it on to the real channel. The loop chooses the channel
 * per request, so every other reply goes out untouched.
 *
 * <ul>
 *   <li>OPEN: sets FOPEN_PARALLEL_DIRECT_WRITES (kernel 6.2+). For a direct_io file the kernel otherwise holds
 *   the inode lock exclusively for each write's whole round trip; with it, writes inside the file run in
 *   parallel. fuse_file_info has no bit for it. The engine takes concurrent writes already.</li>
 *   <li>INIT: when the kernel offers FUSE_MAX_PAGES, asks for 1 MiB requests (max_pages 256, max_write 1 MiB)
 *   instead of libfuse2's 128 KiB. libfuse2's fuse_init_out predates max_pages, so the reply is re-sent with
 *   the longer structure; the protocol minor libfuse2 announced stays as it is (the kernel reads max_pages
 *   by the flag, not by the minor). The loop's request buffers are sized for it.</li>
 * </ul>
 */
final class ReplyChannel {
    static final int FUSE_OPEN = 14;
    static final int FUSE_INIT = 26;
    /** Request size asked for in INIT, and the room a request buffer needs for it (headers included). */
    static final int BIG_WRITE = 1 << 20;
    static final int BIG_REQUEST_BUFFER = BIG_WRITE + 4096;
    private static final int IN_HEADER_OPCODE = 4;
    private static final int IN_HEADER_BYTES = 40;
    private static final int INIT_IN_FLAGS = 12;
    private static final int FUSE_MAX_PAGES = 1 << 22;
    private static final int FOPEN_PARALLEL_DIRECT_WRITES = 1 << 6;
    // struct iovec: void *base; size_t len. fuse_out_header: u32 len; s32 error; u64 unique.
    private static final int IOV_BYTES = 16;
    private static final int OUT_HEADER_BYTES = 16;
    private static final int OUT_HEADER_ERROR = 4;
    private static final int OPEN_OUT_FLAGS = 8; // fuse_open_out: u64 fh; u32 open_flags
    // fuse_init_out: major, minor, max_readahead, flags (u32); max_background, congestion_threshold (u16);
    // max_write, time_gran (u32); max_pages (u16) ... 64 bytes in all; libfuse2 sends the first 24
    private static final int INIT_OUT_FLAGS = 12;
    private static final int INIT_OUT_MAX_WRITE = 20;
    private static final int INIT_OUT_MAX_PAGES = 28;
    private static final int INIT_OUT_BYTES = 64;

    private final LibFuse2 lib;
    private final Runtime runtime;
    private final Pointer real;
    private final Pointer openChannel;
    private final Pointer initChannel;
    private final Object[] keepAlive; // libfuse holds only the native stubs and ops structs

    ReplyChannel(LibFuse2 lib, Runtime runtime, Pointer real, long bufsize) {
        this.lib = lib;
        this.runtime = runtime;
        this.real = real;
        // send(ch, iov, count) of struct fuse_chan_ops
        Closure.Handle open = NativeCallback.to(this, "sendOpen", Type.SINT, Type.POINTER, Type.POINTER, Type.ULONG);
        Closure.Handle init = NativeCallback.to(this, "sendInit", Type.SINT, Type.POINTER, Type.POINTER, Type.ULONG);
        Pointer openOps = ops(open);
        Pointer initOps = ops(init);
        int fd = lib.channelFd(real.address());
        this.openChannel = channel(lib.newChannel(openOps.address(), fd, bufsize));
        this.initChannel = channel(lib.newChannel(initOps.address(), fd, bufsize));
        this.keepAlive = new Object[] {open, init, openOps, initOps};
    }

    // struct fuse_chan_ops (libfuse 2.6+): receive, send, destroy; only send is ever called here
    private Pointer ops(Closure.Handle send) {
        Pointer ops = Memory.allocateDirect(runtime, 3L * runtime.addressSize(), true);
        ops.putAddress(runtime.addressSize(), send.getAddress());
        return ops;
    }

    private Pointer channel(long address) {
        if (address == 0) {
            throw new IllegalStateException("fuse_chan_new failed");
        }
        return Pointer.wrap(runtime, address);
    }

    /** The channel to process the request in {@code mem} (as read from /dev/fuse) with, or null for the usual one. */
    Pointer channelFor(Pointer mem) {
        int opcode = mem.getInt(IN_HEADER_OPCODE);
        if (opcode == FUSE_OPEN) {
            return openChannel;
        }
        if (opcode == FUSE_INIT && (mem.getInt(IN_HEADER_BYTES + INIT_IN_FLAGS) & FUSE_MAX_PAGES) != 0) {
            return initChannel;
        }
        return null;
    }

    private int sendOpen(long ch, long iovAddress, long count) {
        Pointer iov = Pointer.wrap(runtime, iovAddress);
        if (count >= 2 && succeeded(iov) && iov.getLong(IOV_BYTES + 8) >= OPEN_OUT_FLAGS + 4) {
            Pointer openOut = iov.getPointer(IOV_BYTES);
            openOut.putInt(OPEN_OUT_FLAGS, openOut.getInt(OPEN_OUT_FLAGS) | FOPEN_PARALLEL_DIRECT_WRITES);
        }
        return lib.send(real.address(), iovAddress, count);
    }

    private int sendInit(long ch, long iovAddress, long count) {
        Pointer iov = Pointer.wrap(runtime, iovAddress);
        long outLen = count >= 2 ? iov.getLong(IOV_BYTES + 8) : 0;
        if (!succeeded(iov) || outLen < INIT_OUT_MAX_WRITE + 4 || outLen > INIT_OUT_BYTES) {
            return lib.send(real.address(), iovAddress, count);
        }
        Pointer header = Memory.allocateDirect(runtime, OUT_HEADER_BYTES, true);
        Pointer initOut = Memory.allocateDirect(runtime, INIT_OUT_BYTES, true);
        Pointer newIov = Memory.allocateDirect(runtime, 2L * IOV_BYTES, true);
        byte[] copy = new byte[OUT_HEADER_BYTES];
        iov.getPointer(0).get(0, copy, 0, OUT_HEADER_BYTES);
        header.put(0, copy, 0, OUT_HEADER_BYTES);
        header.putInt(0, OUT_HEADER_BYTES + INIT_OUT_BYTES);
        byte[] body = new byte[(int) outLen];
        iov.getPointer(IOV_BYTES).get(0, body, 0, body.length);
        initOut.put(0, body, 0, body.length);
        initOut.putInt(INIT_OUT_FLAGS, initOut.getInt(INIT_OUT_FLAGS) | FUSE_MAX_PAGES);
        initOut.putInt(INIT_OUT_MAX_WRITE, BIG_WRITE);
        initOut.putShort(INIT_OUT_MAX_PAGES, (short) (BIG_WRITE / 4096));
        newIov.putPointer(0, header);
        newIov.putLong(8, OUT_HEADER_BYTES);
        newIov.putPointer(IOV_BYTES, initOut);
        newIov.putLong(IOV_BYTES + 8, INIT_OUT_BYTES);
        return lib.send(real.address(), newIov.address(), 2);
    }

    private static boolean succeeded(Pointer iov) {
        return iov.getPointer(0).getInt(OUT_HEADER_ERROR) == 0;
    }
}
