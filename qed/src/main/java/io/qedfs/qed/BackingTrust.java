package io.qedfs.qed;

import io.qedfs.qed.host.Accounts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Whether a backing file may be opened for the images above it. An image names its backing file by any path
 * it likes, so an image made by one user and opened by another (root mounting it with {@code allow_other},
 * say) would otherwise make qedfs read, and serve to everyone, a file its maker could never read. So a backing
 * file must be one that the owner of every file above it in the chain could read: its mode bits grant that
 * owner read (as its owner, through one of the owner's groups, or as anyone), and every directory of its real
 * path grants that owner search. The user qedfs runs as is left to the kernel (its open fails as it always
 * did), and root reads everything, so those two owners are not judged here. ACLs are not consulted: a file
 * that only an ACL lets the owner read is refused unless trusted.
 *
 * <p>A backing file must be a regular file; a block device only when trusted; never a FIFO, a character device,
 * a directory or a socket (a FIFO blocks the open, a device has no end, a directory is no disk). Trusted
 * ({@code --trust-backing}: the caller vouches for the images) skips the owners' judgment and admits block
 * devices.
 *
 * <p>The files are judged by their paths just before they are opened; a user who can swap a path's target
 * between the check and the open (a symbolic link in a directory of theirs) still reaches only files the check
 * would find readable, unless the swap lands exactly in that window.
 */
final class BackingTrust {
    private static final String HOW_TO_ALLOW = "add --trust-backing to open it anyway";
    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFIFO = 0010000;
    private static final int S_IFSOCK = 0140000;
    private static final int READ = 4;
    private static final int WRITE = 2;
    private static final int SEARCH = 1;

    /** An owner whose reach a backing file must stay within, and the file of the chain it owns (for messages). */
    record Reader(Accounts.Account account, Path file) {
    }

    private final List<Reader> readers; // one per judged uid, nearest the top first
    private final boolean trusted;

    private BackingTrust(List<Reader> readers, boolean trusted) {
        this.readers = readers;
        this.trusted = trusted;
    }

    /** The trust for the backing chain of {@code top} (a file that need not exist yet: then it will be ours). */
    static BackingTrust forImage(Path top, boolean trusted) throws IOException {
        return new BackingTrust(List.of(), trusted).below(top);
    }

    /** The trust for the chain below {@code file}, a QED backing file: its owner is judged too. */
    BackingTrust below(Path file) throws IOException {
        if (trusted) {
            return this;
        }
        int uid = ownerOf(file);
        if (uid == 0 || uid == Accounts.processUid() || readers.stream().anyMatch(r -> r.account().uid() == uid)) {
            return this;
        }
        List<Reader> more = new ArrayList<>(readers);
        more.add(new Reader(Accounts.of(uid), file));
        return new BackingTrust(List.copyOf(more), false);
    }

    /**
     * Refuses, with {@link BackingRefusedException}, a backing file {@code path} that {@code image} names and that
     * is not a regular file, or that one of the owners above could not read.
     */
    void verifyReadable(Path image, Path path) throws IOException {
        Map<String, Object> a = attributes(path);
        refuseUnusableType(image, path, mode(a), trusted);
        for (Reader r : readers) {
            String denied = denial(path, a, r.account(), READ);
            if (denied != null) {
                throw new BackingRefusedException(path, subject(image, path) + " refused: " + r.account() + ", who owns "
                        + BackingChain.printable(r.file().toString()) + ", may not " + denied + "; " + HOW_TO_ALLOW);
            }
        }
    }

    /**
     * Refuses a commit of {@code overlay} into {@code target}, its backing file, when the overlay's owner could not
     * write the target: committing would otherwise write anyone's data into any file the overlay names.
     */
    static void verifyWritable(Path overlay, Path target, boolean trusted) throws IOException {
        Map<String, Object> a = attributes(target);
        refuseUnusableType(overlay, target, mode(a), trusted);
        int uid = ownerOf(overlay);
        if (trusted || uid == 0 || uid == Accounts.processUid()) {
            return;
        }
        Accounts.Account owner = Accounts.of(uid);
        String denied = denial(target, a, owner, WRITE);
        if (denied != null) {
            throw new BackingRefusedException(target, BackingChain.printable(overlay.toString()) + ": commit into backing file "
                    + BackingChain.printable(target.toString()) + " refused: " + owner + ", who owns "
                    + BackingChain.printable(overlay.toString()) + ", may not " + denied + "; add --trust-backing to commit anyway");
        }
    }

    /** The uid owning {@code file}; a file that does not exist yet will be this process's. */
    static int ownerOf(Path file) throws IOException {
        try {
            return (Integer) Files.getAttribute(file, "unix:uid");
        } catch (NoSuchFileException e) {
            return Accounts.processUid();
        }
    }

    private static void refuseUnusableType(Path image, Path path, int mode, boolean trusted) throws IOException {
        int type = mode & S_IFMT;
        if (type == S_IFREG || type == S_IFBLK && trusted) {
            return;
        }
        String what = switch (type) {
            case S_IFBLK -> "is a block device; " + HOW_TO_ALLOW.replace("it anyway", "a device as a backing file");
            case S_IFIFO -> "is a FIFO (named pipe), not a regular file";
            case S_IFCHR -> "is a character device, not a regular file";
            case S_IFDIR -> "is a directory, not a regular file";
            case S_IFSOCK -> "is a socket, not a regular file";
            default -> "is not a regular file";
        };
        throw new BackingRefusedException(path, subject(image, path) + " " + what);
    }

    /**
     * Why {@code who} could not {@code bit} (READ or WRITE) the file at {@code path}: the first directory of its
     * real path that {@code who} may not search, or the file's own mode; null when nothing stands in the way.
     */
    private static String denial(Path path, Map<String, Object> file, Accounts.Account who, int bit) throws IOException {
        Path real = path.toRealPath();
        List<Path> dirs = new ArrayList<>();
        for (Path d = real.getParent(); d != null; d = d.getParent()) {
            dirs.add(0, d);
        }
        for (Path d : dirs) {
            Map<String, Object> a = attributes(d);
            if (!grants(a, who, SEARCH)) {
                return "search its directory " + BackingChain.printable(d.toString()) + " (" + describe(a) + ")";
            }
        }
        return grants(file, who, bit) ? null : (bit == WRITE ? "write" : "read") + " it (" + describe(file) + ")";
    }

    /** The kernel's rule without ACLs: the owner's bits for the owner, else the group's for a member, else others'. */
    private static boolean grants(Map<String, Object> a, Accounts.Account who, int bit) {
        int mode = mode(a);
        int shift = (Integer) a.get("uid") == who.uid() ? 6 : who.inGroup((Integer) a.get("gid")) ? 3 : 0;
        return (mode >> shift & bit) != 0;
    }

    private static String subject(Path image, Path path) throws IOException {
        String shown = BackingChain.printable(path.toString());
        Path real = path.toRealPath();
        if (!real.equals(path)) { // through links or ..: say which file that is
            shown += " (that is " + BackingChain.printable(real.toString()) + ")";
        }
        return BackingChain.printable(image.toString()) + ": backing file " + shown;
    }

    /** {@code -rw------- root root}, as ls -l shows it. */
    private static String describe(Map<String, Object> a) {
        int mode = mode(a);
        char type = (mode & S_IFMT) == S_IFDIR ? 'd' : (mode & S_IFMT) == S_IFBLK ? 'b' : '-';
        StringBuilder sb = new StringBuilder().append(type);
        String rwx = "rwxrwxrwx";
        for (int i = 0; i < 9; i++) {
            sb.append((mode & (0400 >> i)) != 0 ? rwx.charAt(i) : '-');
        }
        return sb.append(' ').append(((UserPrincipal) a.get("owner")).getName())
                .append(' ').append(((GroupPrincipal) a.get("group")).getName()).toString();
    }

    private static int mode(Map<String, Object> a) {
        return (Integer) a.get("mode");
    }

    private static Map<String, Object> attributes(Path p) throws IOException {
        return Files.readAttributes(p, "unix:mode,uid,gid,owner,group");
    }
}
