package io.qedfs.qed;

import java.io.IOException;

/** A request reaches past the virtual size of the image (QED images never grow by writing). */
public class OutOfRangeException extends IOException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message one line naming the file and the problem
     */
    public OutOfRangeException(String message) {
        super(message);
    }
}
