package io.qedfs.qed;

import java.util.concurrent.CountDownLatch;

/** Waiting on a latch from a thread the engine runs (the writer thread, a hooked channel's caller). */
final class Latches {
    private Latches() {
    }

    /**
     * Waits until {@code latch} opens, whatever interrupts arrive: the engine's threads are never interrupted on
     * purpose (that would close a FileChannel for every thread), and a test's only when it is abandoned, so the
     * held thread keeps waiting for the test to let it go.
     */
    static void awaitUninterruptibly(CountDownLatch latch) {
        while (true) {
            try {
                latch.await();
                return;
            } catch (InterruptedException e) {
                // keep holding: see above
            }
        }
    }
}
