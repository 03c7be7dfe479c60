package io.qedfs.fuse;

import java.util.Collection;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Marks images clean once no metadata has changed for a while (QEMU's 5-second need-check timer), so a
 * crash while idle needs no check on the next mount.
 */
final class IdleCleaner implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IdleCleaner.class);

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "qedfs-idle-clean");
        t.setDaemon(true);
        return t;
    });

    IdleCleaner(Collection<MountedImage> images, long idleMillis) {
        long idleNanos = TimeUnit.MILLISECONDS.toNanos(idleMillis);
        timer.scheduleWithFixedDelay(() -> {
            for (MountedImage m : images) {
                try {
                    long last = m.image().lastAllocationNanos();
                    if (m.image().header().needsCheck() && last != 0 && System.nanoTime() - last >= idleNanos) {
                        m.image().markClean();
                        LOG.debug("{} idle: flushed and marked clean", m.name());
                    }
                } catch (Throwable t) {
                    LOG.error("marking {} clean failed: {}", m.name(), t.toString(), t);
                }
            }
        }, 1, 1, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        timer.shutdown();
        timer.awaitTermination(30, TimeUnit.SECONDS);
    }
}
