package io.qedfs.qed.host;

/**
 * Waits that an interrupt does not end: a thread that must see something happen (a queued write applied, a
 * thread joined, every FUSE worker returned) before it goes on waits again after an interrupt, and keeps the
 * interrupt for its caller, who sees it set once the wait is over.
 */
public final class Uninterruptibly {
    /** A wait that an interrupt may cut short; it re-checks what it waits for each time it is run. */
    @FunctionalInterface
    public interface Wait {
        /** Waits; the result is the wait's own (false: timed out, for a wait that can). */
        boolean await() throws InterruptedException;
    }

    private Uninterruptibly() {
    }

    /** Runs {@code wait} again after each interrupt until it returns; its result, with the interrupt kept. */
    public static boolean await(Wait wait) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return wait.await();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
