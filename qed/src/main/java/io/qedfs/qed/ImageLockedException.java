package io.qedfs.qed;

import java.io.IOException;

/** Another process (a qedfs mount, QEMU) holds a conflicting lock on the image. */
public class ImageLockedException extends IOException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message one line naming the file and the problem
     */
    public ImageLockedException(String message) {
        super(message);
    }
}
