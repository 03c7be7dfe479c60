package io.qedfs.fuse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entry of a root qedfs mount in util-linux's /run/mount/utab ({@code helper=fuse.qedfs}), which sends root's
 * plain {@code umount MOUNTPOINT} through umount.fuse.qedfs, and so makes it wait until the images are closed:
 * root's umount(8) takes the type from statfs ("fuse"), for which no helper runs, unless utab names a helper for
 * the mount (matched by its source, path and root as the mount table has them). The file is libmount's: it is
 * changed only through util-linux's own {@code mount --fake} and {@code umount --fake} (which take libmount's
 * lock), never written here. libmount removes the entry at umount(8); {@code qedfs unmount} removes it itself.
 * Only root may write utab, so nothing here runs for anyone else. A failure leaves the mount as it is (root's
 * umount just does not wait then), and is logged at debug level only.
 */
public final class UmountHelperEntry {
    private static final Logger LOG = LoggerFactory.getLogger(UmountHelperEntry.class);
    /** Where libmount keeps utab: LIBMOUNT_UTAB, as libmount reads it for root, else its default. */
    private static final Path UTAB = Path.of(System.getenv().getOrDefault("LIBMOUNT_UTAB", "/run/mount/utab"));
    private static final String OPTIONS = "helper=fuse.qedfs";

    private UmountHelperEntry() {
    }

    /**
     * Adds the entry for the qedfs mount at {@code mountPoint}, now in place, once root is serving it. Entries left
     * for the same path by mounts that ended without umount(8) (fusermount -u, a signal, a crash) go first: the
     * mountpoint was no mountpoint when this mount began, so every entry for it is stale, and libmount removes an
     * entry by path alone, last one first.
     */
    public static void add(Path mountPoint) {
        if (ServerProcess.ownUid() != 0) {
            return;
        }
        try {
            Path real = MountTable.realPath(mountPoint);
            Optional<MountInfo.Line> line = MountTable.topmostFuse(MountInfo.read(), real);
            if (line.isEmpty()) {
                return;
            }
            for (int stale = entriesAt(real).size(); stale > 0; stale--) {
                util(List.of("umount", "--fake", "-i", "--", real.toString()));
            }
            addEntry(real, line.get().source());
        } catch (IOException | RuntimeException e) { // the mount is ready and served whatever happens here
            LOG.debug("{}: no utab entry, root's umount will not wait for the images: {}", mountPoint, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Before root unmounts the qedfs mount at {@code real} (a real path) itself: removes its entry, so that none is
     * left behind, and returns what puts it back should the mount stay (busy). Nothing is done, and nothing returned,
     * unless the newest entry for the path is a qedfs one for this mount's source: libmount removes the newest.
     */
    static Optional<Runnable> removeBeforeUnmount(Path real) {
        if (ServerProcess.ownUid() != 0) {
            return Optional.empty();
        }
        try {
            List<Entry> entries = entriesAt(real);
            Optional<MountInfo.Line> line = MountTable.topmostFuse(MountInfo.read(), real);
            if (entries.isEmpty() || line.isEmpty()) {
                return Optional.empty();
            }
            Entry newest = entries.get(entries.size() - 1);
            String source = line.get().source();
            if (!newest.options().equals(OPTIONS) || !newest.source().equals(source)) {
                return Optional.empty();
            }
            util(List.of("umount", "--fake", "-i", "--", real.toString()));
            return Optional.of(() -> put(real, source));
        } catch (IOException e) {
            LOG.debug("{}: its utab entry stays: {}", real, e.getMessage());
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    private static void put(Path real, String source) {
        try {
            addEntry(real, source);
        } catch (IOException e) {
            LOG.debug("{}: its utab entry could not be put back: {}", real, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Has util-linux record the qedfs mount of {@code source} at {@code real} in utab, naming its umount helper. */
    private static void addEntry(Path real, String source) throws IOException, InterruptedException {
        util(List.of("mount", "--fake", "-i", "-t", "fuse.qedfs", "-o", OPTIONS, "--", source, real.toString()));
    }

    /** One line of utab: the mount's source, its path and the options libmount keeps for it. */
    record Entry(String source, byte[] target, String options) {
    }

    /** The entries of utab for the path {@code real}, oldest first. */
    static List<Entry> entriesAt(Path real) throws IOException {
        byte[] want = MountTable.bytes(real);
        List<Entry> at = new ArrayList<>();
        for (Entry e : parse(read())) {
            if (Arrays.equals(e.target(), want)) {
                at.add(e);
            }
        }
        return at;
    }

    private static byte[] read() throws IOException {
        try {
            return Files.readAllBytes(UTAB);
        } catch (NoSuchFileException e) {
            return new byte[0];
        }
    }

    /** utab's lines: {@code SRC=... TARGET=... ROOT=... OPTS=...}, values escaped as in the mount table. */
    static List<Entry> parse(byte[] content) {
        List<Entry> entries = new ArrayList<>();
        for (String line : new String(content, StandardCharsets.ISO_8859_1).split("\n")) {
            String source = null;
            byte[] target = null;
            String options = "";
            for (String field : line.split(" ")) {
                byte[] value = MountInfo.unescape(field.substring(field.indexOf('=') + 1).getBytes(StandardCharsets.ISO_8859_1));
                if (field.startsWith("SRC=")) {
                    source = new String(value, StandardCharsets.UTF_8);
                } else if (field.startsWith("TARGET=")) {
                    target = value;
                } else if (field.startsWith("OPTS=")) {
                    options = new String(value, StandardCharsets.UTF_8);
                }
            }
            if (source != null && target != null) {
                entries.add(new Entry(source, target, options));
            }
        }
        return entries;
    }

    /** Runs util-linux's {@code cmd}: IOException unless it exits 0 within 10 s, with what it said. */
    private static void util(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        // wait first, read after: a read would block for as long as the command runs (libmount waits for its lock),
        // and the serving process must not hang here; what the command says on failure fits in the pipe
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + " did not finish in 10 s");
        }
        String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + ": exit " + p.exitValue() + (said.isEmpty() ? "" : ": " + said));
        }
    }
}
