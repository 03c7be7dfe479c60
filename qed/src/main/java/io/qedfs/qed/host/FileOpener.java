package io.qedfs.qed.host;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Opens the files qedfs reads and writes so that no open blocks and only files it can use get through. Opening
 * a FIFO waits until another process opens its other end, that is forever; a character device such as
 * /dev/zero has no size and no end; a directory is no image. So the path is opened with O_NONBLOCK (a FIFO's
 * open then returns at once), the type of what was opened is read with fstat on that very descriptor (a stat
 * of the path before the open could be answered by another file than the one opened), and only a regular file
 * or a block device is handed on, reopened (as a FileChannel, or as the caller opens it) through
 * {@code /proc/self/fd}: that reaches the file already checked, whatever the path names meanwhile. Without the libc binding (not x86_64 Linux) the type
 * of the path is checked just before the open instead.
 */
public final class FileOpener {
    private static final int O_RDONLY = 0;
    private static final int O_RDWR = 2;
    private static final int O_CREAT = 0100;
    private static final int O_NONBLOCK = 04000;
    private static final int O_CLOEXEC = 02000000;
    private static final int S_IFSOCK = 0140000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFIFO = 0010000;
    private static final int ENOENT = 2;
    private static final int EACCES = 13;
    private static final int EPERM = 1;
    private static final String USABLE = "not a regular file or block device";
    private static final LibC LIBC = LibC.get();

    private FileOpener() {
    }

    /** Opens the file that passed the type check through {@code same}, a path naming that very file. */
    public interface Reopen<T> {
        T open(Path same) throws IOException;
    }

    /** A file that passed the type check, as {@link Reopen} opened it, and whether it is regular (else a block device). */
    public record Checked<T>(T file, boolean regular) {
    }

    /**
     * Opens {@code path} for reading; a regular file or a block device, else a {@link FileTypeException}.
     * {@code subject} is how errors name the file: {@code "disk.qed"}, {@code "top.qed: backing file base.raw"}.
     */
    public static FileChannel openReadOnly(Path path, String subject) throws IOException {
        return open(path, false, subject);
    }

    /** Opens {@code path} for reading, or reading and writing; only a regular file or a block device. */
    public static FileChannel open(Path path, boolean write, String subject) throws IOException {
        return open(path, write, false, subject, same -> channel(same, write)).file();
    }

    /**
     * Checks what {@code path} names (creating a regular file there when {@code create} and nothing is there)
     * and opens it with {@code reopen}: only a regular file or a block device gets that far, and nothing is
     * changed before (a file to be truncated is truncated by the caller, once it holds its locks).
     */
    public static <T> Checked<T> open(Path path, boolean write, boolean create, String subject, Reopen<T> reopen)
            throws IOException {
        if (LIBC == null) {
            return openChecked(path, create, subject, reopen);
        }
        int flags = (write ? O_RDWR : O_RDONLY) | O_NONBLOCK | O_CLOEXEC;
        int fd = create ? LIBC.open(path.toString(), flags | O_CREAT, 0666) : LIBC.open(path.toString(), flags);
        if (fd < 0) {
            throw openFailure(path, LIBC.lastError(), subject);
        }
        try {
            int type = LIBC.fileType(fd);
            refuseUnusable(path, type, subject);
            Path same = Path.of("/proc/self/fd/" + fd);
            try {
                return new Checked<>(reopen.open(Files.exists(same) ? same : path), type == S_IFREG); // no /proc: the path
            } catch (java.nio.file.FileSystemException e) {
                if (!same.toString().equals(e.getFile())) {
                    throw e;
                }
                // the reopen's error names /proc/self/fd/N, which means nothing to the user: name the file
                throw (IOException) new java.nio.file.FileSystemException(subject, null, e.getReason()).initCause(e);
            }
        } finally {
            LIBC.close(fd);
        }
    }

    /** The fallback without the libc binding: the type of the path, then the open (another file may slip in). */
    private static <T> Checked<T> openChecked(Path path, boolean create, String subject, Reopen<T> reopen)
            throws IOException {
        BasicFileAttributes a = null;
        try {
            a = Files.readAttributes(path, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            if (!create) {
                throw e;
            }
        }
        if (a != null && !a.isRegularFile() && (a.isDirectory() || !isBlockDevice(path))) {
            throw new FileTypeException(path, subject + ": " + (a.isDirectory() ? "is a directory, " : "") + USABLE);
        }
        if (a == null) {
            try {
                Files.createFile(path);
            } catch (FileAlreadyExistsException e) {
                // made meanwhile: opened as it is
            }
        }
        return new Checked<>(reopen.open(path), a == null || a.isRegularFile());
    }

    private static boolean isBlockDevice(Path path) {
        try {
            Object mode = Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            return mode instanceof Integer m && (m & 0170000) == S_IFBLK;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    private static FileChannel channel(Path path, boolean write) throws IOException {
        return write ? FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)
                : FileChannel.open(path, StandardOpenOption.READ);
    }

    private static void refuseUnusable(Path path, int type, String subject) throws IOException {
        if (type == S_IFREG || type == S_IFBLK) {
            return;
        }
        String what = switch (type) {
            case S_IFIFO -> "is a FIFO (named pipe), ";
            case S_IFCHR -> "is a character device, ";
            case S_IFDIR -> "is a directory, ";
            case S_IFSOCK -> "is a socket, ";
            case -1 -> throw new FileSystemException(path.toString(), null, subject + ": cannot read its file type (fstat failed)");
            default -> "";
        };
        throw new FileTypeException(path, subject + ": " + what + USABLE);
    }

    /** The failed open as NIO would have reported it; the subject named in front when it is not the path alone. */
    private static IOException openFailure(Path path, int errno, String subject) {
        String file = path.toString();
        String prefix = subject.equals(file) ? null : subject + ": ";
        return switch (errno) {
            case ENOENT -> new NoSuchFileException(file, null, prefix == null ? null : prefix + "no such file or directory");
            case EACCES, EPERM -> new AccessDeniedException(file, null, prefix == null ? null : prefix + "permission denied");
            default -> new FileSystemException(file, null, (prefix == null ? "" : prefix) + LIBC.errorText(errno));
        };
    }

    /** A path that names something other than a regular file or a block device: a FIFO, a directory, ... */
    public static final class FileTypeException extends FileSystemException {
        private static final long serialVersionUID = 1L;

        public FileTypeException(Path path, String line) {
            super(path.toString(), null, line);
        }

        /** The whole line: the reason already names the file as the subject does. */
        @Override
        public String getMessage() {
            return getReason();
        }
    }
}
