package io.qedfs.fuse;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.ErrorCodes;
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
 * are bound by {@link LibFuse2}). Then N threads each repeat what a worker of libfuse2's {@code fuse_loop_mt.c} does:
 * {@code fuse_session_receive_buf} into the thread's own buffer of {@code fuse_chan_bufsize} bytes (a read of
 * /dev/fuse; the kernel hands each request to exactly one reader), then {@code fuse_session_process_buf}, which
 * runs the callback and writes the reply (an lseek, which libfuse2 cannot process, is answered by
 * {@link SeekRequests} instead). Then {@code fuse_teardown}, as {@code fuse_main_real} ends: unmount if
 * still mounted, {@code fuse_destroy} (the destroy callback), free.
 *
 * <p>Ending: when the file system is unmounted (fusermount -u, umount, {@code qedfs unmount}, or a lazy unmount
 * once the last user has gone), the kernel aborts the connection and wakes every reader with ENODEV; libfuse
 * then marks the session exited and {@code receive_buf} returns 0, so every thread returns. A thread that fails
 * (a read error other than EINTR, or a Throwable) exits the session; the threads still blocked in read() are
 * then released by unmounting lazily and, if the mount stays busy, by aborting the connection through
 * /sys/fs/fuse/connections. libfuse's C loop uses pthread_cancel for that, which Java threads cannot use.
 * {@code fuse_teardown} runs only after every thread has returned: it frees the session the threads use.
 */
public final class SessionLoop {
    private static final Logger LOG = LoggerFactory.getLogger(SessionLoop.class);

    /** The worker count when nothing else is asked for. */
    public static final int DEFAULT_THREADS = 4;
    /** How long the remaining threads get to return once one has seen the session end, before escalating. */
    private static final long STRAGGLER_MILLIS = 2000;
    private static final long ABORT_WAIT_SECONDS = 30;

    // struct fuse_buf (fuse_common.h, libfuse 2.9, LP64): size_t size; enum flags; void *mem; int fd; off_t pos
    private static final int FUSE_BUF_SIZE = 0;
    private static final int FUSE_BUF_FLAGS = 8;
    private static final int FUSE_BUF_MEM = 16;
    private static final int FUSE_BUF_FD = 24;
    private static final int FUSE_BUF_POS = 32;
    private static final int FUSE_BUF_BYTES = 40;

