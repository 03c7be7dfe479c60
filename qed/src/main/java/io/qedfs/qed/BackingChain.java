package io.qedfs.qed;

import io.qedfs.qed.host.FileIo;
import io.qedfs.qed.host.FileOpener;
import io.qedfs.qed.host.Printable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Opens the backing file named in a header: resolves relative names against the image's directory, probes
 * the format unless the no-probe bit says raw, and refuses loops and chains deeper than the limit. Each file
 * of the chain is read-locked as QEMU locks backing files (shared, forbidding writers) unless the context
 * says otherwise. Before a backing file is opened, {@link BackingTrust} decides whether it may be.
 */
final class BackingChain {
    private BackingChain() {
    }

    /**
     * The files already open above this one (real paths), outermost first; {@code lock}: whether the backing
     * files take QEMU's read locks (not for {@code info -U}, nor where the caller locks them itself);
     * {@code trust}: whose reach the backing files must stay within; {@code memory}: the budget the QED backing
     * files' caches draw on, or null for their own.
     */
    record Context(List<Path> above, int maxDepth, boolean lock, BackingTrust trust, MemoryBudget memory) {
        Context descend(Path real) throws IOException {
            List<Path> next = new ArrayList<>(above);
            next.add(real);
            return new Context(List.copyOf(next), maxDepth, lock, trust.below(real), memory);
        }
    }

    static String readName(FileChannel ch, QedHeader h, String file) throws IOException {
        // fits in int: validated to at most 4095 bytes
        ByteBuffer b = ByteBuffer.allocate((int) h.backingNameSize());
        FileIo.readFully(ch, h.backingNameOffset(), b, file);
        return new String(b.array(), StandardCharsets.UTF_8);
    }

    static Path resolve(Path image, String name) throws QedFormatException {
        Path p;
        try {
            p = Path.of(name);
        } catch (java.nio.file.InvalidPathException e) {
            throw new QedFormatException(image + ": backing file name \"" + printable(name) + "\" is not a valid path");
        }
        if (p.isAbsolute()) {
            return p;
        }
        Path dir = image.toAbsolutePath().getParent();
        return dir == null ? p : dir.resolve(p);
    }

    static Backing open(Path image, String name, QedHeader h, Context ctx) throws IOException {
        Located b = locate(image, name, h, ctx);
        if (b.format().equals("raw")) {
            return new RawBacking(b.path(), name, b.subject(), ctx.lock());
        }
        return new QedBacking(QedImage.openBacking(b.path(), ctx.descend(b.real())), name);
    }

    /** A backing file found and allowed: as named (resolved), its real path, "raw" or "qed", and how errors name it. */
    record Located(Path path, Path real, String format, String subject) {
    }

    /**
     * Finds the backing file {@code name} of {@code image} (whose header is {@code h}) and decides whether it may be
     * opened, without opening it for use: it must exist, close no loop, keep the chain within its depth and be
     * trusted ({@link BackingTrust}); then its format is probed, unless the header says raw.
     */
    static Located locate(Path image, String name, QedHeader h, Context ctx) throws IOException {
        Path path = resolve(image, name);
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null,
                    image + ": backing file " + printable(name) + " does not exist (looked for " + printable(path.toString()) + ")");
        }
        Path real = path.toRealPath();
        if (ctx.above().contains(real)) {
            StringBuilder loop = new StringBuilder();
            for (Path p : ctx.above()) {
                loop.append(p.getFileName()).append(" -> ");
            }
            throw new QedFormatException(image + ": backing chain loops: " + loop + real.getFileName());
        }
        if (ctx.above().size() >= ctx.maxDepth()) {
            throw new QedFormatException(image + ": backing chain is deeper than " + ctx.maxDepth() + " files");
        }
        ctx.trust().verifyReadable(image, path);
        String subject = image + ": backing file " + printable(path.toString());
        String format = h.hasFeature(QedHeader.F_BACKING_FORMAT_NO_PROBE) ? "raw" : probe(path, subject);
        return new Located(path, real, format, subject);
    }

    /**
     * Opens {@code name} as the backing file {@code image} would get (relative to its directory, refusing loops
     * through it), checking it against {@code format} ("raw", "qed" or null to probe); {@code lock} as in
     * {@link Context}; {@code trusted}: every file of its chain is opened whoever owns it (see {@link BackingTrust}).
     */
    static Backing openNamed(Path image, String name, String format, boolean lock, boolean trusted) throws IOException {
        QedHeader probe = new QedHeader(Geometry.MIN_CLUSTER_SIZE, 1, 1,
                QedHeader.F_BACKING_FILE | ("raw".equals(format) ? QedHeader.F_BACKING_FORMAT_NO_PROBE : 0),
                0, 0, Geometry.MIN_CLUSTER_SIZE, 0, QedHeader.SIZE, 0);
        Path self = Files.exists(image) ? image.toRealPath() : image.toAbsolutePath();
        Backing b = open(image, name, probe, new Context(List.of(self), QedOpenOptions.DEFAULT_MAX_CHAIN_DEPTH, lock,
                BackingTrust.forImage(image, trusted), null));
        if (format != null && !format.equals(b.format())) {
            b.close();
            throw new QedFormatException(image + ": backing file " + printable(name) + " is " + b.format() + ", not " + format);
        }
        return b;
    }

    /** The name with control characters escaped ({@link Printable}) and cut at 200 characters, fit for one line. */
    static String printable(String name) {
        String shown = Printable.escape(name);
        return shown.length() > 200 ? shown.substring(0, 200) + "..." : shown;
    }

    /** "qed" when the file starts with the QED magic; qcow2 and friends are refused by name. */
    static String probe(Path path, String subject) throws IOException {
        try (FileChannel ch = FileOpener.open(path, false, subject)) {
            ByteBuffer b = ByteBuffer.allocate(4);
            FileIo.readOrZero(ch, 0, b);
            b.flip();
            if (QedHeader.hasMagic(b)) {
                return "qed";
            }
            if (b.get(0) == 'Q' && b.get(1) == 'F' && b.get(2) == 'I' && (b.get(3) & 0xff) == 0xfb) {
                throw new QedFormatException(path + ": backing file is a qcow2 image; only raw and QED backing files are supported");
            }
            return "raw";
        }
    }
}
