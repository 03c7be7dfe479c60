package io.qedfs.fuse;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The serving process's side of its {@link MountRecord}: "serving" once the mount is in the mount table, kept
 * fresh while it lasts, and the outcome once every image is closed. The outcome is final: a "serving" that
 * comes later (a slow probe) never replaces it. It writes only its own process's file: the outcome, written
 * after the kernel has given the device number free, never replaces the record of a new mount with that number.
 */
final class MountRecordKeeper {
    private static final Logger LOG = LoggerFactory.getLogger(MountRecordKeeper.class);

    private final Path mountPoint; // for messages
    private final int uid;
    private final long pid;
    private final long startTicks;
    private final Object lock = new Object();
    /** The mount recorded as served, once it is; guarded by lock. */
    private MountInfo.Line recorded;
    /** The rank of this process's record among those of its device ({@link MountRecord#claim}); guarded by lock. */
    private long generation;
    /** Set once the outcome is written; guarded by lock. */
    private boolean ended;
    /** How each image's background check stands, by served name; guarded by lock. */
    private final Map<String, String> checks = new LinkedHashMap<>();

    MountRecordKeeper(Path mountPoint) {
        this(mountPoint, ServerProcess.ownUid(), ProcessHandle.current().pid(),
                ServerProcess.startTicks(ProcessHandle.current().pid()));
    }

    /** The keeper of the record of the process {@code pid} started at {@code startTicks} (tests name others). */
    MountRecordKeeper(Path mountPoint, int uid, long pid, long startTicks) {
        this.mountPoint = mountPoint;
        this.uid = uid;
        this.pid = pid;
        this.startTicks = startTicks;
    }

    /** Records {@code mount} as served by this process; false when serving has ended already. */
    boolean serving(MountInfo.Line mount) throws IOException {
        synchronized (lock) {
            if (ended) {
                return false;
            }
            generation = MountRecord.claim(uid, contents(mount, MountRecord.State.SERVING, List.of())).generation();
            recorded = mount;
        }
        return true;
    }

    /** Deletes the records of mounts and processes long gone (left by killed servers); best effort. */
    void pruneStale() {
        MountRecord.pruneStale(uid);
    }

    /** Touches the record, so no cleaner of old files in /tmp takes it while the mount lasts. */
    void touch() {
        synchronized (lock) {
            if (ended || recorded == null) {
                return;
            }
            try {
                MountRecord.touch(uid, recorded.device(), pid, startTicks);
            } catch (IOException e) {
                LOG.warn("{}: cannot touch its mount record: {}", mountPoint, e.toString());
            }
        }
    }

    /**
     * Records how the background check of the image served as {@code name} stands ("pending", "running", "done",
     * "stopped", "failed"), rewriting the record once the mount is recorded.
     */
    void checkState(String name, String state) {
        synchronized (lock) {
            checks.put(name, state);
            if (ended || recorded == null) {
                return;
            }
            try {
                MountRecord.write(uid, contents(recorded, MountRecord.State.SERVING, List.of()));
            } catch (IOException e) {
                LOG.warn("{}: cannot record how the check of {} stands: {}", mountPoint, name, e.toString());
            }
        }
    }

    /** Writes how serving ended, after every image was closed: clean, or failed with these lines. */
    void ended(List<String> failures) {
        synchronized (lock) {
            ended = true;
            if (recorded == null) {
                return; // never seen mounted: no command waits for this process's record
            }
            try {
                MountRecord.write(uid, contents(recorded, failures.isEmpty() ? MountRecord.State.CLEAN
                        : MountRecord.State.FAILED, failures));
            } catch (IOException e) {
                LOG.error("{}: cannot record how serving ended: {}", mountPoint, e.toString());
            }
        }
    }

    // expects lock
    private MountRecord.Contents contents(MountInfo.Line mount, MountRecord.State state, List<String> failures) {
        List<String> lines = new ArrayList<>();
        checks.forEach((name, st) -> lines.add(st + " " + name));
        return new MountRecord.Contents(pid, startTicks, mount.device(), mount.mountPoint(), state, failures, lines,
                generation);
    }
}
