package io.qedfs.cli;

import java.io.IOException;

/** A failure whose message is ready to show as it is (it already names the file). */
final class CommandFailedException extends IOException {
    private static final long serialVersionUID = 1L;

    CommandFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
