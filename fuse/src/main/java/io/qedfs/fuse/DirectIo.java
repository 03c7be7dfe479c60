package io.qedfs.fuse;

import com.kenai.jffi.MemoryIO;
import java.nio.charset.StandardCharsets;
import jnr.ffi.Memory;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.Delegate;
import jnr.ffi.types.intptr_t;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
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
    /** read(path, buf, size, offset, fi) or write(...), every pointer as its address. */
    public interface Transfer {
        @Delegate
        int transfer(@intptr_t long path, @intptr_t long buf, @size_t long size, @off_t long offset, @intptr_t long fi);
    }

    /** Where {@code fh} lies in libfuse2's struct fuse_file_info, as jnr-fuse lays it out. */
    private static final long FH_OFFSET = FuseFileInfo.of(Memory.allocateDirect(Runtime.getSystemRuntime(), 64)).fh.offset();
    private static final MemoryIO MEMORY = MemoryIO.getInstance();

    private final Transfer read;
    private final Transfer write;

    private DirectIo(Transfer read, Transfer write) {
        this.read = read;
        this.write = write;
    }

    /**
     * Points the struct's read and write at {@code read} and {@code write}. Keep the result as long as the struct
     * is in use: it holds the callbacks, whose native stubs live only as long as they do.
     */
    static DirectIo install(FuseOperations ops, Transfer read, Transfer write) {
        DirectIo io = new DirectIo(read, write);
        var closures = ops.getRuntime().getClosureManager();
        ops.read.getMemory().putPointer(ops.read.offset(), closures.getClosurePointer(Transfer.class, io.read));
        ops.write.getMemory().putPointer(ops.write.offset(), closures.getClosurePointer(Transfer.class, io.write));
        return io;
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
