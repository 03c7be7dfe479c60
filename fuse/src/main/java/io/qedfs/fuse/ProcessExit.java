package io.qedfs.fuse;

import com.kenai.jffi.Function;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.LastError;
import com.kenai.jffi.Library;
import com.kenai.jffi.MemoryIO;
import io.qedfs.qed.host.LibC;
import java.util.concurrent.TimeUnit;

/**
 * Waits for a process that is not this one's child to end, without polling: a pidfd (Linux 5.3+) becomes
 * readable when its process ends, and poll(2) sleeps until then. The JDK's ProcessHandle.onExit polls such a
 * process from 300 ms upwards. Where pidfds are missing, this polls /proc every 10 ms instead.
 */
final class ProcessExit {
    private static final long SYS_PIDFD_OPEN = 434; // x86_64
    private static final short POLLIN = 1;
    private static final int EINTR = 4;
    private static final Calls CALLS = Calls.load();

    private ProcessExit() {
    }

    /** Waits until the process {@code pid} started at {@code startTicks} has ended; false when it still runs after the wait. */
    static boolean await(long pid, long startTicks, long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        int pidfd = CALLS == null ? -1 : CALLS.pidfdOpen(pid);
        if (pidfd < 0) {
            return poll(pid, startTicks, deadline);
        }
        try {
            if (!ServerProcess.isRunning(pid, startTicks)) {
                return true; // ended before the pidfd was opened: it names another process, or none
            }
            while (true) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                int ready = CALLS.pollIn(pidfd, (int) Math.max(0, Math.min(left, Integer.MAX_VALUE)));
                if (ready > 0) {
                    return true;
                }
                if (ready == 0 || CALLS.errno() != EINTR) {
                    return !ServerProcess.isRunning(pid, startTicks);
                }
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
            }
        } finally {
            CALLS.close(pidfd);
        }
    }

    private static boolean poll(long pid, long startTicks, long deadline) throws InterruptedException {
        while (ServerProcess.isRunning(pid, startTicks) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        return !ServerProcess.isRunning(pid, startTicks);
    }

    /** syscall(pidfd_open), poll and close, bound through jffi (x86_64: every argument and result a 64-bit word). */
    private static final class Calls {
        private final Invoker invoker = Invoker.getInstance();
        private final MemoryIO memory = MemoryIO.getInstance();
        private final Function syscall;
        private final Function poll;
        private final Function close;

        private Calls(Library libc) {
            syscall = LibC.bind(libc, "libc", "syscall", 3, true);
            poll = LibC.bind(libc, "libc", "poll", 3, true);
            close = LibC.bind(libc, "libc", "close", 1, true);
        }

        static Calls load() {
            try {
                return "amd64".equals(System.getProperty("os.arch")) ? new Calls(Library.getDefault()) : null;
            } catch (Throwable t) {
                return null;
            }
        }

        int pidfdOpen(long pid) {
            return (int) invoker.invokeLLLrL(syscall, SYS_PIDFD_OPEN, pid, 0);
        }

        /** poll(2) for POLLIN on {@code fd}: 1 when readable, 0 on timeout, -1 on error (see errno). */
        int pollIn(int fd, int timeoutMillis) {
            long pollfd = memory.allocateMemory(8, true); // struct pollfd: int fd; short events; short revents
            try {
                memory.putInt(pollfd, fd);
                memory.putShort(pollfd + 4, POLLIN);
                return (int) invoker.invokeLLLrL(poll, pollfd, 1, timeoutMillis);
            } finally {
                memory.freeMemory(pollfd);
            }
        }

        int errno() {
            return LastError.getInstance().get();
        }

        void close(int fd) {
            invoker.invokeLrL(close, fd);
        }
    }
}
