package io.qedfs.qed;

import io.qedfs.qed.host.HostFile;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Decides where a write goes (docs/architecture.md, "The path of a write"), and runs the changes that must see no
 * queued write. While the deferred open-time check runs, a write goes in place through it or waits for its end.
 * Then, with write-behind, a write of at most {@link WriteBehind#MAX_WRITE} bytes that overlaps nothing queued
 * goes in place when all its clusters hold data, else into the queue when host space can be reserved; anything
 * else waits for an empty queue and goes through the write path synchronously. Without write-behind every write
 * goes through the write path synchronously. An Error in the middle of a write or change is sticky: the image may
 * be left half-changed.
 */
final class WriteRouter implements AutoCloseable {
    /** Where {@link #write} sent a write. */
    enum Route {
        /** In place while the deferred check scans. */
        DURING_CHECK,
        /** In place: every cluster held data. */
        IN_PLACE,
        /** Into the write-behind queue, acknowledged once copied or kept. */
        QUEUED,
        /** Through the write path on the caller's thread, allocating where needed, with nothing queued. */
        DIRECT
    }

    /** Writes the background thread may hold (up to 8 MiB): deep enough to ride out host stalls. */
    private static final int WRITE_BEHIND_SLOTS = 8;

    private final WritePath writes;
    private final OpenCheck openCheck;
    private final StickyFailure failure;
    private final WriteBehind behind; // null unless the options ask for it (read-write only)

    WriteRouter(QedOpenOptions options, ImageMetadata meta, HostFile host, WritePath writes, OpenCheck openCheck)
            throws IOException {
        this.writes = writes;
        this.openCheck = openCheck;
        this.failure = meta.failure;
        this.behind = options.writeBehind() && !options.readOnly()
                ? new WriteBehind(writes, meta, host, writeBuffers(options.memory()), WRITE_BEHIND_SLOTS) : null;
    }

    private static WriteBuffers writeBuffers(MemoryBudget shared) {
        return shared != null ? shared.writeBuffers() : new WriteBuffers(MemoryBudget.OWN_WRITE_BUFFERS);
    }

    /**
     * Writes {@code src} at guest offset {@code pos} by the first route open to it (see the class comment). With
     * {@code giveBack} not null a queued write keeps {@code src} itself, not a copy, and runs {@code giveBack} once
     * it is applied.
     */
    Route write(long pos, ByteBuffer src, Runnable giveBack) throws IOException {
        failure.throwIfSet();
        try {
            if (openCheck.writeWhileChecking(pos, src)) {
                return Route.DURING_CHECK;
            }
            if (behind == null) {
                writes.write(pos, src);
                return Route.DIRECT;
            }
            Run seen = null; // the range's first run, as the attempt to write in place saw it
            if (src.remaining() <= WriteBehind.MAX_WRITE) {
                // in place, and then any failure is the caller's, unless it must come after a queued write
                if (!behind.overlapsQueued(pos, src.remaining())) {
                    seen = writes.writeInPlace(pos, src);
                    if (seen == null) {
                        return Route.IN_PLACE;
                    }
                }
                if (behind.trySubmit(pos, src, giveBack)) {
                    return Route.QUEUED;
                }
            }
            try (WriteBehind.Exclusive nothingQueued = behind.exclusive()) {
                writes.write(pos, src, seen);
            }
            return Route.DIRECT;
        } catch (Error e) {
            throw broken(e);
        }
    }

    private Error broken(Error e) {
        failure.record(StickyFailure.Kind.INTERNAL_ERROR, e);
        return e;
    }

    /**
     * Runs {@code change} with no queued write pending and none accepted meanwhile (see
     * {@link WriteBehind#exclusive}).
     */
    <T> T exclusively(Change<T> change) throws IOException {
        try {
            if (behind == null) {
                return change.run();
            }
            try (WriteBehind.Exclusive nothingQueued = behind.exclusive()) {
                return change.run();
            }
        } catch (Error e) {
            throw broken(e);
        }
    }

    /**
     * Runs a change of the tables: after the deferred check (throwing when the tables may not change), with no
     * queued write pending.
     */
    void changeTables(Change<Void> change) throws IOException {
        openCheck.awaitEnd();
        exclusively(change);
    }

    /** A change of the image that must see no queued write. */
    @FunctionalInterface
    interface Change<T> {
        T run() throws IOException;
    }

    /** Lets the writes queued before this call reach the file first, so that what follows sees them. */
    void awaitQueued() throws IOException {
        if (behind != null) {
            behind.awaitSubmitted();
        }
    }

    /** Lets the queued writes into {@code [pos, pos+len)} reach the file first, so that a read there sees them. */
    void awaitOverlapping(long pos, long len) throws IOException {
        if (behind != null) {
            behind.awaitOverlapping(pos, len);
        }
    }

    /** Applies what is queued and ends the writer thread; never waits for a writer thread that has ended. */
    @Override
    public void close() {
        if (behind != null) {
            behind.close();
        }
    }
}
