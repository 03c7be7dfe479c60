package io.qedfs.fuse;

import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.ErrorCodes;

/**
 * Answers FUSE_LSEEK requests itself, before libfuse2 sees them. libfuse2 has no lseek: it would answer ENOSYS,
 * and the kernel would then stop asking for the rest of the mount and report every file as all data (its
 * generic llseek), so that {@code cp --sparse}, {@code tar --sparse} and {@code qemu-img convert} read every
 * hole. The kernel sends FUSE_LSEEK only for SEEK_DATA and SEEK_HOLE (SEEK_SET, SEEK_CUR and SEEK_END never
 * leave it) and takes the offset of the reply as the file's new position; an error reply, ENXIO say, becomes
 * the caller's errno.
 *
 * <p>The request carries the handle the file's open stored ({@code fi->fh}, which libfuse2 passes to the kernel
 * as it is). The reply goes straight to the channel every other reply uses; libfuse2 keeps no state about a
 * request it never saw.
 */
final class SeekRequests {
    static final int FUSE_LSEEK = 46;
    // fuse_in_header: u32 len; u32 opcode; u64 unique; u64 nodeid; u32 uid, gid, pid, padding (40 bytes)
    private static final int IN_HEADER_LEN = 0;
    private static final int IN_HEADER_OPCODE = 4;
    private static final int IN_HEADER_UNIQUE = 8;
    private static final int IN_HEADER_BYTES = 40;
    // fuse_lseek_in: u64 fh; u64 offset; u32 whence; u32 padding
    private static final int LSEEK_IN_FH = IN_HEADER_BYTES;
    private static final int LSEEK_IN_OFFSET = IN_HEADER_BYTES + 8;
    private static final int LSEEK_IN_WHENCE = IN_HEADER_BYTES + 16;
    private static final int LSEEK_IN_BYTES = 24;
    // fuse_out_header: u32 len; s32 error; u64 unique; then fuse_lseek_out: u64 offset. struct iovec: base, len
    private static final int OUT_HEADER_BYTES = 16;
    private static final int LSEEK_OUT_BYTES = 8;
    private static final int IOV_BYTES = 16;
    private static final Logger LOG = LoggerFactory.getLogger(SeekRequests.class);

    /** Finds data or a hole: the offset found, or a negative errno. */
    @FunctionalInterface
    interface Seeker {
        long seek(long handle, long offset, int whence);
    }

    private final LibFuse2 lib;
    private final Runtime runtime;
    private final Pointer channel;
    private final Seeker seeker;

    SeekRequests(LibFuse2 lib, Runtime runtime, Pointer channel, Seeker seeker) {
        this.lib = lib;
        this.runtime = runtime;
        this.channel = channel;
        this.seeker = seeker;
    }

    /**
     * Answers the request in {@code mem} (as read from /dev/fuse) when it is an lseek, and returns true; false
     * for every other request, which is libfuse2's to process.
     */
    boolean answer(Pointer mem) {
        if (mem.getInt(IN_HEADER_OPCODE) != FUSE_LSEEK) {
            return false;
        }
        long unique = mem.getLong(IN_HEADER_UNIQUE);
        long result;
        if (Integer.toUnsignedLong(mem.getInt(IN_HEADER_LEN)) < IN_HEADER_BYTES + LSEEK_IN_BYTES) {
            result = -ErrorCodes.EINVAL(); // never ENOSYS, which would end lseek for the mount
        } else {
            long handle = mem.getLong(LSEEK_IN_FH);
            long offset = mem.getLong(LSEEK_IN_OFFSET);
            int whence = mem.getInt(LSEEK_IN_WHENCE);
            result = seeker.seek(handle, offset, whence);
            LOG.debug("lseek handle {} offset {} whence {}: {}", handle, offset, whence, result);
        }
        reply(unique, result);
        return true;
    }

    private void reply(long unique, long result) {
        int length = result < 0 ? OUT_HEADER_BYTES : OUT_HEADER_BYTES + LSEEK_OUT_BYTES;
        Pointer out = Memory.allocateDirect(runtime, OUT_HEADER_BYTES + LSEEK_OUT_BYTES, true);
        out.putInt(0, length);
        out.putInt(4, result < 0 ? (int) result : 0); // fits: an errno
        out.putLong(8, unique);
        if (result >= 0) {
            out.putLong(OUT_HEADER_BYTES, result);
        }
        Pointer iov = Memory.allocateDirect(runtime, IOV_BYTES, true);
        iov.putPointer(0, out);
        iov.putLong(8, length);
        int rc = lib.send(channel.address(), iov.address(), 1);
        if (rc != 0) {
            // as libfuse2 treats a reply it cannot send: ENOENT means the request was interrupted meanwhile
            LOG.debug("lseek reply for request {} not delivered: errno {}", unique, -rc);
        }
    }
}
