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
        L2Cache cache = new L2Cache(new L2Budget(4 * 64)); // four tables of 8 entries
        AtomicInteger loads = new AtomicInteger();
        CountDownLatch loading = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        L2Cache.Loader slow = (off, entries) -> {
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
                    try (L2Cache.Ref r = cache.acquire(4096, 8, slow)) {
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
        L2Cache cache = new L2Cache(new L2Budget(2 * 64)); // two tables of 8 entries
        AtomicInteger loads = new AtomicInteger();
        L2Cache.Loader loader = (off, entries) -> {
            loads.incrementAndGet();
            return new AtomicLongArray(8);
        };
        L2Cache.Ref pinned = cache.acquire(0, 8, loader);
        pinned.table().set(3, 42);
        for (long off = 1; off <= 10; off++) {
            cache.acquire(off * 4096, 8, loader).close();
        }
        try (L2Cache.Ref again = cache.acquire(0, 8, loader)) {
            assertEquals(42, again.table().get(3), "an in-use table is never evicted and reloaded");
        }
        assertEquals(11, loads.get());
        pinned.close();
        assertTrue(cache.size() <= 2, "unpinned tables beyond capacity are evicted: " + cache.size());
    }

    @Test
    void cachesOnOneBudgetEvictTheLeastRecentlyUsedTableOfAnyOfThem() throws Exception {
        L2Budget budget = new L2Budget(3 * 64); // three tables of 8 entries, whichever cache holds them
        L2Cache a = new L2Cache(budget);
        L2Cache b = new L2Cache(budget);
        List<String> loads = new ArrayList<>();
        L2Cache.Loader loadA = (off, entries) -> {
            loads.add("a" + off);
            return new AtomicLongArray(entries);
        };
        L2Cache.Loader loadB = (off, entries) -> {
            loads.add("b" + off);
            return new AtomicLongArray(entries);
        };
        a.acquire(0, 8, loadA).close();
        a.acquire(1, 8, loadA).close();
        b.acquire(0, 8, loadB).close();
        a.acquire(0, 8, loadA).close(); // a hit: a0 is now the most recently used
        b.acquire(1, 8, loadB).close(); // over budget: a1 goes, the least recently used
        assertEquals(List.of("a0", "a1", "b0", "b1"), loads);
        assertEquals(3 * 64, budget.used());
        assertEquals(1, a.size(), "a lost its table 1");
        a.acquire(0, 8, loadA).close();
        b.acquire(0, 8, loadB).close();
        assertEquals(4, loads.size(), "a0 and b0 stayed");
        a.acquire(1, 8, loadA).close();
        assertEquals("a1", loads.get(4), "a1 was evicted and is read again");
        a.dropAll();
        assertEquals(0, a.size());
        assertTrue(budget.used() <= 2 * 64, "a closing cache gives its tables back: " + budget.used());
    }

    @Test
    void failedLoadIsNotCachedAndReachesEveryWaiter() throws Exception {
        L2Cache cache = new L2Cache(new L2Budget(2 * 64)); // two tables of 8 entries
        assertThrows(IOException.class, () -> cache.acquire(0, 8, (off, entries) -> {
            throw new IOException("disk error");
        }));
        assertEquals(0, cache.size());
        try (L2Cache.Ref r = cache.acquire(0, 8, (off, entries) -> new AtomicLongArray(8))) {
            assertEquals(8, r.table().length());
        }
    }
}
