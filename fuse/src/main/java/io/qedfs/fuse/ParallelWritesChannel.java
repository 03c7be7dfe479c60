package io.qedfs.fuse;

import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.Delegate;
import jnr.ffi.annotations.IgnoreError;
import jnr.ffi.types.size_t;

/**
 * A libfuse2 channel that only replies, used for OPEN requests: it sets FOPEN_PARALLEL_DIRECT_WRITES in the
 * open reply and passes it on to the real channel.
 *
 * <p>Why: for a direct_io file the kernel holds the inode lock exclusively for the whole round trip of every
 * write, unless the open reply carries FOPEN_PARALLEL_DIRECT_WRITES (kernel 6.2+); then writes inside the file
 * run in parallel. libfuse2 has no way to set that flag (fuse_file_info has no bit for it), but the reply
 * passes through the channel the request is processed with, and this loop chooses that channel per request.
 * The engine takes concurrent writes already (issue 4's concurrency tests); older kernels ignore the bit.
 */
final class ParallelWritesChannel {
    /** FUSE_OPEN in fuse_in_header.opcode. */
    static final int FUSE_OPEN = 14;
    private static final int IN_HEADER_OPCODE = 4;
    private static final int FOPEN_PARALLEL_DIRECT_WRITES = 1 << 6;
    // struct iovec: void *base; size_t len. fuse_out_header: u32 len; s32 error; u64 unique.
    // fuse_open_out: u64 fh; u32 open_flags; u32 padding.
    private static final int IOV_BYTES = 16;
    private static final int OUT_HEADER_ERROR = 4;
    private static final int OPEN_OUT_FLAGS = 8;

    /** libfuse2's channel functions. */
    public interface ChannelLib {
        @IgnoreError
        Pointer fuse_chan_new(Pointer ops, int fd, @size_t long bufsize, Pointer data);

        @IgnoreError
        int fuse_chan_fd(Pointer ch);

        @IgnoreError
        int fuse_chan_send(Pointer ch, Pointer iov, @size_t long count);
    }

    /** The send operation of struct fuse_chan_ops. */
    public interface Send {
        @Delegate
        int send(Pointer ch, Pointer iov, @size_t long count);
    }

    private final ChannelLib lib;
    private final Pointer real;
    private final Send send; // kept reachable: libfuse holds only its native stub
    private final Pointer ops;
    private final Pointer channel;

    ParallelWritesChannel(ChannelLib lib, Runtime runtime, Pointer real, long bufsize) {
        this.lib = lib;
        this.real = real;
        this.send = this::sendPatched;
        // struct fuse_chan_ops (libfuse 2.6+): receive, send, destroy; only send is ever called here
        this.ops = Memory.allocateDirect(runtime, 3L * runtime.addressSize(), true);
        ops.putPointer(runtime.addressSize(), runtime.getClosureManager().getClosurePointer(Send.class, send));
        this.channel = lib.fuse_chan_new(ops, lib.fuse_chan_fd(real), bufsize, null);
        if (channel == null) {
            throw new IllegalStateException("fuse_chan_new failed");
        }
    }

    /** True when the request in {@code mem} (as read from /dev/fuse) is an OPEN. */
    static boolean isOpen(Pointer mem) {
        return mem.getInt(IN_HEADER_OPCODE) == FUSE_OPEN;
    }

    /** The channel to process an OPEN request with. */
    Pointer channel() {
        return channel;
    }

    private int sendPatched(Pointer ch, Pointer iov, long count) {
        if (count >= 2) {
            Pointer header = iov.getPointer(0);
            Pointer openOut = iov.getPointer(IOV_BYTES);
            long openOutLen = iov.getLong(IOV_BYTES + 8);
            if (header.getInt(OUT_HEADER_ERROR) == 0 && openOutLen >= OPEN_OUT_FLAGS + 4) {
                openOut.putInt(OPEN_OUT_FLAGS, openOut.getInt(OPEN_OUT_FLAGS) | FOPEN_PARALLEL_DIRECT_WRITES);
            }
        }
        return lib.fuse_chan_send(real, iov, count);
    }
}
