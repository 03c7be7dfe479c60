package io.qedfs.cli;

import io.qedfs.qed.host.SparseFiles;
import java.io.IOException;
import java.nio.file.Path;

/** Bytes a file really occupies on disk (st_blocks * 512), which NIO does not expose. */
final class DiskUsage {
    private DiskUsage() {
    }

    static long bytes(Path file) throws IOException {
        return SparseFiles.allocatedBytes(file);
    }
}
