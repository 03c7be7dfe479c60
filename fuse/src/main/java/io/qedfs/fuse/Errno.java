package io.qedfs.fuse;

import io.qedfs.qed.ImageLockedException;
import io.qedfs.qed.OutOfRangeException;
import io.qedfs.qed.QedFormatException;
import io.qedfs.qed.ReadOnlyImageException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import org.slf4j.Logger;
import ru.serce.jnrfuse.ErrorCodes;

/**
 * The one place where failures become errno values. jnr-fuse turns an exception escaping a callback into a
 * silent 0 (a failed read looks like end of file), so every callback ends in {@link #of}: it logs what failed
 * and returns a negative errno, EIO at worst.
 */
final class Errno {
    private Errno() {
    }

    static int of(Throwable t, String op, String path, Logger log) {
        int errno = errnoFor(t);
        if (errno == ErrorCodes.EIO() || t instanceof Error) {
            log.error("{} {} failed: {}", op, path, t.toString(), t);
        } else {
            log.warn("{} {} failed: {}", op, path, t.getMessage());
        }
        return -errno;
    }

    static int errnoFor(Throwable t) {
        if (t instanceof OutOfRangeException) {
            return ErrorCodes.ENOSPC();
        }
        if (t instanceof ReadOnlyImageException) {
            return ErrorCodes.EROFS();
        }
        if (t instanceof ImageLockedException || t instanceof AccessDeniedException) {
            return ErrorCodes.EACCES();
        }
        if (t instanceof NoSuchFileException) {
            return ErrorCodes.ENOENT();
        }
        if (t instanceof IllegalArgumentException) {
            return ErrorCodes.EINVAL();
        }
        if (t instanceof QedFormatException) {
            return ErrorCodes.EIO();
        }
        if (t instanceof IOException && isNoSpace(t.getMessage())) {
            return ErrorCodes.ENOSPC();
        }
        return ErrorCodes.EIO();
    }

    private static boolean isNoSpace(String message) {
        return message != null && (message.contains("No space left") || message.contains("Disk quota exceeded"));
    }
}
