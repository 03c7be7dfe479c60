package io.qedfs.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import jnr.posix.FileStat;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;

/**
 * Bytes a file really occupies on disk (st_blocks * 512), which NIO does not expose. Falls back to the file's
 * length where native stat is unavailable.
 */
final class DiskUsage {
    private static final POSIX POSIX_CALLS = load();

    private DiskUsage() {
    }

    private static POSIX load() {
        try {
            POSIX p = POSIXFactory.getNativePOSIX();
            return p.isNative() ? p : null;
        } catch (Throwable e) { // no native library here: use the length
            return null;
        }
    }

    static long bytes(Path file) throws IOException {
        if (POSIX_CALLS != null) {
            try {
                FileStat st = POSIX_CALLS.stat(file.toString());
                return st.blocks() * 512;
            } catch (RuntimeException e) {
                // fall through: report the length rather than fail an info over a statistic
            }
        }
        return Files.size(file);
    }

    static POSIX posix() {
        return POSIX_CALLS;
    }
}
