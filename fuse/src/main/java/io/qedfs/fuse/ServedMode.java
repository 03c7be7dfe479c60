package io.qedfs.fuse;

import io.qedfs.qed.FileStatus;
import java.util.List;

/**
 * The permission bits of a served file, which the kernel enforces (the mount uses {@code default_permissions}):
 * the image file's, so that a shared mount ({@code allow_other}) lets nobody do more with the raw file than the
 * image file lets them do. On top of that:
 * <ul>
 * <li>no write bits where the file is read-only (a read-only mount, an image served read-only);</li>
 * <li>no read bit for the group or for others where a file of the backing chain denies them read: whoever
 * reads the raw file reads the backing files' bytes through it, so a 0644 image over a 0600 backing file
 * shows 0600 (the owner's read was already judged when the chain was opened, see the engine's BackingTrust);</li>
 * <li>no execute, setuid, setgid or sticky bit: a disk is not a program.</li>
 * </ul>
 */
final class ServedMode {
    private static final int READ_WRITE = 0666;
    private static final int WRITE = 0222;
    private static final int GROUP_READ = 040;
    private static final int OTHERS_READ = 04;

    private ServedMode() {
    }

    /** The bits for an image file of status {@code image} over the backing files {@code chain}. */
    static int of(FileStatus image, List<FileStatus> chain, boolean readOnly) {
        int mode = image.permissions() & READ_WRITE;
        if (readOnly) {
            mode &= ~WRITE;
        }
        for (FileStatus backing : chain) {
            if ((backing.permissions() & OTHERS_READ) == 0) {
                mode &= ~OTHERS_READ;
            }
            // the image's group reads the backing file as its group if it is the same group, else as others
            int groupBit = backing.gid() == image.gid() ? GROUP_READ : OTHERS_READ;
            if ((backing.permissions() & groupBit) == 0) {
                mode &= ~GROUP_READ;
            }
        }
        return mode;
    }
}
