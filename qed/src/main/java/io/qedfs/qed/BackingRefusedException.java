package io.qedfs.qed;

import java.nio.file.AccessDeniedException;
import java.nio.file.Path;

/**
 * A backing file that qedfs will not open for the image naming it: not a regular file, or out of reach of the
 * owners of the images above it (see the README's Security section). The message is the whole line: it names
 * the image, the backing file and why, and how to allow it deliberately where that is possible.
 */
public final class BackingRefusedException extends AccessDeniedException {
    private static final long serialVersionUID = 1L;

    BackingRefusedException(Path backing, String line) {
        super(backing.toString(), null, line);
    }

    @Override
    public String getMessage() {
        return getReason();
    }
}
