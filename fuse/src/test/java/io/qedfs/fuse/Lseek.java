package io.qedfs.fuse;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;

/** lseek(2) with SEEK_DATA and SEEK_HOLE from the test JVM, which Java has no API for, through jnr-ffi. */
final class Lseek {
    static final int SEEK_DATA = 3;
    static final int SEEK_HOLE = 4;
    static final int ENXIO = 6;
    private static final int O_RDONLY = 0;

    /** The libc calls used. */
    public interface LibC {
        int open(String path, int flags);

        long lseek(int fd, long offset, int whence);

        int close(int fd);
    }

    private static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");

    private Lseek() {
    }

    /** lseek(fd, offset, whence) on a fresh descriptor of {@code file}: the offset, or minus the errno. */
    static long seek(Path file, long offset, int whence) throws IOException {
        int fd = open(file);
        try {
            return seek(fd, offset, whence);
        } finally {
            LIBC.close(fd);
        }
    }

    /** {start, length} of each stretch of data, walking SEEK_DATA, SEEK_HOLE, SEEK_DATA, ... from 0 to ENXIO. */
    static List<long[]> dataRanges(Path file) throws IOException {
        List<long[]> out = new ArrayList<>();
        int fd = open(file);
        try {
            for (long at = 0; ; ) {
                long data = seek(fd, at, SEEK_DATA);
                if (data == -ENXIO) {
                    return out;
                }
                long hole = seek(fd, data, SEEK_HOLE);
                if (data < 0 || hole <= data) {
                    throw new AssertionError(file + ": SEEK_DATA from " + at + " gave " + data + ", SEEK_HOLE from there " + hole);
                }
                out.add(new long[] {data, hole - data});
                at = hole;
            }
        } finally {
            LIBC.close(fd);
        }
    }

    /** "[0x0, 0x100000) [0xc0000000, ...": ranges as text, for assertions that show what differs. */
    static String describe(List<long[]> ranges) {
        StringBuilder s = new StringBuilder();
        for (long[] r : ranges) {
            s.append(String.format("[0x%x, 0x%x) ", r[0], r[0] + r[1]));
        }
        return s.toString().strip();
    }

    private static int open(Path file) throws IOException {
        int fd = LIBC.open(file.toString(), O_RDONLY);
        if (fd < 0) {
            throw new IOException(file + ": open failed, errno " + Runtime.getRuntime(LIBC).getLastError());
        }
        return fd;
    }

    private static long seek(int fd, long offset, int whence) {
        long r = LIBC.lseek(fd, offset, whence);
        return r >= 0 ? r : -Runtime.getRuntime(LIBC).getLastError();
    }
}
