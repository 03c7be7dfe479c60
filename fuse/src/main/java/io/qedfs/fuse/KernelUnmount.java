package io.qedfs.fuse;

import com.kenai.jffi.Function;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.LastError;
import com.kenai.jffi.Library;
import com.kenai.jffi.MemoryIO;
import io.qedfs.qed.host.LibC;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * umount(2) called directly, for root: what {@code fusermount -u} calls for root, without starting a process
 * (and a setuid program) for it. Anyone else needs fusermount, which checks that the mount is theirs.
 */
final class KernelUnmount {
    static final int EBUSY = 16;
    private static final int UMOUNT_NOFOLLOW = 8; // as fusermount: a symlink put at the mountpoint is not followed
    private static final Calls CALLS = Calls.load();

    private KernelUnmount() {
    }

    /** Whether {@link #unmount} can be used here: root, on x86_64 Linux with libc's umount2. */
    static boolean available() {
        return CALLS != null && ServerProcess.ownUid() == 0;
    }

    /** Unmounts {@code mountPoint} (a real path, as the mount table has it): 0, or the errno. */
    static int unmount(Path mountPoint) {
        return CALLS.umount(mountPoint);
    }

    /** The C library's text for an errno value ("Device or resource busy"). */
    static String describe(int errno) {
        return CALLS.describe(errno);
    }

    /** umount2 and strerror through jffi (x86_64: every argument and result a 64-bit word). */
    private static final class Calls {
        private final Invoker invoker = Invoker.getInstance();
        private final MemoryIO memory = MemoryIO.getInstance();
        private final Function umount2;
        private final Function strerror;

        private Calls(Library libc) {
            umount2 = LibC.bind(libc, "libc", "umount2", 2, true);
            strerror = LibC.bind(libc, "libc", "strerror", 1, false);
        }

        static Calls load() {
            try {
                return "amd64".equals(System.getProperty("os.arch")) && "Linux".equals(System.getProperty("os.name"))
                        ? new Calls(Library.getDefault()) : null;
            } catch (Throwable t) {
                return null;
            }
        }

        int umount(Path mountPoint) {
            byte[] name = MountTable.bytes(mountPoint);
            long path = memory.allocateMemory(name.length + 1, true);
            try {
                memory.putByteArray(path, name, 0, name.length);
                return (int) invoker.invokeLLrL(umount2, path, UMOUNT_NOFOLLOW) == 0 ? 0 : LastError.getInstance().get();
            } finally {
                memory.freeMemory(path);
            }
        }

        String describe(int errno) {
            long text = invoker.invokeLrL(strerror, errno);
            return text == 0 ? "error " + errno : new String(memory.getZeroTerminatedByteArray(text), StandardCharsets.UTF_8);
        }
    }
}
