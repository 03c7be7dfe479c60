package io.qedfs.fuse;

import com.kenai.jffi.MemoryIO;
import io.qedfs.qed.FileStatus;
import io.qedfs.qed.QedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import jnr.ffi.Pointer;
import jnr.ffi.types.gid_t;
import jnr.ffi.types.mode_t;
import jnr.ffi.types.off_t;
import jnr.ffi.types.uid_t;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.ErrorCodes;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * The mounted directory: one regular file per image, whose bytes are the image's guest bytes, and with
 * {@code --partitions} one per partition of each image, whose bytes are that window of the image's bytes.
 *
 * <p>Errno contract: every callback runs its work in {@link #guard} (read and write catch for themselves, see
 * {@link #read}), which maps any Throwable through {@link Errno} (jnr-fuse would report 0). Reads past the end are
 * short (EOF); writes past the end fail with ENOSPC (a disk does not grow by writing); truncate grows an image,
 * succeeds to the same size, and refuses to shrink (EINVAL), and refuses any change of a partition file's size
 * (EINVAL); an open with O_TRUNC (dd without conv=notrunc, a shell's {@code >}) keeps the size and the bytes, as a
 * block device and QEMU's FUSE export do: a disk is not emptied by opening it, and the writes that follow replace
 * bytes in place; fsync flushes the image; fallocate PUNCH_HOLE and ZERO_RANGE zero whole clusters without storing
 * data; lseek SEEK_DATA and SEEK_HOLE find data and holes from the tables ({@link #seek}).
 * A partition file's offsets are translated by the partition's start and never reach outside it.
 *
 * <p>st_blocks: for an image, the blocks its file occupies on the host (metadata included); for a partition
 * file, the image's own data clusters inside the partition (backing files and metadata not counted).
 *
 * <p>Permissions: the mount uses {@code default_permissions}, so the kernel checks every access against what
 * getattr reports: each file has its image file's owner, group and times and the mode {@link ServedMode} derives
 * from the image's; the mountpoint directory keeps the owner, group, mode and times it had before the mount.
 * chmod and chown fail with EPERM: the raw file follows its image file, so change that instead.
 */
public final class QedFileSystem implements FuseCallbacks {
    private static final Logger LOG = LoggerFactory.getLogger(QedFileSystem.class);
    private static final int FALLOC_FL_KEEP_SIZE = 0x01;
    private static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    private static final int FALLOC_FL_ZERO_RANGE = 0x10;
    private static final int O_ACCMODE = 3;
    private static final int O_RDONLY = 0;
    private static final int O_TRUNC = 01000;
    private static final int SEEK_DATA = 3;
    private static final int SEEK_HOLE = 4;

    private final FileTable files;
    private final boolean readOnly;
    private final FileStatus mountPoint; // the directory as it was before the mount, shown as the root
    private final FileStore hostStore;

    /**
     * The images, and partition windows onto them (keys "/disk-p1.raw", none equal to an image's key), with the root
     * directory shown as {@code mountPoint} (the directory's status before the mount).
     */
    QedFileSystem(Map<String, MountedImage> images, Map<String, ImageView> partitions, boolean readOnly,
            FileStatus mountPoint) throws IOException {
        Map<String, ImageView> all = new LinkedHashMap<>();
        images.forEach((key, m) -> all.put(key, ImageView.whole(m)));
        partitions.forEach((key, view) -> {
            if (all.putIfAbsent(key, view) != null) {
                throw new IllegalArgumentException(key + " is both an image and a partition");
            }
        });
        this.files = new FileTable(all);
        this.readOnly = readOnly;
        this.mountPoint = mountPoint;
        this.hostStore = Files.getFileStore(images.values().iterator().next().path());
    }

    /** The whole mount is read-only, or this file's image is (a backing file of another image served here). */
    private boolean readOnly(ImageView m) {
        return readOnly || m.image().isReadOnly();
    }

    /** The file whose open stored {@code fi}'s handle, else the file at {@code path}. */
    private ImageView find(String path, FuseFileInfo fi) {
        ImageView byHandle = files.byHandle(fi == null ? 0 : fi.fh.get());
        return byHandle != null ? byHandle : find(path);
    }

    private ImageView find(String path) {
        return files.byPath(path);
    }

    /** The file a read or write is for: by the handle its open stored, else (no handle) by its path. */
    private ImageView find(long path, long fi) {
        ImageView byHandle = files.byHandle(fi == 0 ? 0 : DirectIo.handle(fi));
        return byHandle != null ? byHandle : find(DirectIo.path(path));
    }

    /** A callback's work, which may throw; its result is the callback's (0, a count, or a negative errno). */
    @FunctionalInterface
    private interface Work {
        long run() throws Exception;
    }

    /**
     * Runs a callback's work and turns what it throws into a negative errno, logged with {@code op} and
     * {@code what} ({@link Errno}); libfuse never sees an exception (jnr-fuse would report 0 for one).
     * {@code what} names the file (and the range), and is made only when the work fails; "?" if making it
     * fails too, since the guard itself must never throw.
     */
    private static long guard(String op, Supplier<String> what, Work work) {
        try {
            return work.run();
        } catch (Throwable t) {
            String named;
            try {
                named = what.get();
            } catch (Throwable again) {
                named = "?";
            }
            return Errno.of(t, op, named, LOG);
        }
    }

    @Override
    public int getattr(String path, FileStat stat) {
        return (int) guard("getattr", () -> path, () -> {
            if (path.equals("/")) {
                stat.st_mode.set(FileStat.S_IFDIR | mountPoint.permissions());
                stat.st_nlink.set(2);
                setOwnerAndTimes(stat, mountPoint);
                return 0;
            }
            ImageView m = find(path);
            if (m == null) {
                return -ErrorCodes.ENOENT();
            }
            MountedImage image = m.image();
            long allocated = m.isWhole() ? image.hostAllocatedBytes() : image.allocatedDataBytes(m.offset(), m.length());
            FileStatus file = image.fileStatus();
            stat.st_mode.set(FileStat.S_IFREG | ServedMode.of(file, backingStatus(image.backingFiles()), readOnly(m)));
            stat.st_nlink.set(1);
            stat.st_size.set(m.size());
            stat.st_blksize.set(image.clusterSize());
            stat.st_blocks.set((allocated + 511) / 512);
            setOwnerAndTimes(stat, file);
            return 0;
        });
    }

    private static List<FileStatus> backingStatus(List<Path> chain) throws IOException {
        List<FileStatus> out = new ArrayList<>();
        for (Path p : chain) {
            out.add(FileStatus.of(p));
        }
        return out;
    }

    private static void setOwnerAndTimes(FileStat stat, FileStatus s) {
        stat.st_uid.set(Integer.toUnsignedLong(s.uid()));
        stat.st_gid.set(Integer.toUnsignedLong(s.gid()));
        setTime(stat.st_mtim, s.modified());
        setTime(stat.st_ctim, s.changed());
        setTime(stat.st_atim, s.accessed());
    }

    private static void setTime(Timespec ts, FileTime time) {
        long nanos = time.toInstant().getNano();
        ts.tv_sec.set(time.toInstant().getEpochSecond());
        ts.tv_nsec.set(nanos);
    }

    @Override
    public int readdir(String path, Pointer buf, FuseFillDir filler, @off_t long offset, FuseFileInfo fi) {
        return (int) guard("readdir", () -> path, () -> {
            if (!path.equals("/")) {
                return find(path) == null ? -ErrorCodes.ENOENT() : -ErrorCodes.ENOTDIR();
            }
            filler.apply(buf, ".", null, 0);
            filler.apply(buf, "..", null, 0);
            for (ImageView file : files.inOrder()) {
                filler.apply(buf, file.name(), null, 0);
            }
            return 0;
        });
    }

    /**
     * Opens the file: its image is opened now if it is not open yet (see {@link MountedImage}) and stays open at
     * least until the matching {@link #release}. EBUSY when another process holds the image's lock.
     */
    @Override
    public int open(String path, FuseFileInfo fi) {
        return (int) guard("open", () -> path, () -> {
            long handle = files.handle(path);
            if (handle == 0) {
                return -ErrorCodes.ENOENT();
            }
            ImageView m = find(path);
            int flags = fi.flags.get();
            if (readOnly(m) && (flags & O_ACCMODE) != O_RDONLY) {
                return -ErrorCodes.EROFS();
            }
            if ((flags & O_TRUNC) != 0) {
                LOG.info("open {} with O_TRUNC: the disk keeps its size and bytes (a disk is not emptied by opening it)", path);
            }
            m.image().acquire();
            fi.fh.set(handle);
            return 0;
        });
    }

    /**
     * FUSE read, called through {@link DirectIo} with libfuse's pointers as addresses. Read and write catch
     * their own failures instead of running in {@link #guard}: its two lambdas would be made for every request,
     * about 95 bytes of garbage each time on the path that serves most requests (under fio's 4 KiB random I/O
     * a request leaves about 105 bytes without them).
     */
    @Override
    public int read(long path, long buf, long size, long offset, long fi) {
        ImageView m = null;
        try {
            m = find(path, fi);
            if (m == null) {
                return -ErrorCodes.ENOENT();
            }
            int n = within(m, offset, size);
            if (n > 0) {
                m.image().inUse().read(m.offset() + offset, wrap(buf, n));
            }
            return n;
        } catch (Throwable t) {
            return Errno.of(t, "read", describe(m, offset, size), LOG);
        }
    }

    /** FUSE write, called through {@link DirectIo} with libfuse's pointers as addresses; see {@link #read}. */
    @Override
    public int write(long path, long buf, long size, long offset, long fi) {
        ImageView m = null;
        try {
            m = find(path, fi);
            if (m == null) {
                return -ErrorCodes.ENOENT();
            }
            int n = within(m, offset, size);
            if (n == 0) {
                return size == 0 ? 0 : -ErrorCodes.ENOSPC();
            }
            ByteBuffer data = wrap(buf, n);
            long at = m.offset() + offset;
            QedImage image = m.image().inUse();
            RequestBuffer request = RequestBuffer.ofThisThread();
            if (request != null && request.holds(buf, n)) {
                request.offer(giveBack -> image.writeMayKeep(at, data, giveBack));
            } else {
                image.write(at, data);
            }
            return n;
        } catch (Throwable t) {
            return Errno.of(t, "write", describe(m, offset, size), LOG);
        }
    }

    /** How many of the {@code size} bytes at {@code offset} lie inside {@code m}'s file: 0 at or past its end. */
    private static int within(ImageView m, long offset, long size) {
        long fileSize = m.size();
        return offset >= fileSize ? 0 : (int) Math.min(size, fileSize - offset); // fits: size is one FUSE request
    }

    /**
     * FUSE lseek, SEEK_DATA or SEEK_HOLE, for the file an open gave {@code handle} (libfuse2 has no callback for
     * it; {@link SeekRequests} answers the request with this): the offset found or a negative errno, ENXIO at or
     * past the end and for SEEK_DATA when no data follows. Never ENOSYS: the kernel would stop asking for good.
     */
    long seek(long handle, long offset, int whence) {
        ImageView m = files.byHandle(handle);
        return guard(whence == SEEK_DATA ? "SEEK_DATA" : "SEEK_HOLE", () -> describe(m, offset, 0), () -> {
            if (m == null) {
                return -ErrorCodes.EBADF();
            }
            if (whence != SEEK_DATA && whence != SEEK_HOLE) {
                return -ErrorCodes.EINVAL();
            }
            if (offset < 0 || offset >= m.size()) {
                return -ErrorCodes.ENXIO();
            }
            long found = whence == SEEK_DATA ? m.nextData(offset) : m.nextHole(offset);
            return found < 0 ? -ErrorCodes.ENXIO() : found;
        });
    }

    private static String describe(ImageView m, long offset, long size) {
        return (m == null ? "?" : "/" + m.name()) + " at " + offset + " (" + size + " bytes)";
    }

    /**
     * libfuse's buffer as a ByteBuffer, without a copy; it must not outlive the callback unless the request's
     * buffer is kept ({@link RequestBuffer}).
     */
    private static ByteBuffer wrap(long buf, int n) {
        return MemoryIO.getInstance().newDirectByteBuffer(buf, n);
    }

    @Override
    public int truncate(String path, @off_t long size) {
        return (int) guard("truncate", () -> path, () -> {
            ImageView m = find(path);
            if (m == null) {
                return -ErrorCodes.ENOENT();
            }
            if (readOnly(m)) {
                return -ErrorCodes.EROFS();
            }
            if (!m.isWhole()) {
                if (size == m.length()) {
                    return 0;
                }
                LOG.warn("truncate {} to {} refused: a partition file's size is the partition's ({})", path, size, m.length());
                return -ErrorCodes.EINVAL();
            }
            QedImage image = m.image().acquire(); // truncate(2) needs no open file
            try {
                long current = image.size();
                if (size < current) {
                    LOG.warn("truncate {} to {} refused: a disk does not shrink, and shrinking a QED image is not supported"
                            + " (size {}; dd: use conv=notrunc)", path, size, current);
                    return -ErrorCodes.EINVAL();
                }
                if (size > current) {
                    image.resize(size);
                    LOG.info("{} grown from {} to {} bytes", path, current, image.size());
                }
                return 0;
            } finally {
                m.image().release();
            }
        });
    }

    @Override
    public int ftruncate(String path, @off_t long size, FuseFileInfo fi) {
        return truncate(path, size);
    }

    @Override
    public int fsync(String path, int isdatasync, FuseFileInfo fi) {
        return (int) guard("fsync", () -> path, () -> {
            ImageView m = find(path, fi);
            if (m == null) {
                return -ErrorCodes.ENOENT();
            }
            m.image().inUse().flush();
            return 0;
        });
    }

    @Override
    public int flush(String path, FuseFileInfo fi) {
        return 0; // runs on every close; not a durability point (fsync is)
    }

    /** The last close of an open file: its image may be closed once it has been unused for a while (IdleCleaner). */
    @Override
    public int release(String path, FuseFileInfo fi) {
        return (int) guard("release", () -> path, () -> {
            ImageView m = find(path, fi);
            if (m == null) {
                return -ErrorCodes.ENOENT();
            }
            m.image().release();
            return 0;
        });
    }

    @Override
    public int fallocate(String path, int mode, @off_t long offset, @off_t long len, FuseFileInfo fi) {
        return (int) guard("fallocate", () -> path + " mode " + mode + " at " + offset + " (" + len + " bytes)", () -> {
            ImageView m = find(path, fi);
            if (m == null) {
                return -ErrorCodes.ENOENT();
            }
            if (readOnly(m)) {
                return -ErrorCodes.EROFS();
            }
            boolean punch = (mode & FALLOC_FL_PUNCH_HOLE) != 0;
            boolean zero = (mode & FALLOC_FL_ZERO_RANGE) != 0;
            if (!punch && !zero || (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) != 0) {
                return -ErrorCodes.EOPNOTSUPP(); // no preallocation: QED allocates on write
            }
            long end = len > m.size() - offset ? m.size() : offset + len; // offset + len may not fit
            if (offset < end) {
                m.image().inUse().writeZeroes(m.offset() + offset, end - offset);
            }
            return 0;
        });
    }

    @Override
    public int statfs(String path, Statvfs stat) {
        return (int) guard("statfs", () -> path, () -> {
            stat.f_bsize.set(4096);
            stat.f_frsize.set(4096);
            stat.f_blocks.set(hostStore.getTotalSpace() / 4096);
            stat.f_bfree.set(hostStore.getUnallocatedSpace() / 4096);
            stat.f_bavail.set(hostStore.getUsableSpace() / 4096);
            stat.f_files.set(files.size());
            stat.f_ffree.set(0);
            stat.f_namemax.set(255);
            return 0;
        });
    }

    /** Refused: the raw file's mode is its image file's (chmod that), see the class comment. */
    @Override
    public int chmod(String path, @mode_t long mode) {
        return refuseAttributeChange("chmod", path);
    }

    /** Refused: the raw file's owner is its image file's (chown that), see the class comment. */
    @Override
    public int chown(String path, @uid_t long uid, @gid_t long gid) {
        return refuseAttributeChange("chown", path);
    }

    private int refuseAttributeChange(String what, String path) {
        return (int) guard(what, () -> path, () -> {
            if (find(path) == null && !path.equals("/")) {
                return -ErrorCodes.ENOENT();
            }
            LOG.info("{} {} refused: a served file has its image file's owner and mode; {} the image file instead", what,
                    path, what);
            return -ErrorCodes.EPERM();
        });
    }

    @Override
    public int utimens(String path, Timespec[] timespec) {
        // times follow the image file
        return (int) guard("utimens", () -> path, () -> find(path) == null && !path.equals("/") ? -ErrorCodes.ENOENT() : 0);
    }
}
