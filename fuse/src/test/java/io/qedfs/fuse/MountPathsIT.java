package io.qedfs.fuse;

import static io.qedfs.fuse.Qedfs.ok;
import static io.qedfs.fuse.Qedfs.sh;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedTools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Mounts found by what they are, not by how they are written: a mountpoint reached through a symlink, a mount
 * given its own fsname and subtype, and a mount table holding a path that is not UTF-8. (Without a match the
 * mount command would wait 600 s for readiness: the timeout fails such a test long before.)
 */
@Timeout(120)
class MountPathsIT extends MountTestBase {

    @Test
    void aSymlinkedMountpointMountsAndUnmountsThroughTheLink() throws Exception {
        Path img = image("d.qed");
        Path link = Files.createSymbolicLink(dir.resolve("link"), mnt);
        long pid = Qedfs.mount("-q", img.toString(), link.toString());
        assertEquals(pid, MountTable.find(mnt).orElseThrow().pid(), "the same mount, by its real path");
        byte[] data = writeThrough(link.resolve("d.raw"));
        Qedfs.Result r = ok(Qedfs.qedfs("unmount", link.toString()), "unmount LINK");
        assertEquals("", r.all());
        assertFalse(MountTable.isMountPoint(mnt));
        assertStored(img, data);
    }

    @Test
    void ownFsnameAndSubtypeAreStillAQedfsMount() throws Exception {
        Path img = image("d.qed");
        long pid = Qedfs.mount("-q", "-o", "fsname=x", "-o", "subtype=y", img.toString(), mnt.toString());
        MountInfo.Line line = MountTable.topmostFuse(MountInfo.read(), mnt.toRealPath()).orElseThrow();
        assertEquals(List.of("fuse.y", "x"), List.of(line.fsType(), line.source()), "the options took effect");
        assertTrue(ProcessHandle.of(pid).isPresent(), "the serving process is known");
        byte[] data = writeThrough(mnt.resolve("d.raw"));
        Qedfs.unmount(mnt);
        assertFalse(MountTable.isMountPoint(mnt));
        assertStored(img, data);
    }

    /**
     * A tmpfs at a path that is not UTF-8 (in a mount namespace of its own, so no other process on the machine
     * sees it): mount, write and unmount still work beside it.
     */
    @Test
    void aMountAtAPathThatIsNotUtf8BreaksNothing() throws Exception {
        assumeTrue(Qedfs.isRoot() && Qedfs.onPath("unshare"), "needs root and unshare for a private tmpfs mount");
        Path img = image("d.qed");
        byte[] data = new byte[1 << 20];
        new Random(12).nextBytes(data);
        Files.write(dir.resolve("data"), data);
        String jar = "java -jar " + Qedfs.jar().toAbsolutePath();
        String script = "set -e; odd=" + dir + "/$'\\xff\\xfe odd'; mkdir \"$odd\"; mount -t tmpfs none \"$odd\";"
                + " grep -c odd /proc/self/mountinfo;"
                + jar + " mount -q " + img + " " + mnt + ";"
                + " dd if=" + dir.resolve("data") + " of=" + mnt.resolve("d.raw") + " bs=64k conv=notrunc status=none;"
                + jar + " unmount " + mnt + "; echo unmounted";
        Qedfs.Result r = Qedfs.run(List.of("unshare", "-m", "--propagation", "private", "bash", "-c", script));
        assertEquals(0, r.exit(), r.all());
        assertEquals(List.of("1", "unmounted"), r.out().strip().lines().toList(), "the odd mount was there: " + r.all());
        assertStored(img, data);
    }

    private Path image(String name) throws Exception {
        Path img = dir.resolve(name);
        QedTools.create(img, QedCreateOptions.ofSize(8 << 20));
        return img;
    }

    private byte[] writeThrough(Path raw) throws Exception {
        byte[] data = new byte[1 << 20];
        new Random(raw.hashCode()).nextBytes(data);
        Files.write(dir.resolve("data"), data);
        ok(sh("dd if=" + dir.resolve("data") + " of=" + raw + " bs=64k conv=notrunc,fsync status=none"), "dd");
        assertArrayEquals(data, Arrays.copyOf(Files.readAllBytes(raw), data.length), "read back through the mount");
        return data;
    }

    private void assertStored(Path img, byte[] data) throws Exception {
        Path out = dir.resolve("out.raw");
        ok(Qedfs.run(List.of("qemu-img", "convert", "-f", "qed", "-O", "raw", img.toString(), out.toString())), "convert");
        assertArrayEquals(data, Arrays.copyOf(Files.readAllBytes(out), data.length), "the image holds the data");
        assertEquals(0, Qedfs.run(List.of("qemu-img", "check", img.toString())).exit(), "qemu-img check");
    }
}
