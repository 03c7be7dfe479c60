package io.qedfs.fuse;

import io.qedfs.qed.QedImage;
import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Once a second: marks open images clean once no metadata has changed for a while (QEMU's 5-second need-check
 * timer), so a crash while idle needs no check on the next mount; and closes lazy images (see
 * {@link MountedImage}) whose files nobody has had open for a while, which flushes them, marks them clean and
 * releases their locks and memory. It is the only thread that closes an image while the mount serves.
 */
final class IdleCleaner implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IdleCleaner.class);

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "qedfs-idle-clean");
        t.setDaemon(true);
        return t;
    });

    /** {@code cleanMillis}: unchanged this long, an image is marked clean; {@code closeMillis}: unused this long, a lazy one is closed. */
    IdleCleaner(Collection<MountedImage> images, long cleanMillis, long closeMillis) {
        Duration quiet = Duration.ofMillis(cleanMillis);
        long closeNanos = TimeUnit.MILLISECONDS.toNanos(closeMillis);
        timer.scheduleWithFixedDelay(() -> {
            for (MountedImage m : images) {
                QedImage image = m.ifOpen();
                if (image == null) {
                    continue;
                }
                try {
                    if (image.markCleanIfIdle(quiet)) {
                        LOG.debug("{} idle: flushed and marked clean", m.name());
                    }
                } catch (Throwable t) {
                    LOG.error("marking {} clean failed: {}", m.name(), t.toString(), t);
                }
                try {
                    m.closeIfIdle(closeNanos);
                } catch (Throwable t) {
                    LOG.error("closing {} failed: {}", m.name(), t.toString(), t);
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
