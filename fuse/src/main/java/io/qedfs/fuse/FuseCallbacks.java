package io.qedfs.fuse;

import jnr.ffi.Pointer;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * The libfuse2 operations a served file system answers, in jnr-fuse's types (the names and arguments of
 * {@code struct fuse_operations}); read and write take libfuse's pointers as plain addresses ({@link DirectIo}).
 * Each returns 0 (or a count) or a negative errno and never throws. {@link NativeOperations} makes libfuse2's
 * struct of them for {@link SessionLoop}.
 */
interface FuseCallbacks {
    int getattr(String path, FileStat stat);

    int readdir(String path, Pointer buf, FuseFillDir filler, long offset, FuseFileInfo fi);

    int open(String path, FuseFileInfo fi);

    int read(long path, long buf, long size, long offset, long fi);

    int write(long path, long buf, long size, long offset, long fi);

    int truncate(String path, long size);

    int ftruncate(String path, long size, FuseFileInfo fi);

    int fsync(String path, int isdatasync, FuseFileInfo fi);

    int flush(String path, FuseFileInfo fi);

    int release(String path, FuseFileInfo fi);

    int fallocate(String path, int mode, long offset, long len, FuseFileInfo fi);

    int statfs(String path, Statvfs stat);

    int chmod(String path, long mode);

    int chown(String path, long uid, long gid);

    int utimens(String path, Timespec[] timespec);
}
