package io.qedfs.cli;

import java.io.IOException;

/**
 * {@code check} of a file that is not a QED image: qemu-img check's "this image format does not support
 * checks", exit code 63, so that a script can tell it from a check that failed (1) or found corruption (2).
 */
final class NoCheckSupportException extends IOException {
    static final int EXIT_CODE = 63;
    private static final long serialVersionUID = 1L;

    NoCheckSupportException(IOException notQed) {
        super(notQed.getMessage(), notQed);
    }
}
