package io.qedfs.qed;

import io.qedfs.qed.host.FileIo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What writes into referenced clusters overwrote while a background check scanned the image, so that its repair
 * can copy what the scan saw (docs/architecture.md, "Background check"). Each cluster remembers the one guest
 * cluster its writes came through: a write through a second guest cluster, like one that would take the saved
 * bytes past the budget, is refused and waits for the check. With one writer per cluster the repair can give
 * every reference of a shared cluster what a check before the writes would have given it, followed by those
 * writes: the writer's reference keeps the written bytes, every other one gets the bytes saved here.
 *
 * <p>Bytes are saved once, before the first write that covers them, and only those bytes: a 4 KiB write into a
 * 64 MiB cluster saves 4 KiB. Guarded by this object's monitor; the file writes that follow a save happen outside
 * it, under the check's shared permit (so the repair, which holds it exclusively, sees them all done).
 */
final class PreImages {
    /** Nothing saved: the foreground check, which no write runs beside. */
    static final PreImages NONE = new PreImages(null, null, 0, 0);

    /** One cluster's writer and saved bytes, by offset in the file. */
    private static final class Saved {
        final long writer;
        final TreeMap<Long, byte[]> bytes = new TreeMap<>();

        Saved(long writer) {
            this.writer = writer;
        }
    }

    private final FileChannel channel; // null for NONE
    private final String name;
    private final int clusterBits;
    private final long budget;
    /** Saved clusters by file offset (guarded by this). */
    private final Map<Long, Saved> clusters = new HashMap<>();
    /** Bytes saved so far (guarded by this). */
    private long total;

    PreImages(FileChannel channel, String name, int clusterBits, long budget) {
        this.channel = channel;
        this.name = name;
        this.clusterBits = clusterBits;
        this.budget = budget;
    }

    /** One stretch of a write about to go in place: {@code len} bytes at file offset {@code at}, through guest cluster {@code guestCluster}. */
    record Piece(long guestCluster, long at, long len) {
    }

    /**
     * Saves what the pieces are about to overwrite, where nothing was saved yet; false, having saved nothing, when a
     * piece's cluster has another writer or the budget would be exceeded. A piece lies in one cluster.
     */
    synchronized boolean saveBefore(List<Piece> pieces) throws IOException {
        long needed = 0;
        for (Piece p : pieces) {
            Saved s = clusters.get(clusterOf(p.at()));
            if (s != null && s.writer != p.guestCluster()) {
                return false;
            }
            needed += p.len(); // an upper bound: some of it may be saved already
        }
        if (total + needed > budget) {
            return false;
        }
        for (Piece p : pieces) {
            Saved s = clusters.computeIfAbsent(clusterOf(p.at()), c -> new Saved(p.guestCluster()));
            saveGaps(s, p.at(), p.at() + p.len());
        }
        return true;
    }

    /** Saves the parts of {@code [from, to)} not saved yet, read from the file as they are now. */
    private void saveGaps(Saved s, long from, long to) throws IOException {
        long at = from;
        while (at < to) {
            Map.Entry<Long, byte[]> before = s.bytes.floorEntry(at);
            if (before != null && before.getKey() + before.getValue().length > at) {
                at = before.getKey() + before.getValue().length; // saved already
                continue;
            }
            Long next = s.bytes.higherKey(at);
            long end = next == null ? to : Math.min(to, next);
            byte[] old = new byte[(int) (end - at)]; // fits: within one cluster
            FileIo.readFully(channel, at, ByteBuffer.wrap(old), name);
            s.bytes.put(at, old);
            total += old.length;
            at = end;
        }
    }

    /** The guest cluster whose writes changed the cluster at file offset {@code cluster}, or -1. */
    synchronized long writerOf(long cluster) {
        Saved s = clusters.get(cluster);
        return s == null ? -1 : s.writer;
    }

    /** Puts the saved bytes of the cluster at {@code cluster} into {@code buf}, which holds that cluster from position 0. */
    synchronized void putBack(long cluster, ByteBuffer buf) {
        Saved s = clusters.get(cluster);
        if (s == null) {
            return;
        }
        for (Map.Entry<Long, byte[]> e : s.bytes.entrySet()) {
            buf.put((int) (e.getKey() - cluster), e.getValue()); // fits: within the cluster
        }
    }

    /** Writes the saved bytes of the cluster at {@code cluster} back into it. */
    synchronized void restore(long cluster, FileChannel file) throws IOException {
        Saved s = clusters.get(cluster);
        if (s == null) {
            return;
        }
        for (Map.Entry<Long, byte[]> e : s.bytes.entrySet()) {
            FileIo.writeFully(file, e.getKey(), ByteBuffer.wrap(e.getValue()));
        }
    }

    /** Forgets everything saved: the repair has used it. */
    synchronized void clear() {
        clusters.clear();
        total = 0;
    }

    /** Bytes saved so far. */
    synchronized long savedBytes() {
        return total;
    }

    private long clusterOf(long offset) {
        return offset >>> clusterBits << clusterBits;
    }
}
