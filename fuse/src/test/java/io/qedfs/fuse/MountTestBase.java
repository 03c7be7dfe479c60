package io.qedfs.fuse;

import io.qedfs.qed.Qemu;
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

    /** The guest content of {@code img} as QEMU reads it (qemu-img convert to raw), the oracle for a mount. */
    byte[] content(Path img) throws Exception {
        return Qemu.toRaw(img, dir);
    }
}
