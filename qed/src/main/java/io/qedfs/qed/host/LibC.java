package io.qedfs.qed.host;

import com.kenai.jffi.CallingConvention;
import com.kenai.jffi.Function;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.Library;
import com.kenai.jffi.MemoryIO;
import com.kenai.jffi.Type;
import io.qedfs.qed.FileStatus;
import java.nio.charset.StandardCharsets;

/**
 * The libc calls FileChannel lacks (fallocate, SEEK_DATA, OFD locks, st_blocks), bound directly through jffi.
 * jnr-ffi's LibraryLoader would generate a class with ASM for an interface like this one on every start, a
 * cost each short command pays in full; a jffi Function is only a symbol address and a call descriptor.
 * x86_64 Linux: every argument and result travels as a 64-bit word, and int results are read from the low half.
 * {@link #bind} is how every native function of qedfs is bound (the FUSE layer's libc and libfuse2 calls too);
 * the rest of the class is the engine's.
 */
public final class LibC implements FileSyscalls {
    private static final LibC INSTANCE = load();

    private final Invoker invoker = Invoker.getInstance();
    private final MemoryIO memory = MemoryIO.getInstance();
    private final Function open;
    private final Function openCreating;
    private final Function close;
    private final Function fallocate;
    private final Function lseek;
    private final Function fcntl;
    private final Function fstat;
    private final Function ftruncate;
    private final Function syncFileRange;
    private final Function getuid;
    private final Function getpwuidR;
    private final Function getgrouplist;
    private final Function strerror;

    private LibC(Library libc) {
        open = function(libc, "open", 2);
        openCreating = function(libc, "open", 3);
        close = function(libc, "close", 1);
        fallocate = function(libc, "fallocate", 4);
        lseek = function(libc, "lseek", 3);
        fcntl = function(libc, "fcntl", 3);
        fstat = function(libc, "fstat", 2);
        ftruncate = function(libc, "ftruncate", 2);
        syncFileRange = function(libc, "sync_file_range", 4);
        getuid = function(libc, "getuid", 0);
        getpwuidR = function(libc, "getpwuid_r", 5);
        getgrouplist = function(libc, "getgrouplist", 4);
        strerror = function(libc, "strerror", 1);
    }

    /** The binding, or null where it cannot be made (callers then fall back to FileChannel alone). */
    public static LibC get() {
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
        return bind(lib, "libc", name, params, true);
    }

