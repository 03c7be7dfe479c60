package io.qedfs.cli;

import com.kenai.jffi.CallingConvention;
import com.kenai.jffi.Function;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.Library;
import com.kenai.jffi.MemoryIO;
import com.kenai.jffi.Type;

/**
 * Moves this process into {@code /} (chdir, which Java has no call for), as a daemon should: a serving process
 * keeps no directory of its caller busy and writes no file into one. Every path the process still uses must
 * be absolute by then: the JVM resolves relative paths against the directory it started in, the kernel
 * against {@code /}.
 */
final class RootDirectory {
    private RootDirectory() {
    }

    /** chdir("/"); false when it could not be done (the process then stays where it is, which only costs that). */
    static boolean enter() {
        try {
            long chdir = Library.getDefault().getSymbolAddress("chdir");
            if (chdir == 0 || !"amd64".equals(System.getProperty("os.arch"))) {
                return false;
            }
            MemoryIO memory = MemoryIO.getInstance();
            long root = memory.allocateMemory(2, true);
            try {
                memory.putByte(root, (byte) '/');
                // x86_64: the argument and the result travel as 64-bit words; the int result is the low half
                Function f = new Function(chdir, Type.SLONG, new Type[] {Type.SLONG}, CallingConvention.DEFAULT, false);
                return (int) Invoker.getInstance().invokeLrL(f, root) == 0;
            } finally {
                memory.freeMemory(root);
            }
        } catch (Throwable t) {
            return false;
        }
    }
}
