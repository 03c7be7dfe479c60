package io.qedfs.fuse;

import com.kenai.jffi.CallContext;
import com.kenai.jffi.CallContextCache;
import com.kenai.jffi.CallingConvention;
import com.kenai.jffi.Closure;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.MemoryIO;
import com.kenai.jffi.Type;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.List;
import jnr.ffi.BaseStruct;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.FuseOperations;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * libfuse2's {@code struct fuse_operations} for a {@link FuseCallbacks}: jnr-fuse's FuseOperations lays it out,
 * and each entry is a {@link NativeCallback} into a method here that hands the C arguments on in jnr-fuse's
 * types, as jnr-fuse's AbstractFuseFS does. AbstractFuseFS makes its entries with jnr-ffi, which generates a
 * class with ASM for each callback type and for libfuse2's functions: most of the time from the start of a
 * mount's JVM to a ready mount went there (docs/fuse-notes.md, "Start-up").
 *
 * <p>Paths are decoded with the JVM's default charset, as jnr-ffi decodes a {@code const char *} argument. Keep
 * the object as long as libfuse2 may call the struct: the entries live only as long as it does.
 */
final class NativeOperations {
    private static final Logger LOG = LoggerFactory.getLogger(NativeOperations.class);
    private static final Runtime RUNTIME = Runtime.getSystemRuntime();
    private static final MemoryIO MEMORY = MemoryIO.getInstance();
    private static final Charset PATHS = Charset.defaultCharset();
    private static final Type P = Type.POINTER;
    private static final Type INT = Type.SINT;
    private static final Type UINT = Type.UINT; // mode_t, uid_t, gid_t
    private static final Type OFF = Type.SLONG;

    private final FuseCallbacks fs;
    private final FuseOperations struct = new FuseOperations(RUNTIME);
    /** The entries libfuse2 calls; held so that their trampolines stay allocated. */
    private final List<Closure.Handle> entries = new ArrayList<>();
    private final DirectIo directIo;

    NativeOperations(FuseCallbacks fs) {
        this.fs = fs;
        struct.useMemory(Memory.allocateDirect(RUNTIME, Struct.size(struct), true)); // libfuse2 copies it from here
        bind(struct.getattr, "getattr", P, P);
        bind(struct.readdir, "readdir", P, P, P, OFF, P);
        bind(struct.open, "open", P, P);
        bind(struct.truncate, "truncate", P, OFF);
        bind(struct.ftruncate, "ftruncate", P, OFF, P);
        bind(struct.fsync, "fsync", P, INT, P);
        bind(struct.flush, "flush", P, P);
        bind(struct.release, "release", P, P);
        bind(struct.fallocate, "fallocate", P, INT, OFF, OFF, P);
        bind(struct.statfs, "statfs", P, P);
        bind(struct.chmod, "chmod", P, UINT);
        bind(struct.chown, "chown", P, UINT, UINT);
        bind(struct.utimens, "utimens", P, P);
        this.directIo = DirectIo.install(struct, fs);
    }

    /**
     * Binds libfuse2 and loads what the struct and its entries need (jnr-ffi's runtime, jnr-fuse's structs, and
     * jnr-ffi's native memory, whose first use sets up java.util.logging), so that a thread can do it while
     * another opens the images. A failure shows where the binding is used.
     */
    static void prepare() {
        try {
            LibFuse2.get();
            new FuseOperations(RUNTIME);
            FileStat.of(Memory.allocateDirect(RUNTIME, 256, true));
            DirectIo.handle(Memory.allocateDirect(RUNTIME, 64, true).address());
            Statvfs.of(null);
            Timespec.of(null);
        } catch (Throwable t) {
            // the mount meets it again, and reports it
        }
    }

    private void bind(BaseStruct.Func<?> entry, String name, Type... params) {
        Closure.Handle h = NativeCallback.to(this, name, INT, params);
        entries.add(h);
        Struct.getMemory(struct).putAddress(entry.offset(), h.getAddress());
    }

    /** The struct's address, for fuse_setup. */
    long address() {
        return Struct.getMemory(struct).address();
    }

    /** The struct's size in bytes, for fuse_setup. */
    long size() {
        return Struct.size(struct);
    }

    // The entries, called by libfuse2 with its arguments as they are (see NativeCallback). Each catches what the
    // conversion might throw: an exception escaping into jffi becomes a reply of 0 (docs/fuse-notes.md).

    private int getattr(long path, long stat) {
        try {
            return fs.getattr(string(path), FileStat.of(pointer(stat)));
        } catch (Throwable t) {
            return Errno.of(t, "getattr", string(path), LOG);
        }
    }

