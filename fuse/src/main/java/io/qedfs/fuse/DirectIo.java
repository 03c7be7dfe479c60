package io.qedfs.fuse;

import com.kenai.jffi.Closure;
import com.kenai.jffi.MemoryIO;
import com.kenai.jffi.Type;
import java.nio.charset.StandardCharsets;
import jnr.ffi.Struct;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.FuseOperations;

/**
 * The read and write entries of the {@code fuse_operations} struct, bound to callbacks that take libfuse's
 * pointers as plain addresses. jnr-fuse's own decode the path into a String and build a FuseFileInfo struct
 * (a dozen objects and more) for every request, which under small random I/O would be most of what the server
 * allocates. These find the file by the handle its open stored in {@code fi->fh} instead, so a request costs
 * no path and no struct (docs/architecture.md, "Direct read and write").
 */
final class DirectIo {
    /** Where {@code fh} lies in libfuse2's struct fuse_file_info, as jnr-fuse lays it out. */
    private static final long FH_OFFSET = FuseFileInfo.of(null).fh.offset();
    private static final MemoryIO MEMORY = MemoryIO.getInstance();
    // read and write (path, buf, size, offset, fi): size_t and off_t are 64-bit words, as pointers are
    private static final Type[] TRANSFER = {Type.POINTER, Type.POINTER, Type.ULONG, Type.SLONG, Type.POINTER};

    private final FuseCallbacks fs;
    private final Closure.Handle read;
    private final Closure.Handle write;

    private DirectIo(FuseCallbacks fs) {
        this.fs = fs;
        this.read = NativeCallback.to(this, "read", Type.SINT, TRANSFER);
        this.write = NativeCallback.to(this, "write", Type.SINT, TRANSFER);
    }

    /**
     * Points the struct's read and write at {@code fs}'s. Keep the result as long as the struct is in use: it
     * holds the callbacks, whose native stubs live only as long as they do.
     */
    static DirectIo install(FuseOperations ops, FuseCallbacks fs) {
        DirectIo io = new DirectIo(fs);
        Struct.getMemory(ops).putAddress(ops.read.offset(), io.read.getAddress());
        Struct.getMemory(ops).putAddress(ops.write.offset(), io.write.getAddress());
        return io;
    }

    // called by libfuse2 through the handles above (NativeCallback), with its arguments as they are
    private int read(long path, long buf, long size, long offset, long fi) {
        return fs.read(path, buf, size, offset, fi);
    }

    private int write(long path, long buf, long size, long offset, long fi) {
        return fs.write(path, buf, size, offset, fi);
    }

    /** The handle an open stored in {@code fi}. */
    static long handle(long fi) {
        return MEMORY.getLong(fi + FH_OFFSET);
    }

    /** The path libfuse passed, decoded: only for a request that comes without a handle. */
    static String path(long path) {
        return new String(MEMORY.getZeroTerminatedByteArray(path), StandardCharsets.UTF_8);
    }
}
