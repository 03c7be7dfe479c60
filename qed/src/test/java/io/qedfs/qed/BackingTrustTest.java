package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine opens a backing file only when every owner of a file above it could read it, and only when it is a
 * regular file. Run as root with images given to the system user {@code nobody}: root itself may read anything,
 * so only the owners' judgment stands between such an image and root's files. SecurityIT attacks the same
 * through real mounts with a user of its own.
 */
@Timeout(60)
class BackingTrustTest {
    private static final int SIZE = 64 << 10;

    @TempDir
    Path dir;

    @BeforeEach
    void needsRootAndNobody() throws IOException {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root: gives images to the user nobody");
        assumeTrue(Files.readAllLines(Path.of("/etc/passwd")).stream().anyMatch(l -> l.startsWith("nobody:")),
                "no user nobody on this machine");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void anImageOfAnotherOwnerCannotNameWhatThatOwnerCouldNotRead() throws Exception {
        Path rootOnly = Files.createDirectory(dir.resolve("rootonly"));
        Files.setPosixFilePermissions(rootOnly, PosixFilePermissions.fromString("rwx------"));
        Path secret = write(rootOnly.resolve("secret.raw"), 0x5e);
        Path closed = write(dir.resolve("closed.raw"), 0x6e);
        Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rw-------"));
        Path open = write(dir.resolve("open.raw"), 0x7e);

        Path viaDir = image("a.qed", secret.toString(), "nobody");
        BackingRefusedException e = assertThrows(BackingRefusedException.class, () -> open(viaDir, false));
        assertEquals(viaDir + ": backing file " + secret + " refused: nobody (uid 65534), who owns " + viaDir
                + ", may not search its directory " + rootOnly + " (drwx------ root root); add --trust-backing to open"
                + " it anyway", e.getMessage());

        Path viaMode = image("b.qed", "closed.raw", "nobody");
        e = assertThrows(BackingRefusedException.class, () -> open(viaMode, false));
        assertTrue(e.getMessage().endsWith("may not read it (-rw------- root root); add --trust-backing to open it anyway"),
                e.getMessage());

        Path viaLink = image("c.qed", Files.createSymbolicLink(dir.resolve("link"), secret).toString(), "nobody");
        e = assertThrows(BackingRefusedException.class, () -> open(viaLink, false));
        assertTrue(e.getMessage().contains("(that is " + secret + ") refused"), e.getMessage());

        assertArrayEquals(content(0x7e), read(open(image("d.qed", open.toString(), "nobody"), false)), "0644: readable");
        assertArrayEquals(content(0x6e), read(open(image("e.qed", "closed.raw", "root"), false)), "root's own chain");
        assertArrayEquals(content(0x5e), read(open(viaLink, true)), "trusted: opened whoever owns it");
    }

    /** The owner of a QED file in the middle of a chain is judged for the links below it, as the top's owner is. */
    @Test
    void everyOwnerAboveALinkIsJudged() throws Exception {
        Path closed = write(dir.resolve("closed.raw"), 0x11);
        Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rw-------"));
        Path middle = image("middle.qed", "closed.raw", "root");
        Path top = image("top.qed", "middle.qed", "nobody");
        BackingRefusedException e = assertThrows(BackingRefusedException.class, () -> open(top, false));
        assertTrue(e.getMessage().startsWith(middle + ": backing file " + closed + " refused: nobody (uid 65534), who owns "
                + top + ", may not read it"), e.getMessage());
    }

    @Test
    void onlyARegularFileIsABackingFile() throws Exception {
        Path fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        Path top = image("f.qed", "fifo", "root");
        BackingRefusedException e = assertThrows(BackingRefusedException.class, () -> open(top, true));
        assertEquals(top + ": backing file " + fifo + " is a FIFO (named pipe), not a regular file", e.getMessage());
        Path zero = image("g.qed", "/dev/zero", "root");
        e = assertThrows(BackingRefusedException.class, () -> open(zero, true));
        assertEquals(zero + ": backing file /dev/zero is a character device, not a regular file", e.getMessage());
        Files.createDirectory(dir.resolve("adir"));
        Path inDir = image("h.qed", "adir", "root");
        e = assertThrows(BackingRefusedException.class, () -> open(inDir, true));
        assertTrue(e.getMessage().endsWith("adir is a directory, not a regular file"), e.getMessage());
    }

    @Test
    void commitWritesOnlyIntoAFileTheOverlaysOwnerCouldWrite() throws Exception {
        Path target = write(dir.resolve("target.raw"), 0x22);
        Path overlay = image("ovl.qed", "target.raw", "root");
        try (QedImage img = QedImage.open(overlay, QedOpenOptions.readWrite())) {
            img.write(0, ByteBuffer.wrap(content(0x33)));
        }
        Files.setOwner(overlay, dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
        BackingRefusedException e = assertThrows(BackingRefusedException.class, () -> QedTools.commit(overlay, true, false, ProgressListener.NONE));
        assertTrue(e.getMessage().startsWith(overlay + ": commit into backing file " + target + " refused: nobody (uid 65534)"),
                e.getMessage());
        assertArrayEquals(content(0x22), Files.readAllBytes(target), "unchanged");
        QedTools.commit(overlay, true, true, ProgressListener.NONE);
        assertArrayEquals(content(0x33), Files.readAllBytes(target), "committed when trusted");
    }

    private Path write(Path p, int fill) throws IOException {
        return Files.write(p, content(fill));
    }

    private static byte[] content(int fill) {
        byte[] b = new byte[SIZE];
        Arrays.fill(b, (byte) fill);
        return b;
    }

    /**
     * An image naming {@code backing} (no-probe raw unless it ends in .qed), owned by {@code owner}; the name is
     * written as rebase -u writes it, which opens nothing (create would refuse a FIFO or a device).
     */
    private Path image(String name, String backing, String owner) throws IOException {
        Path p = dir.resolve(name);
        QedTools.create(p, QedCreateOptions.ofSize(SIZE));
        QedTools.rebase(p, backing, backing.endsWith(".qed") ? "qed" : "raw", true, false, ProgressListener.NONE);
        Files.setOwner(p, dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(owner));
        return p;
    }

    private static QedImage open(Path image, boolean trusted) throws IOException {
        return QedImage.open(image, QedOpenOptions.readOnlyOptions().withTrustBacking(trusted));
    }

    private static byte[] read(QedImage image) throws IOException {
        try (image) {
            ByteBuffer b = ByteBuffer.allocate(SIZE);
            image.read(0, b);
            return b.array();
        }
    }
}
