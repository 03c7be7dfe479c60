package io.qedfs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two servers whose mounts get the same device number one after the other, in the order a quick remount meets:
 * the kernel gives the number to the second mount while the first server is still closing its images.
 */
class MountRecordKeeperTest {
    /** A device number no real mount has while the test runs (anonymous minors are allocated lowest first). */
    private static final String DEVICE = "0:1048571";
    private static final int UID = ServerProcess.ownUid();
    private static final long PID = ProcessHandle.current().pid();
    private static final long START = ServerProcess.startTicks(PID);
    private static final MountInfo.Line MOUNT = new MountInfo.Line(DEVICE, "/m".getBytes(StandardCharsets.US_ASCII),
            "fuse", "qedfs", "rw,user_id=" + UID);

    // two server identities: this process, and one started a tick later (a file name of its own each)
    private final MountRecordKeeper first = new MountRecordKeeper(Path.of("/m"), UID, PID, START);
    private final MountRecordKeeper second = new MountRecordKeeper(Path.of("/m"), UID, PID, START + 1);

    @AfterEach
    void removeRecords() throws IOException {
        try (var files = Files.list(MountRecord.dirFor(UID))) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (f.getFileName().toString().startsWith("fuse-0-1048571")) {
                    Files.delete(f);
                }
            }
        }
    }

    @Test
    void anOutcomeWrittenAfterTheNextMountLeavesItsRecord() throws IOException {
        assertTrue(first.serving(MOUNT));
        // the kernel unmounts the first mount; the second gets its device number and is recorded
        assertTrue(second.serving(MOUNT));
        first.ended(List.of());

        assertEquals(List.of(PID, START + 1, MountRecord.State.SERVING), who(MountRecord.read(UID, DEVICE).orElseThrow()),
                "the mount that has the device now is the second server's");
        assertEquals(MountRecord.State.CLEAN, MountRecord.readOwn(UID, DEVICE, PID, START).orElseThrow().state(),
                "the first server's outcome, for the unmount that waited for it");

        second.ended(List.of("disk.raw: flush failed"));
        MountRecord.Contents last = MountRecord.readOwn(UID, DEVICE, PID, START + 1).orElseThrow();
        assertEquals(List.of(PID, START + 1, MountRecord.State.FAILED), who(last));
        assertEquals(List.of("disk.raw: flush failed"), last.errors());
    }

    @Test
    void anOutcomeWrittenBeforeTheNextMountStaysForItsUnmount() throws IOException {
        assertTrue(first.serving(MOUNT));
        first.ended(List.of());
        assertTrue(second.serving(MOUNT));
        second.checkState("disk.raw", "running");

        assertEquals(MountRecord.State.CLEAN, MountRecord.readOwn(UID, DEVICE, PID, START).orElseThrow().state(),
                "the first server's outcome is not replaced by the next mount's record");
        MountRecord.Contents now = MountRecord.read(UID, DEVICE).orElseThrow();
        assertEquals(List.of(PID, START + 1, MountRecord.State.SERVING), who(now));
        assertEquals(List.of("running disk.raw"), now.checks());

        // the first server's unmount deletes the record it read, and only that one
        MountRecord.delete(UID, MountRecord.readOwn(UID, DEVICE, PID, START).orElseThrow());
        assertEquals(List.of(PID, START + 1, MountRecord.State.SERVING), who(MountRecord.read(UID, DEVICE).orElseThrow()));
    }

    @Test
    void anOlderServersSingleRecordIsReadAndRanksBelowTheOthers() throws IOException {
        MountRecord.Contents legacy = new MountRecord.Contents(PID, START + 2, DEVICE, MOUNT.mountPoint(),
                MountRecord.State.SERVING, List.of());
        Files.write(MountRecord.legacyFileFor(UID, DEVICE), MountRecord.encode(legacy));
        assertEquals(List.of(PID, START + 2, MountRecord.State.SERVING), who(MountRecord.read(UID, DEVICE).orElseThrow()),
                "an older qedfs server's record names its mount");
        assertEquals(START + 2, MountRecord.readOwn(UID, DEVICE, PID, START + 2).orElseThrow().startTicks());

        assertTrue(first.serving(MOUNT));
        assertEquals(List.of(PID, START, MountRecord.State.SERVING), who(MountRecord.read(UID, DEVICE).orElseThrow()));
        MountRecord.delete(UID, legacy);
        assertTrue(Files.notExists(MountRecord.legacyFileFor(UID, DEVICE)), "unmount deletes the legacy record it read");
    }

    @Test
    void aNewServerPrunesOnlyTheRecordsOfProcessesThatAreGone() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        MountRecordKeeper killed = new MountRecordKeeper(Path.of("/m"), UID, gone.pid(), 1);
        assertTrue(killed.serving(MOUNT)); // killed before it closed its images, and its mount is gone
        assertTrue(first.serving(MOUNT)); // this process, still serving
        FileTime twoHoursAgo = FileTime.from(Instant.now().minus(Duration.ofHours(2)));
        Files.setLastModifiedTime(MountRecord.fileFor(UID, DEVICE, gone.pid(), 1), twoHoursAgo);
        Files.setLastModifiedTime(MountRecord.fileFor(UID, DEVICE, PID, START), twoHoursAgo);

        second.pruneStale();
        assertTrue(Files.notExists(MountRecord.fileFor(UID, DEVICE, gone.pid(), 1)), "the killed server's record");
        assertEquals(List.of(PID, START, MountRecord.State.SERVING), who(MountRecord.read(UID, DEVICE).orElseThrow()),
                "a running server's record stays");
    }

    /** A mounted device keeps its current record, even of a killed server (a stale mount), but no older one. */
    @Test
    void aMountedDeviceKeepsOnlyItsCurrentRecord() throws Exception {
        String device = MountInfo.read().get(0).device(); // mounted all along (the root file system)
        MountInfo.Line mount = new MountInfo.Line(device, MOUNT.mountPoint(), "fuse", "qedfs", "rw");
        List<Long> dead = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Process gone = new ProcessBuilder("true").start();
            gone.waitFor();
            dead.add(gone.pid());
            assertTrue(new MountRecordKeeper(Path.of("/m"), UID, gone.pid(), 1).serving(mount));
        }
        FileTime twoHoursAgo = FileTime.from(Instant.now().minus(Duration.ofHours(2)));
        Path older = MountRecord.fileFor(UID, device, dead.get(0), 1);
        Path current = MountRecord.fileFor(UID, device, dead.get(1), 1);
        try {
            Files.setLastModifiedTime(older, twoHoursAgo);
            Files.setLastModifiedTime(current, twoHoursAgo);
            first.pruneStale();
            assertTrue(Files.notExists(older), "outranked: no mount's record");
            assertTrue(Files.exists(current), "the stale mount's record, for the unmount that removes it");
        } finally {
            Files.deleteIfExists(older);
            Files.deleteIfExists(current);
        }
    }

    private static List<Object> who(MountRecord.Contents c) {
        return List.of(c.pid(), c.startTicks(), c.state());
    }
}
