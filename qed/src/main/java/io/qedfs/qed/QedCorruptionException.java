package io.qedfs.qed;

/**
 * A table entry met during I/O is invalid (points into the header, past the end of the file, or is
 * unaligned). Like QEMU, the request fails and the image is left alone; a check with repair fixes it.
 */
public class QedCorruptionException extends QedFormatException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message one line naming the file and the problem
     */
    public QedCorruptionException(String message) {
        super(message);
    }
}
