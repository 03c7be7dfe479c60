package io.qedfs.fuse;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** A temporary directory with an empty mountpoint in it, for tests that really mount; skipped without FUSE. */
abstract class MountTestBase {
    @TempDir
    Path dir;
    Path mnt;

    @BeforeEach
    void createMountPoint() throws Exception {
        Qedfs.assumeFuse();
        mnt = Files.createDirectory(dir.resolve("mnt"));
    }

    /** Whatever a test left mounted under its directory is detached, so a failure never leaves a mount behind. */
    @AfterEach
    void detachLeftovers() throws Exception {
        if (dir != null) {
            Qedfs.cleanUp(dir);
        }
    }
}
