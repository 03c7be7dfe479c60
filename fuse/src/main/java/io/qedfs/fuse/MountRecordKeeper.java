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
 * comes later (a slow probe) never replaces it.
 */
final class MountRecordKeeper {
    private static final Logger LOG = LoggerFactory.getLogger(MountRecordKeeper.class);

    private final Path mountPoint; // for messages
    private final int uid = ServerProcess.ownUid();
    private final long pid = ProcessHandle.current().pid();
    private final long startTicks = ServerProcess.startTicks(pid);
    private final Object lock = new Object();
    /** The mount recorded as served, once it is; guarded by lock. */
    private MountInfo.Line recorded;
    /** Set once the outcome is written; guarded by lock. */
    private boolean ended;
    /** How each image's background check stands, by served name; guarded by lock. */
    private final Map<String, String> checks = new LinkedHashMap<>();

    MountRecordKeeper(Path mountPoint) {
        this.mountPoint = mountPoint;
    }

    /** Records {@code mount} as served by this process; false when serving has ended already. */
    boolean serving(MountInfo.Line mount) throws IOException {
        synchronized (lock) {
            if (ended) {
                return false;
            }
            MountRecord.write(uid, contents(mount, MountRecord.State.SERVING, List.of()));
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
                MountRecord.touch(uid, recorded.device());
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
        return new MountRecord.Contents(pid, startTicks, mount.device(), mount.mountPoint(), state, failures, lines);
    }
}