    private int readdir(long path, long buf, long filler, long offset, long fi) {
        try {
            return fs.readdir(string(path), pointer(buf), new Filler(filler), offset, fileInfo(fi));
        } catch (Throwable t) {
            return Errno.of(t, "readdir", string(path), LOG);
        }
    }

    private int open(long path, long fi) {
        try {
            return fs.open(string(path), FuseFileInfo.of(pointer(fi)));
        } catch (Throwable t) {
            return Errno.of(t, "open", string(path), LOG);
        }
    }

    private int truncate(long path, long size) {
        try {
            return fs.truncate(string(path), size);
        } catch (Throwable t) {
            return Errno.of(t, "truncate", string(path), LOG);
        }
    }

    private int ftruncate(long path, long size, long fi) {
        try {
            return fs.ftruncate(string(path), size, fileInfo(fi));
        } catch (Throwable t) {
            return Errno.of(t, "ftruncate", string(path), LOG);
        }
    }

    private int fsync(long path, int datasync, long fi) {
        try {
            return fs.fsync(string(path), datasync, fileInfo(fi));
        } catch (Throwable t) {
            return Errno.of(t, "fsync", string(path), LOG);
        }
    }

    private int flush(long path, long fi) {
        try {
            return fs.flush(string(path), fileInfo(fi));
        } catch (Throwable t) {
            return Errno.of(t, "flush", string(path), LOG);
        }
    }

    private int release(long path, long fi) {
        try {
            return fs.release(string(path), fileInfo(fi));
        } catch (Throwable t) {
            return Errno.of(t, "release", string(path), LOG);
        }
    }

    private int fallocate(long path, int mode, long offset, long length, long fi) {
        try {
            return fs.fallocate(string(path), mode, offset, length, fileInfo(fi));
        } catch (Throwable t) {
            return Errno.of(t, "fallocate", string(path), LOG);
        }
    }

    private int statfs(long path, long stat) {
        try {
            return fs.statfs(string(path), Statvfs.of(pointer(stat)));
        } catch (Throwable t) {
            return Errno.of(t, "statfs", string(path), LOG);
        }
    }

    private int chmod(long path, int mode) {
        try {
            return fs.chmod(string(path), Integer.toUnsignedLong(mode));
        } catch (Throwable t) {
            return Errno.of(t, "chmod", string(path), LOG);
        }
    }

    private int chown(long path, int uid, int gid) {
        try {
            return fs.chown(string(path), Integer.toUnsignedLong(uid), Integer.toUnsignedLong(gid));
        } catch (Throwable t) {
            return Errno.of(t, "chown", string(path), LOG);
        }
    }

    private int utimens(long path, long times) {
        try {
            Timespec atime = Timespec.of(pointer(times));
            Timespec mtime = Timespec.of(pointer(times).slice(Struct.size(atime)));
            return fs.utimens(string(path), new Timespec[] {atime, mtime});
        } catch (Throwable t) {
            return Errno.of(t, "utimens", string(path), LOG);
        }
    }

    private static String string(long address) {
        return address == 0 ? null : new String(MEMORY.getZeroTerminatedByteArray(address), PATHS);
    }

    private static Pointer pointer(long address) {
        return address == 0 ? null : Pointer.wrap(RUNTIME, address);
    }

    private static FuseFileInfo fileInfo(long address) {
        return address == 0 ? null : FuseFileInfo.of(pointer(address));
    }

    /**
     * readdir's {@code fuse_fill_dir_t}: adds one entry to libfuse2's reply, the name passed as a C string.
     * Returns 1 once the buffer is full.
     */
    private static final class Filler implements FuseFillDir {
        private static final CallContext CALL = CallContextCache.getInstance().getCallContext(INT,
                new Type[] {P, P, P, OFF}, CallingConvention.DEFAULT, false);
        private final long function;

        Filler(long function) {
            this.function = function;
        }

        @Override
        public int apply(Pointer buf, ByteBuffer name, Pointer stbuf, long off) {
            ByteBuffer bytes = name.duplicate();
            int length = bytes.remaining();
            long cName = MEMORY.allocateMemory(length + 1L, true); // zeroed: the terminating NUL is there
            try {
                byte[] copy = new byte[length];
                bytes.get(copy);
                MEMORY.putByteArray(cName, copy, 0, length);
                return (int) Invoker.getInstance().invokeN4(CALL, function, buf == null ? 0 : buf.address(), cName,
                        stbuf == null ? 0 : stbuf.address(), off);
            } finally {
                MEMORY.freeMemory(cName);
            }
        }
    }
}
