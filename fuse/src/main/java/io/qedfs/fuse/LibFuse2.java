package io.qedfs.fuse;

import com.kenai.jffi.Function;
import com.kenai.jffi.HeapInvocationBuffer;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.Library;
import com.kenai.jffi.MemoryIO;
import io.qedfs.qed.host.LibC;
import java.nio.charset.Charset;

/**
 * The libfuse2 functions the session loop and its reply channels call, bound directly through jffi: every
 * pointer is an address. jnr-ffi's LibraryLoader would generate a class with ASM for each interface of such
 * functions, which is start-up time on the way to a ready mount (docs/fuse-notes.md, "Start-up"); a jffi
 * Function is a symbol address and a call descriptor. x86_64 Linux: every argument and result travels as a
 * 64-bit word, and int results are read from the low half.
 */
final class LibFuse2 {
    private static final String[] NAMES = {"libfuse.so.2", "libfuse.so"};

    private final Invoker invoker = Invoker.getInstance();
    private final MemoryIO memory = MemoryIO.getInstance();
    private final Function setup;
    private final Function teardown;
    private final Function getSession;
    private final Function sessionNextChan;
    private final Function chanBufsize;
    private final Function sessionReceiveBuf;
    private final Function sessionProcessBuf;
    private final Function sessionExited;
    private final Function sessionExit;
    private final Function startCleanupThread;
    private final Function stopCleanupThread;
    private final Function chanNew;
    private final Function chanFd;
    private final Function chanSend;

    private LibFuse2(Library lib) {
        setup = function(lib, "fuse_setup", 7);
        teardown = function(lib, "fuse_teardown", 2);
        getSession = function(lib, "fuse_get_session", 1);
        sessionNextChan = function(lib, "fuse_session_next_chan", 2);
        chanBufsize = function(lib, "fuse_chan_bufsize", 1);
        sessionReceiveBuf = function(lib, "fuse_session_receive_buf", 3);
        sessionProcessBuf = function(lib, "fuse_session_process_buf", 3);
        sessionExited = function(lib, "fuse_session_exited", 1);
        sessionExit = function(lib, "fuse_session_exit", 1);
        startCleanupThread = function(lib, "fuse_start_cleanup_thread", 1);
        stopCleanupThread = function(lib, "fuse_stop_cleanup_thread", 1);
        chanNew = function(lib, "fuse_chan_new", 4);
        chanFd = function(lib, "fuse_chan_fd", 1);
        chanSend = function(lib, "fuse_chan_send", 3);
    }

    /** libfuse.so.2, bound once; UnsatisfiedLinkError when it is missing or lacks a function. */
    static LibFuse2 get() {
        Object bound = Bound.RESULT;
        if (bound instanceof LibFuse2 lib) {
            return lib;
        }
        throw (UnsatisfiedLinkError) bound;
    }

    /** The binding, or why it failed: made when first asked for, by whichever thread asks first. */
    private static final class Bound {
        static final Object RESULT = bindOrFailure();

        private static Object bindOrFailure() {
            try {
                return load();
            } catch (UnsatisfiedLinkError e) {
                return e;
            }
        }
    }

    private static LibFuse2 load() {
        if (!"amd64".equals(System.getProperty("os.arch")) || !"Linux".equals(System.getProperty("os.name"))) {
            throw new UnsatisfiedLinkError("qedfs's libfuse2 binding is for x86_64 Linux");
        }
        String failure = null;
        for (String name : NAMES) {
            Library lib = Library.getCachedInstance(name, Library.LAZY | Library.GLOBAL);
            if (lib != null) {
                return new LibFuse2(lib);
            }
            failure = Library.getLastError();
        }
        throw new UnsatisfiedLinkError("cannot load libfuse2 (libfuse.so.2; make deps installs it): " + failure);
    }

    private static Function function(Library lib, String name, int params) {
        return LibC.bind(lib, "libfuse.so.2", name, params, false); // errno unused
    }

