package io.qedfs.qed;

import java.io.IOException;

/** A change was asked of an image opened read-only. */
public class ReadOnlyImageException extends IOException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message one line naming the file and the problem
     */
    public ReadOnlyImageException(String message) {
        super(message);
    }
}
