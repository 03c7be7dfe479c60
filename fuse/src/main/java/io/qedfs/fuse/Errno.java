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
 * and returns a negative errno, EIO at worst, ENOMEM for an exhausted heap. It never throws itself, not even
 * when logging fails for want of memory.
 */
final class Errno {
    private static final int EIO = ErrorCodes.EIO(); // looked up once: answering must not need memory
    private static final int ENOMEM = ErrorCodes.ENOMEM();

    private Errno() {
    }

    static int of(Throwable t, String op, String path, Logger log) {
        if (t instanceof OutOfMemoryError) {
            logQuietly(t, op, path, log);
            return -ENOMEM;
        }
        try {
            int errno = errnoFor(t);
            if (errno == EIO || t instanceof Error) {
                log.error("{} {} failed: {}", op, path, t.toString(), t);
            } else {
                log.warn("{} {} failed: {}", op, path, t.getMessage());
            }
            return -errno;
        } catch (Throwable again) {
            return -EIO;
        }
    }

    private static void logQuietly(Throwable t, String op, String path, Logger log) {
        try {
            log.error("{} {} failed: {}", op, path, t.toString(), t);
        } catch (Throwable again) {
            // no memory to log with: the caller's errno still says what happened
        }
    }

    static int errnoFor(Throwable t) {
        if (t instanceof OutOfMemoryError) {
            return ENOMEM;
        }
        if (t instanceof OutOfRangeException) {
            return ErrorCodes.ENOSPC();
        }
        if (t instanceof ReadOnlyImageException) {
            return ErrorCodes.EROFS();
        }
        if (t instanceof ImageLockedException) {
            return ErrorCodes.EBUSY(); // another process holds the image: not a matter of permissions
        }
        if (t instanceof AccessDeniedException) {
            return ErrorCodes.EACCES();
        }
        if (t instanceof NoSuchFileException) {
            return ErrorCodes.ENOENT();
        }
        if (t instanceof IllegalArgumentException) {
            return ErrorCodes.EINVAL();
        }
        if (t instanceof QedFormatException) {
            return EIO;
        }
        if (t instanceof IOException && isNoSpace(t.getMessage())) {
            return ErrorCodes.ENOSPC();
        }
        return EIO;
    }

    private static boolean isNoSpace(String message) {
        return message != null && (message.contains("No space left") || message.contains("Disk quota exceeded"));
    }
}
