package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class L2CacheTest {
    @Test
    @Timeout(10)
    void twoThreadsMissingTogetherLoadOnce() throws Exception {
        L2Cache cache = new L2Cache(4);
        AtomicInteger loads = new AtomicInteger();
        CountDownLatch loading = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        L2Cache.Loader slow = off -> {
            loads.incrementAndGet();
            loading.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            return new AtomicLongArray(8);
        };
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<AtomicLongArray>> got = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                got.add(pool.submit(() -> {
                    try (L2Cache.Ref r = cache.acquire(4096, slow)) {
                        return r.table();
                    }
                }));
            }
            assertTrue(loading.await(5, TimeUnit.SECONDS));
            Thread.sleep(100); // let the others reach the placeholder
            release.countDown();
            AtomicLongArray first = got.get(0).get();
            for (Future<AtomicLongArray> f : got) {
                assertSame(first, f.get(), "every thread sees the one copy");
            }
            assertEquals(1, loads.get());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void pinnedTablesAreNeverEvicted() throws Exception {
        L2Cache cache = new L2Cache(2);
        AtomicInteger loads = new AtomicInteger();
        L2Cache.Loader loader = off -> {
            loads.incrementAndGet();
            return new AtomicLongArray(8);
        };
        L2Cache.Ref pinned = cache.acquire(0, loader);
        pinned.table().set(3, 42);
        for (long off = 1; off <= 10; off++) {
            cache.acquire(off * 4096, loader).close();
        }
        try (L2Cache.Ref again = cache.acquire(0, loader)) {
            assertEquals(42, again.table().get(3), "an in-use table is never evicted and reloaded");
        }
        assertEquals(11, loads.get());
        pinned.close();
        assertTrue(cache.size() <= 2, "unpinned tables beyond capacity are evicted: " + cache.size());
    }

    @Test
    void failedLoadIsNotCachedAndReachesEveryWaiter() throws Exception {
        L2Cache cache = new L2Cache(2);
        assertThrows(IOException.class, () -> cache.acquire(0, off -> {
            throw new IOException("disk error");
        }));
        assertEquals(0, cache.size());
        try (L2Cache.Ref r = cache.acquire(0, off -> new AtomicLongArray(8))) {
            assertEquals(8, r.table().length());
        }
    }
}