    /**
     * The function {@code name} of {@code lib} (called {@code libName} in the error) taking {@code params}
     * 64-bit words and returning one; {@code keepErrno}: whether errno is saved after each call, for
     * {@code LastError}. UnsatisfiedLinkError when the library has no such symbol.
     */
    public static Function bind(Library lib, String libName, String name, int params, boolean keepErrno) {
        long address = lib.getSymbolAddress(name);
        if (address == 0) {
            throw new UnsatisfiedLinkError(libName + " has no " + name);
        }
        Type[] types = new Type[params];
        java.util.Arrays.fill(types, Type.SLONG);
        return new Function(address, Type.SLONG, types, CallingConvention.DEFAULT, keepErrno);
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

    /** The C library's text for an errno value ("No such device or address"). */
    public String errorText(int errno) {
        long text = invoker.invokeLrL(strerror, errno);
        return text == 0 ? "error " + errno : new String(memory.getZeroTerminatedByteArray(text), StandardCharsets.UTF_8);
    }

    /**
     * open(path, flags, mode), for flags with O_CREAT. open is variadic; on x86_64 an int passed as a third
     * argument travels in the register the callee's va_arg reads first, so the plain call is the right one.
     */
    public int open(String path, int flags, int mode) {
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        long str = memory.allocateMemory(name.length + 1, true);
        try {
            memory.putByteArray(str, name, 0, name.length);
            return (int) invoker.invokeLLLrL(openCreating, str, flags, mode);
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

    /** The file type bits of st_mode (st_mode & S_IFMT) of the open file, or -1 when fstat fails. st_mode at 24. */
    public int fileType(int fd) {
        long st = memory.allocateMemory(144, true);
        try {
            return (int) invoker.invokeLLrL(fstat, fd, st) == 0 ? memory.getInt(st + 24) & 0170000 : -1;
        } finally {
            memory.freeMemory(st);
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

    /**
     * fstat of an open file, or null when it fails. x86_64 struct stat: st_mode at 24, st_uid 28, st_gid 32,
     * st_atim 72, st_mtim 88, st_ctim 104 (each tv_sec then tv_nsec).
     */
    @Override
    public FileStatus status(int fd) {
        long st = memory.allocateMemory(144, true);
        try {
            if ((int) invoker.invokeLLrL(fstat, fd, st) != 0) {
                return null;
            }
            return new FileStatus(memory.getInt(st + 24), memory.getInt(st + 28), memory.getInt(st + 32),
                    time(st + 72), time(st + 88), time(st + 104));
        } finally {
            memory.freeMemory(st);
        }
    }

    private java.nio.file.attribute.FileTime time(long timespec) {
        return java.nio.file.attribute.FileTime.from(java.time.Instant.ofEpochSecond(memory.getLong(timespec),
                memory.getLong(timespec + 8)));
    }

    /** The real user id of this process. */
    public int getuid() {
        return (int) invoker.invokeVrL(getuid);
    }

    /**
     * The account of user {@code uid} from the system's user database (files, LDAP, ... as NSS says): its name
     * and every group it is in, the primary one first; null when the user has no entry. x86_64 struct passwd:
     * pw_name at 0, pw_gid at 20, 48 bytes.
     */
    public Accounts.Account account(int uid) {
        final int bufferBytes = 16 << 10; // the strings of one entry; getpwuid_r says ERANGE if they do not fit
        long pwd = memory.allocateMemory(48, true);
        long buf = memory.allocateMemory(bufferBytes, true);
        long result = memory.allocateMemory(8, true);
        try {
            memory.putAddress(result, 0);
            int rc = (int) invoker.invokeLLLLLrL(getpwuidR, uid, pwd, buf, bufferBytes, result);
            if (rc != 0 || memory.getAddress(result) == 0) {
                return null;
            }
            long name = memory.getAddress(pwd);
            int gid = memory.getInt(pwd + 20);
            return new Accounts.Account(uid, cString(name), groups(name, gid));
        } finally {
            memory.freeMemory(result);
            memory.freeMemory(buf);
            memory.freeMemory(pwd);
        }
    }

    /** getgrouplist, growing its array until the user's groups fit (-1 says how many there are). */
    private int[] groups(long name, int gid) {
        int capacity = 64;
        for (int attempt = 0; attempt < 8; attempt++) {
            long groups = memory.allocateMemory(4L * capacity, true);
            long count = memory.allocateMemory(4, true);
            try {
                memory.putInt(count, capacity);
                int rc = (int) invoker.invokeLLLLrL(getgrouplist, name, gid, groups, count);
                int n = memory.getInt(count);
                if (rc >= 0) {
                    int[] out = new int[Math.min(n, capacity)];
                    for (int i = 0; i < out.length; i++) {
                        out[i] = memory.getInt(groups + 4L * i);
                    }
                    return out;
                }
                capacity = Math.max(capacity * 2, n);
            } finally {
                memory.freeMemory(count);
                memory.freeMemory(groups);
            }
        }
        return new int[] {gid};
    }

    private String cString(long address) {
        if (address == 0) {
            return null;
        }
        int len = 0;
        while (memory.getByte(address + len) != 0) {
            len++;
        }
        byte[] b = new byte[len];
        memory.getByteArray(address, b, 0, len);
        return new String(b, StandardCharsets.UTF_8);
    }
}