    private final NativeOperations operations;
    private final SeekRequests.Seeker seeker;
    private final int threads;
    private final LibFuse2 lib;
    private final Runtime runtime = Runtime.getSystemRuntime();
    /** The channel OPEN and INIT requests are processed with, or null; set before the workers run. */
    private volatile ReplyChannel replies;
    /** What answers lseek requests, or null (libfuse2 then answers ENOSYS); set before the workers run. */
    private volatile SeekRequests seeks;

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
        long fuse = lib.setup(argv.toArray(String[]::new), operations.address(), operations.size(), out.address(),
                out.address() + 8);
        if (fuse == 0) {
            throw new FuseException("fuse_setup failed (libfuse's message is on stderr)");
        }
        long mountpoint = out.getAddress(0);
        boolean multithreaded = out.getInt(8) != 0;
        Outcome outcome = Outcome.ENDED;
        String reason = null;
        try {
            Pointer se = Pointer.wrap(runtime, lib.session(fuse));
            Pointer ch = Pointer.wrap(runtime, lib.channel(se.address()));
            long bufsize = lib.channelBufferSize(ch.address());
            if (lib.startCleanupThread(fuse) != 0) {
                throw new FuseException("fuse_start_cleanup_thread failed");
            }
            replies = replyChannel(ch, bufsize);
            seeks = new SeekRequests(lib, runtime, ch, seeker);
            long requestBuffer = BIG_REQUESTS ? Math.max(bufsize, ReplyChannel.BIG_REQUEST_BUFFER) : bufsize;
            int n = multithreaded ? threads : 1; // "-s" asks for one thread
            LOG.info("FUSE loop for {}: {} Java thread(s), request buffers of {} bytes", mountPoint, n, requestBuffer);
            List<Worker> workers = new ArrayList<>();
            outcome = runWorkers(mountPoint, se, ch, requestBuffer, n, workers, onServing);
            reason = reason(workers);
            if (outcome == Outcome.ENDED) {
                lib.stopCleanupThread(fuse);
            }
        } finally {
            if (outcome == Outcome.ENDED) {
                lib.teardown(fuse, mountpoint); // unmounts if still mounted, runs destroy, frees mountpoint
            } else {
                // a thread is still blocked in the kernel with the session: freeing it could crash the JVM
                LOG.error("{}: FUSE threads did not return; the session is left to the exiting process", mountPoint);
            }
            java.lang.ref.Reference.reachabilityFence(operations);
        }
        if (reason != null) {
            throw new IOException(mountPoint + ": the FUSE session ended on an error: " + reason);
        }
        if (outcome == Outcome.STUCK) {
            throw new IOException(mountPoint + ": FUSE threads did not return after the session ended");
        }
    }

    private enum Outcome { ENDED, STUCK }

    /** System properties {@code qedfs.fuse.parallelWrites} and {@code qedfs.fuse.bigRequests} (to compare): true unless "false". */
    private static final boolean PARALLEL_WRITES = !"false".equals(System.getProperty("qedfs.fuse.parallelWrites"));
    private static final boolean BIG_REQUESTS = !"false".equals(System.getProperty("qedfs.fuse.bigRequests"));

    /**
     * The channel that adjusts OPEN and INIT replies (ReplyChannel), or null when both adjustments are off or it
     * cannot be made: then writes stay serialised by the kernel and requests stay at 128 KiB, only slower.
     */
    private ReplyChannel replyChannel(Pointer ch, long bufsize) {
        if (!PARALLEL_WRITES && !BIG_REQUESTS) {
            return null;
        }
        try {
            return new ReplyChannel(lib, runtime, ch, bufsize, PARALLEL_WRITES, BIG_REQUESTS);
        } catch (Throwable t) {
            LOG.warn("OPEN and INIT replies are libfuse2's own (no parallel direct writes, 128 KiB requests): {}",
                    t.toString());
            return null;
        }
    }

    /** Runs the pool until every worker has returned, or gives up on the ones that never do. */
    private Outcome runWorkers(Path mountPoint, Pointer se, Pointer ch, long bufsize, int n, List<Worker> workers,
            Runnable onServing) {
        CountDownLatch anyEnded = new CountDownLatch(1);
        CountDownLatch allEnded = new CountDownLatch(n);
        RequestBuffer.Pool buffers = new RequestBuffer.Pool(runtime, bufsize);
        for (int i = 0; i < n; i++) {
            try {
                Worker w = new Worker(se, ch, buffers, anyEnded, allEnded);
                Thread t = new Thread(w, "qedfs-fuse-" + (i + 1));
                t.setDaemon(true); // never keeps the JVM alive; every exit path joins or gives up explicitly
                t.start();
                workers.add(w);
            } catch (Throwable t) { // e.g. no memory for a thread: stop the ones that run, as after any failure
                LOG.error("starting FUSE thread {} failed: {}", i + 1, t.toString(), t);
                Worker failed = new Worker(t);
                workers.add(failed);
                lib.exit(se.address());
                anyEnded.countDown();
                for (int j = i; j < n; j++) {
                    allEnded.countDown();
                }
                break;
            }
        }
        if (anyEnded.getCount() > 0) {
            try {
                onServing.run();
            } catch (Throwable t) { // the caller's to handle; the workers serve on regardless
                LOG.error("{}: after the mount was set up: {}", mountPoint, t.toString(), t);
            }
        }
        awaitUninterruptibly(anyEnded, Long.MAX_VALUE);
        if (!awaitUninterruptibly(allEnded, TimeUnit.MILLISECONDS.toNanos(STRAGGLER_MILLIS))) {
            // the session ended without the kernel ending the connection (an error in one thread): the others
            // are blocked in read() and only an unmount or an abort of the connection wakes them
            LOG.warn("{}: FUSE session ended ({}); {} thread(s) still waiting for requests: unmounting",
                    mountPoint, reason(workers), allEnded.getCount());
            Optional<MountTable.Entry> entry = findMount(mountPoint);
            Unmounter.requestLazy(mountPoint);
            if (!awaitUninterruptibly(allEnded, TimeUnit.MILLISECONDS.toNanos(STRAGGLER_MILLIS)) && entry.isPresent()) {
                LOG.warn("{} still busy: aborting the FUSE connection", mountPoint);
                FuseConnections.abort(entry.get());
            }
            if (!awaitUninterruptibly(allEnded, TimeUnit.SECONDS.toNanos(ABORT_WAIT_SECONDS))) {
                return Outcome.STUCK;
            }
        }
        return Outcome.ENDED;
    }

    private static String reason(List<Worker> workers) {
        for (Worker w : workers) {
            if (w.failure != null) {
                return w.failure.toString();
            }
            if (w.receiveError != 0) {
                return "reading /dev/fuse failed with errno " + w.receiveError;
            }
        }
        return null;
    }

    private static Optional<MountTable.Entry> findMount(Path mountPoint) {
        try {
            return MountTable.findFuse(mountPoint);
        } catch (IOException e) {
            LOG.warn("cannot read the mount table: {}", e.toString());
            return Optional.empty();
        }
    }

    private static boolean awaitUninterruptibly(CountDownLatch latch, long nanos) {
        long deadline = System.nanoTime() + nanos;
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    long left = nanos == Long.MAX_VALUE ? Long.MAX_VALUE : deadline - System.nanoTime();
                    return latch.await(left, TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true; // the pool must be joined before teardown, whatever happens
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * One thread of the pool: its own fuse_buf and channel slot, reused for every request, and its request
     * buffer, replaced when a write kept it ({@link RequestBuffer}).
     */
    private final class Worker implements Runnable {
        private final Pointer se;
        private final long seAddress;
        private final Pointer ch;
        private final long chAddress;
        private final RequestBuffer.Pool buffers;
        private final Pointer fbuf;
        private final Pointer chp;
        private final CountDownLatch anyEnded;
        private final CountDownLatch allEnded;
        volatile Throwable failure;
        volatile int receiveError;

        /** A worker that never ran: it only carries why. */
        Worker(Throwable failure) {
            this.se = null;
            this.seAddress = 0;
            this.ch = null;
            this.chAddress = 0;
            this.buffers = null;
            this.fbuf = null;
            this.chp = null;
            this.anyEnded = null;
            this.allEnded = null;
            this.failure = failure;
        }

        Worker(Pointer se, Pointer ch, RequestBuffer.Pool buffers, CountDownLatch anyEnded, CountDownLatch allEnded) {
            this.se = se;
            this.seAddress = se.address();
            this.ch = ch;
            this.chAddress = ch.address();
            this.buffers = buffers;
            this.fbuf = Memory.allocateDirect(runtime, FUSE_BUF_BYTES, true);
            this.chp = Memory.allocateDirect(runtime, runtime.addressSize(), true);
            this.anyEnded = anyEnded;
            this.allEnded = allEnded;
        }

        @Override
        public void run() {
            final int eintr = ErrorCodes.EINTR();
            try {
                RequestBuffer request = RequestBuffer.bindToThisThread(buffers);
                while (!lib.exited(seAddress)) {
                    // as fuse_loop_mt.c: a fresh fuse_buf over this thread's memory, and the session's channel
                    Pointer mem = request.forNextRequest();
                    fbuf.putLong(FUSE_BUF_SIZE, buffers.size());
                    fbuf.putInt(FUSE_BUF_FLAGS, 0);
                    fbuf.putAddress(FUSE_BUF_MEM, mem.address());
                    fbuf.putInt(FUSE_BUF_FD, 0);
                    fbuf.putLong(FUSE_BUF_POS, 0);
                    chp.putAddress(0, chAddress);
                    int res = lib.receive(seAddress, fbuf.address(), chp.address());
                    if (res == -eintr) {
                        continue;
                    }
                    if (res <= 0) { // 0: the session has ended (unmounted: ENODEV); < 0: a read error
                        if (res < 0) {
                            receiveError = -res;
                            lib.exit(seAddress);
                        }
                        break;
                    }
                    long c = chp.getAddress(0);
                    SeekRequests seeking = seeks;
                    if (seeking != null && c == chAddress && seeking.answer(mem)) {
                        continue;
                    }
                    Pointer replyTo = c == chAddress ? ch : Pointer.wrap(runtime, c);
                    ReplyChannel adjusting = replies;
                    if (adjusting != null && c == chAddress) {
                        Pointer special = adjusting.channelFor(mem);
                        if (special != null) {
                            replyTo = special;
                        }
                    }
                    lib.process(seAddress, fbuf.address(), replyTo.address());
                }
            } catch (Throwable t) {
                failure = t;
                LOG.error("FUSE worker {} failed: {}", Thread.currentThread().getName(), t.toString(), t);
                try {
                    lib.exit(seAddress);
                } catch (Throwable ignored) {
                    // the pool is being stopped anyway
                }
            } finally {
                anyEnded.countDown();
                allEnded.countDown();
            }
        }
    }
}
