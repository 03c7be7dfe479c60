package io.qedfs.qed;

import java.io.IOException;

/** The file is not a valid QED image, or a field of it is out of range. The message names field and value. */
public class QedFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message one line naming the file and the problem
     */
    public QedFormatException(String message) {
        super(message);
    }
}
