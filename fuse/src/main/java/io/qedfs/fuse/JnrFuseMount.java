package io.qedfs.fuse;

import jnr.ffi.Pointer;
import jnr.ffi.types.gid_t;
import jnr.ffi.types.mode_t;
import jnr.ffi.types.off_t;
import jnr.ffi.types.uid_t;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * A file system served by jnr-fuse's own loop ({@code mount(...)}, libfuse2's fuse_main_real), which
 * {@code --fuse-loop jnr} keeps for comparison: jnr-fuse binds these callbacks its own way and read and
 * write through {@link DirectIo}, as {@link NativeOperations} does for {@link SessionLoop}.
 */
final class JnrFuseMount extends FuseStubFS {
    private final FuseCallbacks fs;
    private final DirectIo directIo; // held: the read and write callbacks libfuse calls

    JnrFuseMount(FuseCallbacks fs) {
        this.fs = fs;
        this.directIo = DirectIo.install(fuseOperations, fs);
    }

    @Override
    public int getattr(String path, FileStat stat) {
        return fs.getattr(path, stat);
    }

    @Override
    public int readdir(String path, Pointer buf, FuseFillDir filler, @off_t long offset, FuseFileInfo fi) {
        return fs.readdir(path, buf, filler, offset, fi);
    }

    @Override
    public int open(String path, FuseFileInfo fi) {
        return fs.open(path, fi);
    }

    @Override
    public int truncate(String path, @off_t long size) {
        return fs.truncate(path, size);
    }

    @Override
    public int ftruncate(String path, @off_t long size, FuseFileInfo fi) {
        return fs.ftruncate(path, size, fi);
    }

    @Override
    public int fsync(String path, int isdatasync, FuseFileInfo fi) {
        return fs.fsync(path, isdatasync, fi);
    }

    @Override
    public int flush(String path, FuseFileInfo fi) {
        return fs.flush(path, fi);
    }

    @Override
    public int release(String path, FuseFileInfo fi) {
        return fs.release(path, fi);
    }

    @Override
    public int fallocate(String path, int mode, @off_t long offset, @off_t long len, FuseFileInfo fi) {
        return fs.fallocate(path, mode, offset, len, fi);
    }

    @Override
    public int statfs(String path, Statvfs stat) {
        return fs.statfs(path, stat);
    }

    @Override
    public int chmod(String path, @mode_t long mode) {
        return fs.chmod(path, mode);
    }

    @Override
    public int chown(String path, @uid_t long uid, @gid_t long gid) {
        return fs.chown(path, uid, gid);
    }

    @Override
    public int utimens(String path, Timespec[] timespec) {
        return fs.utimens(path, timespec);
    }
}
