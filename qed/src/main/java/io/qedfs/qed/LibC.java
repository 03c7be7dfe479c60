package io.qedfs.qed;

import com.kenai.jffi.Function;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.Library;
import com.kenai.jffi.MemoryIO;
import com.kenai.jffi.Type;
import java.nio.charset.StandardCharsets;

/**
 * The libc calls FileChannel lacks (fallocate, SEEK_DATA, OFD locks, st_blocks), bound directly through jffi.
 * jnr-ffi's LibraryLoader generates a class with ASM for an interface like this one, which took 0.1-0.2 s of
 * every command's start; a jffi Function is a symbol address and a call descriptor. x86_64 Linux: every
 * argument and result travels as a 64-bit word, and int results are read from the low half.
 */
final class LibC implements FileSyscalls {
    private static final LibC INSTANCE = load();

    private final Invoker invoker = Invoker.getInstance();
    private final MemoryIO memory = MemoryIO.getInstance();
    private final Function open;
    private final Function close;
    private final Function fallocate;
    private final Function lseek;
    private final Function fcntl;
    private final Function fstat;
    private final Function ftruncate;
    private final Function syncFileRange;

    private LibC(Library libc) {
        open = function(libc, "open", 2);
        close = function(libc, "close", 1);
        fallocate = function(libc, "fallocate", 4);
        lseek = function(libc, "lseek", 3);
        fcntl = function(libc, "fcntl", 3);
        fstat = function(libc, "fstat", 2);
        ftruncate = function(libc, "ftruncate", 2);
        syncFileRange = function(libc, "sync_file_range", 4);
    }

    /** The binding, or null where it cannot be made (callers then fall back to FileChannel alone). */
    static LibC get() {
        return INSTANCE;
    }

    private static LibC load() {
        try {
            if (!"amd64".equals(System.getProperty("os.arch")) || !"Linux".equals(System.getProperty("os.name"))) {
                return null; // the struct layouts below are x86_64 Linux's
            }
            return new LibC(Library.getDefault());
        } catch (Throwable e) { // no native support here
            return null;
        }
    }

    private static Function function(Library lib, String name, int params) {
        long address = lib.getSymbolAddress(name);
        if (address == 0) {
            throw new UnsatisfiedLinkError("libc has no " + name);
        }
        Type[] types = new Type[params];
        java.util.Arrays.fill(types, Type.SLONG);
        return new Function(address, Type.SLONG, types);
    }

    @Override
    public int open(String path, int flags) {
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        long str = memory.allocateMemory(name.length + 1, true);
        try {
            memory.putByteArray(str, name, 0, name.length);
            return (int) invoker.invokeLLrL(open, str, flags);
        } finally {
            memory.freeMemory(str);
        }
    }

    @Override
    public int close(int fd) {
        return (int) invoker.invokeLrL(close, fd);
    }

    @Override
    public int fallocate(int fd, int mode, long offset, long len) {
        return (int) invoker.invokeLLLLrL(fallocate, fd, mode, offset, len);
    }

    @Override
    public long lseek(int fd, long offset, int whence) {
        return invoker.invokeLLLrL(lseek, fd, offset, whence);
    }

    @Override
    public int lastError() {
        return com.kenai.jffi.LastError.getInstance().get();
    }

    @Override
    public int startWriteback(int fd, long offset, long len) {
        return (int) invoker.invokeLLLLrL(syncFileRange, fd, offset, len, 2);
    }

    @Override
    public int ftruncate(int fd, long length) {
        return (int) invoker.invokeLLrL(ftruncate, fd, length);
    }

    @Override
    public int fcntlLock(int fd, int cmd, short type, long start, long len, short[] typeAfter) {
        long flock = memory.allocateMemory(32, true); // struct flock: x86_64 layout
        try {
            memory.putShort(flock, type);          // l_type
            memory.putShort(flock + 2, (short) 0); // l_whence = SEEK_SET
            memory.putLong(flock + 8, start);      // l_start
            memory.putLong(flock + 16, len);       // l_len; l_pid (byte 24) stays 0, as OFD locks require
            int rc = (int) invoker.invokeLLLrL(fcntl, fd, cmd, flock);
            typeAfter[0] = memory.getShort(flock);
            return rc;
        } finally {
            memory.freeMemory(flock);
        }
    }

    /** x86_64 struct stat: st_blocks at 64 of 144. */
    @Override
    public long allocatedBytes(int fd) {
        long st = memory.allocateMemory(144, true);
        try {
            return (int) invoker.invokeLLrL(fstat, fd, st) == 0 ? memory.getLong(st + 64) * 512 : -1;
        } finally {
            memory.freeMemory(st);
        }
    }
}
