package io.qedfs.qed;

import io.qedfs.qed.host.FileOpener;
import io.qedfs.qed.host.WriteLockedFile;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;

/**
 * Rewrites an image without leaked clusters and without stored zeroes, keeping its geometry, size, backing
 * file reference and guest content.
 *
 * <p>Crash safety: the copy is written to a temporary file in the target's directory, synced, given the
 * source's mode (and owner, where allowed) and renamed over the target (through a symbolic link), and then
 * the directory is synced. Until the rename the target is untouched; the rename replaces it atomically, so
 * a crash leaves either the old file or the new one (and perhaps a stray {@code .NAME.*.compact} file). A
 * failure removes the temporary file. The temporary file needs room for the whole compacted image.
 *
 * <p>Locks: in place, the source is opened read-write for QEMU's write lock: a qedfs mount or a QEMU process
 * using it is refused, and none can start before the rename; its tables and data are never written. With an
 * output file that exists, that file is write-locked before the copy starts and until it is renamed over, so
 * a file in use is refused and never replaced. The source's backing files are read-locked meanwhile.
 *
 * <p>A source named through a symbolic link is the file the link names, and its relative backing name is
 * relative to that file's directory: in place, the name is kept byte for byte.
 */
final class ImageCompactor {
    private ImageCompactor() {
    }

    /**
     * Compacts {@code image} into {@code output}, or in place when {@code output} is null. Refuses an image in
     * use, a corrupt one, and one marked dirty that does not check clean; leaks alone are no reason to refuse
     * (they are what compaction drops).
     */
    static CompactResult compact(Path image, Path output, boolean trustBacking, ProgressListener progress) throws IOException {
        boolean inPlace = output == null;
        QedOpenOptions options = (inPlace ? QedOpenOptions.readWrite() : QedOpenOptions.readOnlyOptions())
                .withCheck(QedOpenOptions.CheckPolicy.NEVER).withTrustBacking(trustBacking);
        Path file = throughLinks(image);
        try (QedImage source = QedImage.open(file, options)) { // closed after the rename: no user slips in
            CheckReport health = source.check(RepairMode.NONE);
            refuseUnhealthy(source, health);
            if (inPlace) {
                return replace(source, health, file, progress);
            }
            Path target = throughLinks(output);
            try (WriteLockedFile inUse = Files.exists(target) ? WriteLockedFile.open(target) : null) {
                return replace(source, health, target, progress);
            }
        }
    }

    /** Writes the compacted copy next to {@code target} and renames it over {@code target}. */
    private static CompactResult replace(QedImage source, CheckReport health, Path target, ProgressListener progress)
            throws IOException {
        if (Files.exists(target) && !Files.isRegularFile(target)) {
            // the rename would put a regular file where a block device or a FIFO was
            throw new FileOpener.FileTypeException(target, target + ": not a regular file; compact replaces its"
                    + " target by a new file, so the target must be a regular file or not exist yet");
        }
        long oldBytes = source.fileLength();
        Path dir = target.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) {
            // the temporary file is the first one created there: the error names the file the caller asked for
            throw new NoSuchFileException(target.toString(), null, "its directory does not exist");
        }
        Path tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".compact");
        boolean renamed = false;
        try {
            CompactingCopier.Counts counts = copy(source, tmp, dir, progress);
            keepOwnerAndMode(source.path(), tmp);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            renamed = true;
            syncDirectory(dir);
            return new CompactResult(oldBytes, Files.size(target), counts.dataClusters(), counts.zeroDataClusters(),
                    health.leaks());
        } catch (IOException e) {
            if (renamed) {
                throw e;
            }
            throw new IOException(String.format("%s: compaction failed, %s is left unchanged: %s", source.path(), target,
                    e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
        } finally {
            if (!renamed) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    private static void refuseUnhealthy(QedImage source, CheckReport health) throws QedFormatException {
        if (health.corruptions() == 0 && health.checkErrors() == 0) {
            return;
        }
        String name = source.path().toString();
        String what = health.corruptions() + " corruptions, " + health.checkErrors() + " unreadable tables";
        throw new QedFormatException(source.header().needsCheck()
                ? String.format("%s: the image is marked dirty and does not check clean (%s); run 'qedfs check -r all %s' first",
                        name, what, name)
                : String.format("%s: the image is corrupt (%s); run 'qedfs check -r all %s' first", name, what, name));
    }

    private static CompactingCopier.Counts copy(QedImage source, Path tmp, Path dir, ProgressListener progress)
            throws IOException {
        String backingFormat = source.header().hasFeature(QedHeader.F_BACKING_FORMAT_NO_PROBE) ? "raw" : null;
        QedCreateOptions o = new QedCreateOptions(source.size(), source.clusterSize(), source.tableSize(),
                backingNameFrom(source, dir), source.backingFileName() == null ? null : backingFormat);
        ImageCreator.create(tmp, o);
        // trusted: the copy names the backing file the source names, judged when the source was opened
        QedOpenOptions own = QedOpenOptions.readWrite().withCheck(QedOpenOptions.CheckPolicy.NEVER).withTrustBacking(true);
        try (QedImage copy = QedImage.open(tmp, own)) {
            return new CompactingCopier(source, copy, progress).run();
        } // closing syncs the data and tables and marks the copy clean
    }

    /**
     * The backing file name for a copy in {@code dir}: as stored, unless it is relative and the copy lives in
     * another directory, where it becomes relative to that directory so that it names the same file.
     */
    static String backingNameFrom(QedImage source, Path dir) throws IOException {
        String name = source.backingFileName();
        if (name == null || Path.of(name).isAbsolute()) {
            return name;
        }
        Path sourceDir = source.path().toAbsolutePath().getParent();
        if (Files.isSameFile(sourceDir, dir)) {
            return name;
        }
        Path backing = BackingChain.resolve(source.path(), name).normalize();
        Path backingDir = backing.getParent().toRealPath(); // the file itself may be a link, kept as one
        return dir.toRealPath().relativize(backingDir.resolve(backing.getFileName())).toString();
    }

    /** A symbolic link stands for the file it names: that file is read or replaced, and the link stays. */
    private static Path throughLinks(Path target) throws IOException {
        return Files.isSymbolicLink(target) && Files.exists(target) ? target.toRealPath() : target;
    }

    /** The copy gets the source's mode, and its owner and group where this process may set them (root). */
    private static void keepOwnerAndMode(Path from, Path to) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(to, PosixFileAttributeView.class);
        if (view == null) {
            return; // not a POSIX file system: the new file keeps the default mode
        }
        PosixFileAttributes old = Files.readAttributes(from, PosixFileAttributes.class);
        view.setPermissions(old.permissions());
        try {
            view.setGroup(old.group());
            view.setOwner(old.owner());
        } catch (IOException e) {
            // not allowed (not root): the compacted file belongs to whoever compacted it
        }
    }

    /** Makes the rename durable; some file systems cannot sync a directory, and the rename is atomic anyway. */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // best effort
        }
    }
}
