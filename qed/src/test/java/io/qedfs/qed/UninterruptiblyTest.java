package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qedfs.qed.host.Uninterruptibly;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** An interrupt does not end an uninterruptible wait: the wait runs again, and the interrupt is kept for later. */
class UninterruptiblyTest {
    @Test
    void anInterruptedWaitRunsAgainAndTheInterruptIsKept() throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        Thread.currentThread().interrupt(); // set before the wait: latch.await throws at once
        boolean result = Uninterruptibly.await(() -> {
            if (runs.incrementAndGet() == 2) {
                done.countDown(); // the second run finds what it waits for
            }
            done.await();
            return true;
        });
        assertTrue(result);
        assertEquals(2, runs.get(), "the interrupted wait ran again");
        assertTrue(Thread.interrupted(), "the interrupt is kept for the caller");
    }

    @Test
    void theWaitsOwnResultComesBackAndNoInterruptIsInvented() {
        CountDownLatch never = new CountDownLatch(1);
        assertFalse(Uninterruptibly.await(() -> never.await(1, TimeUnit.MILLISECONDS)), "timed out");
        assertFalse(Thread.interrupted());
    }
}
