package io.qedfs.qed.host;

import io.qedfs.qed.FileStatus;

/**
 * The libc calls {@link HostFile} makes on a descriptor of its file. {@link LibC} is what the engine uses; a
 * crash test substitutes calls that also record every change to the file, so that it can build the files a
 * power loss could leave from the operations really made.
 */
public interface FileSyscalls {
    int open(String path, int flags);

    int close(int fd);

    int fallocate(int fd, int mode, long offset, long len);

    long lseek(int fd, long offset, int whence);

    /** errno as the last call on this thread left it. */
    int lastError();

    /** sync_file_range(fd, offset, len, SYNC_FILE_RANGE_WRITE): starts writeback of the range, waits for nothing. */
    int startWriteback(int fd, long offset, long len);

    int ftruncate(int fd, long length);

    /** {@code fcntl(fd, cmd, &flock)} for an OFD lock; returns the result and the l_type the call left. */
    int fcntlLock(int fd, int cmd, short type, long start, long len, short[] typeAfter);

    /** st_blocks * 512 of the open file, or -1 when fstat fails. */
    long allocatedBytes(int fd);

    /** Owner, group, mode and times of the open file (fstat), or null when fstat fails. */
    FileStatus status(int fd);
}
