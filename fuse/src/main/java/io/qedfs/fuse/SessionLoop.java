package io.qedfs.fuse;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.FuseException;

/**
 * Serves a libfuse2 mount with a fixed pool of Java threads, instead of jnr-fuse's {@code fuse_main_real}.
 *
 * <p>Why: libfuse2's multi-threaded loop starts native threads on demand and ends them when more than ten are
 * idle, and jffi attaches such a thread to the JVM and detaches it again on every callback until it has made
 * 1000 calls; that bookkeeping, not the file system, bounds throughput (docs/fuse-notes.md, "Threads"). Here every
 * request is read and dispatched by a long-lived Java thread, so a callback never attaches or detaches.
 *
 * <p>How: {@code fuse_setup} does what {@code fuse_main_real} does before its loop (parse the arguments, mount,
 * {@code fuse_new} with the file system's {@code fuse_operations}, {@link NativeOperations}; libfuse2's functions
 * are bound by {@link LibFuse2}). Then a {@link WorkerPool} of {@link SessionWorker}s serves the requests until
 * the session ends. Then {@code fuse_teardown}, as {@code fuse_main_real} ends: unmount if still mounted,
 * {@code fuse_destroy} (the destroy callback), free. It runs only after every worker has returned: it frees the
 * session the workers use.
 *
 * <p>Ending: when the file system is unmounted (fusermount -u, umount, {@code qedfs unmount}, or a lazy unmount
 * once the last user has gone), the kernel aborts the connection and wakes every reader with ENODEV; libfuse
 * then marks the session exited and every worker returns. A worker that fails exits the session, and the pool
 * releases the others (see {@link WorkerPool}).
 */
public final class SessionLoop {
    private static final Logger LOG = LoggerFactory.getLogger(SessionLoop.class);

    /** The worker count when nothing else is asked for. */
    public static final int DEFAULT_THREADS = 4;

    private final NativeOperations operations;
    private final SeekRequests.Seeker seeker;
    private final int threads;
    private final LibFuse2 lib;
    private final Runtime runtime = Runtime.getSystemRuntime();

    /**
     * @param operations the file system's {@code fuse_operations}
     * @param seeker     answers lseek SEEK_DATA and SEEK_HOLE, which libfuse2 has no callback for
     * @param threads    the number of worker threads, at least 1
     */
    SessionLoop(NativeOperations operations, SeekRequests.Seeker seeker, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1: " + threads);
        }
        this.operations = operations;
        this.seeker = seeker;
        this.threads = threads;
        this.lib = LibFuse2.get();
    }

    /**
     * Mounts at {@code mountPoint} and serves it in this thread until it is unmounted; returns after the
     * session is torn down (destroy has run). The arguments are those jnr-fuse passes to fuse_main_real.
     * {@code onServing} runs in this thread once the file system is mounted and every worker reads requests:
     * from then on the mount answers.
     *
     * @throws FuseException when the mount could not be set up (libfuse prints its reason on stderr)
     * @throws IOException   when the session ended on an error rather than by an unmount (after teardown)
     */
    public void serve(Path mountPoint, boolean debug, String[] options, Runnable onServing) throws IOException {
        List<String> argv = new ArrayList<>(List.of("qedfs", "-f"));
        if (debug) {
            argv.add("-d");
        }
        argv.add(mountPoint.toAbsolutePath().toString());
        argv.addAll(List.of(options));
        Pointer out = Memory.allocateDirect(runtime, 16, true); // char *mountpoint; int multithreaded
        CloseOnExec.markAllButStdio(); // fuse_setup forks fusermount, which must not inherit the image files
        long fuse = lib.setup(argv.toArray(String[]::new), operations.address(), operations.size(), out.address(),
                out.address() + 8);
        if (fuse == 0) {
            throw new FuseException("fuse_setup failed (libfuse's message is on stderr)");
        }
        long mountpoint = out.getAddress(0);
        boolean multithreaded = out.getInt(8) != 0;
        WorkerPool.Outcome outcome = WorkerPool.Outcome.ENDED;
        String failure = null;
        try {
            long session = lib.session(fuse);
            Pointer channel = Pointer.wrap(runtime, lib.channel(session));
            long bufsize = lib.channelBufferSize(channel.address());
            if (lib.startCleanupThread(fuse) != 0) {
                throw new FuseException("fuse_start_cleanup_thread failed");
            }
            ReplyChannel replies = replyChannel(channel, bufsize);
            SeekRequests seeks = new SeekRequests(lib, runtime, channel, seeker);
            long requestBuffer = Math.max(bufsize, ReplyChannel.BIG_REQUEST_BUFFER);
            int n = multithreaded ? threads : 1; // "-s" asks for one thread
            LOG.info("FUSE loop for {}: {} Java thread(s), request buffers of {} bytes", mountPoint, n, requestBuffer);
            RequestBuffer.Pool buffers = new RequestBuffer.Pool(runtime, requestBuffer);
            WorkerPool pool = new WorkerPool(mountPoint, n);
            outcome = pool.run(onReturn -> new SessionWorker(lib, runtime, session, channel, buffers, replies, seeks,
                    onReturn), () -> lib.exit(session), onServing);
            failure = pool.failure();
            if (outcome == WorkerPool.Outcome.ENDED) {
                lib.stopCleanupThread(fuse);
            }
        } finally {
            if (outcome == WorkerPool.Outcome.ENDED) {
                lib.teardown(fuse, mountpoint); // unmounts if still mounted, runs destroy, frees mountpoint
            } else {
                // a thread is still blocked in the kernel with the session: freeing it could crash the JVM
                LOG.error("{}: FUSE threads did not return; the session is left to the exiting process", mountPoint);
            }
            java.lang.ref.Reference.reachabilityFence(operations);
        }
        if (failure != null) {
            throw new IOException(mountPoint + ": the FUSE session ended on an error: " + failure);
        }
        if (outcome == WorkerPool.Outcome.STUCK) {
            throw new IOException(mountPoint + ": FUSE threads did not return after the session ended");
        }
    }

    /**
     * The channel that lets writes to one file run in parallel and requests grow to 1 MiB ({@link ReplyChannel}),
     * or null when it cannot be made: then writes stay serialised by the kernel and requests stay at 128 KiB,
     * only slower.
     */
    private ReplyChannel replyChannel(Pointer channel, long bufsize) {
        try {
            return new ReplyChannel(lib, runtime, channel, bufsize);
        } catch (Throwable t) {
            LOG.warn("OPEN and INIT replies are libfuse2's own (no parallel direct writes, 128 KiB requests): {}",
                    t.toString());
            return null;
        }
    }
}