    /**
     * fuse_setup: parses {@code argv} as fuse_main_real would, mounts, and makes the fuse object with
     * {@code operations} ({@code operationsSize} bytes). Writes the mountpoint string (freed by teardown) and
     * whether to serve multi-threaded to the two out addresses. 0 when it failed (libfuse says why on stderr).
     */
    long setup(String[] argv, long operations, long operationsSize, long mountpointOut, long multithreadedOut) {
        Charset names = Charset.defaultCharset(); // as jnr-ffi passed strings, and as libfuse2 hands paths back
        long[] strings = new long[argv.length];
        long array = memory.allocateMemory(8L * (argv.length + 1), true);
        try {
            for (int i = 0; i < argv.length; i++) {
                byte[] bytes = argv[i].getBytes(names);
                strings[i] = memory.allocateMemory(bytes.length + 1, true);
                memory.putByteArray(strings[i], bytes, 0, bytes.length);
                memory.putAddress(array + 8L * i, strings[i]);
            }
            HeapInvocationBuffer call = new HeapInvocationBuffer(setup);
            call.putLong(argv.length);
            call.putLong(array);
            call.putLong(operations);
            call.putLong(operationsSize);
            call.putLong(mountpointOut);
            call.putLong(multithreadedOut);
            call.putLong(0); // user_data
            return invoker.invokeLong(setup, call);
        } finally {
            // fuse_setup copies what it keeps of the arguments
            for (long s : strings) {
                if (s != 0) {
                    memory.freeMemory(s);
                }
            }
            memory.freeMemory(array);
        }
    }

    /** fuse_teardown: unmounts if still mounted, runs destroy, frees the fuse object and the mountpoint string. */
    void teardown(long fuse, long mountpoint) {
        invoker.invokeLLrL(teardown, fuse, mountpoint);
    }

    long session(long fuse) {
        return invoker.invokeLrL(getSession, fuse);
    }

    /** The session's (only) channel. */
    long channel(long session) {
        return invoker.invokeLLrL(sessionNextChan, session, 0);
    }

    long channelBufferSize(long channel) {
        return invoker.invokeLrL(chanBufsize, channel);
    }

    /** fuse_session_receive_buf: bytes read into the fuse_buf, 0 once the session has ended, or a negative errno. */
    int receive(long session, long fuseBuf, long channelSlot) {
        return (int) invoker.invokeLLLrL(sessionReceiveBuf, session, fuseBuf, channelSlot);
    }

    /** fuse_session_process_buf: runs the request's callback and sends its reply through {@code channel}. */
    void process(long session, long fuseBuf, long channel) {
        invoker.invokeLLLrL(sessionProcessBuf, session, fuseBuf, channel);
    }

    boolean exited(long session) {
        return (int) invoker.invokeLrL(sessionExited, session) != 0;
    }

    void exit(long session) {
        invoker.invokeLrL(sessionExit, session);
    }

    /** The node-cache pruning thread of {@code -o remember=T}; a no-op otherwise (fuse_loop_mt starts it too). */
    int startCleanupThread(long fuse) {
        return (int) invoker.invokeLrL(startCleanupThread, fuse);
    }

    void stopCleanupThread(long fuse) {
        invoker.invokeLrL(stopCleanupThread, fuse);
    }

    /** fuse_chan_new(ops, fd, bufsize, NULL): a channel on {@code fd} whose operations are {@code ops}; 0 on failure. */
    long newChannel(long ops, int fd, long bufferSize) {
        return invoker.invokeLLLLrL(chanNew, ops, fd, bufferSize, 0);
    }

    int channelFd(long channel) {
        return (int) invoker.invokeLrL(chanFd, channel);
    }

    /** fuse_chan_send: writes the {@code count} iovecs at {@code iov} as one reply; 0 or a negative errno. */
    int send(long channel, long iov, long count) {
        return (int) invoker.invokeLLLrL(chanSend, channel, iov, count);
    }
}
