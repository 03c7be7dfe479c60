package io.qedfs.qed;

import io.qedfs.qed.host.FileOpener;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What a short look at an image tells, with nothing kept open: its header's size, cluster size and NEED_CHECK
 * bit, and its backing chain as an open would find it. Taking one opens the image file (refusing what an open
 * refuses), reads and validates the header, and closes it again; every backing file gets the same, and the checks
 * an open makes before opening one (it exists, no loop, within the depth, trusted: see
 * {@link QedOpenOptions#trustBacking}). No lock
 * is taken and no table read, so it is as cheap as a stat and a read of each file; it can be stale as soon as it
 * is taken, and an open reads everything again.
 *
 * @param path            the image file
 * @param size            virtual size in bytes
 * @param clusterSize     bytes per cluster
 * @param needsCheck      the header's NEED_CHECK bit: an open for writing will check the image first
 * @param backingFileName the backing file name as stored in the header, or null
 * @param backingFiles    the backing chain's files (names resolved), nearest first; empty without one
 */
public record ImageSummary(Path path, long size, int clusterSize, boolean needsCheck, String backingFileName,
        List<Path> backingFiles) {
    /**
     * Keeps a copy of {@code backingFiles} that cannot change.
     *
     * @param path            the image file
     * @param size            virtual size in bytes
     * @param clusterSize     bytes per cluster
     * @param needsCheck      the header's NEED_CHECK bit
     * @param backingFileName the backing file name as stored in the header, or null
     * @param backingFiles    the backing chain's files, nearest first
     */
    public ImageSummary {
        backingFiles = List.copyOf(backingFiles);
    }

    /**
     * Summarises an image.
     *
     * @param path    the image file
     * @param options the chain's depth limit and whether its files are trusted whoever owns them
     * @return the summary
     * @throws IOException as {@link QedImage#open} would on a file that is not a valid QED image, and on a chain an
     *                     open would refuse
     */
    public static ImageSummary of(Path path, QedOpenOptions options) throws IOException {
        Level top = read(path);
        List<Path> chain = new ArrayList<>();
        BackingChain.Context ctx = top.backingName() == null ? null : new BackingChain.Context(List.of(path.toRealPath()),
                options.maxChainDepth(), false, BackingTrust.forImage(path, options.trustBacking()), null);
        for (Level at = top; at.backingName() != null; ) {
            BackingChain.Located b = BackingChain.locate(at.path(), at.backingName(), at.header(), ctx);
            chain.add(b.path());
            if (!b.format().equals("qed")) {
                break;
            }
            ctx = ctx.descend(b.real());
            at = read(b.path());
        }
        QedHeader h = top.header();
        // fits in int: validated to at most 64 MiB
        return new ImageSummary(path, h.imageSize(), (int) h.clusterSize(), h.needsCheck(), top.backingName(), chain);
    }

    /** One file of the chain: its header (validated) and its backing file name, or null. */
    private record Level(Path path, QedHeader header, String backingName) {
    }

    private static Level read(Path path) throws IOException {
        String name = path.toString();
        try (FileChannel ch = FileOpener.open(path, false, name)) {
            long length = ch.size();
            QedHeader h = QedHeader.read(ch, name, length);
            HeaderValidator.validate(h, name, length);
            return new Level(path, h, h.hasBackingFile() ? BackingChain.readName(ch, h, name) : null);
        }
    }
}
