package io.qedfs.fuse;

import static io.qedfs.fuse.Qedfs.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The {@code fusermount} that libfuse forks for {@code auto_unmount} lives as long as the mount; it must hold
 * none of the server's files open. A descriptor of an image file it inherited would keep that file's
 * description, and the OFD locks on it, alive after the server has closed the image.
 */
@Timeout(120)
class FusermountFilesIT extends MountTestBase {
    @Test
    void fusermountInheritsNoImageFile() throws Exception {
        Path base = dir.resolve("base.qed");
        Path top = dir.resolve("top.qed");
        ok(Qedfs.run(List.of("qemu-img", "create", "-q", "-f", "qed", base.toString(), "8M")), "qemu-img create");
        ok(Qedfs.run(List.of("qemu-io", "-c", "write -P 0x5a 0 1M", base.toString())), "qemu-io write");
        ok(Qedfs.run(List.of("qemu-img", "create", "-q", "-f", "qed", "-b", base.toString(), "-F", "qed",
                top.toString())), "qemu-img create -b");
        byte[] expected = content(top);
        long server = Qedfs.mount(top.toString(), mnt.toString());
        try {
            assertArrayEquals(expected, Files.readAllBytes(mnt.resolve("top.raw")), "the mount serves the image's bytes");
            List<Long> helpers = fusermountChildren(server);
            assertEquals(1, helpers.size(), "one fusermount child of the server (auto_unmount): " + helpers);
            List<Path> open = openFiles(helpers.get(0));
            Path here = dir.toRealPath();
            assertEquals(List.of(), open.stream().filter(f -> f.startsWith(here)).toList(),
                    "the image files fusermount holds open, of " + open);
            assertEquals(List.of(), open.stream().filter(f -> f.toString().endsWith(".jar")).toList(),
                    "the jars fusermount holds open, of " + open);
        } finally {
            Qedfs.unmount(mnt);
        }
    }

    /** The processes named fusermount whose parent is {@code pid}. */
    private static List<Long> fusermountChildren(long pid) throws IOException {
        List<Long> out = new ArrayList<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : procs) {
                String stat;
                try {
                    stat = Files.readString(p.resolve("stat"));
                } catch (NoSuchFileException e) {
                    continue; // ended meanwhile
                }
                // pid (comm) state ppid ...: comm may hold spaces, so split after its closing parenthesis
                String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                if (comm.equals("fusermount") && Long.parseLong(rest[1]) == pid && !rest[0].equals("Z")) {
                    out.add(Long.parseLong(p.getFileName().toString()));
                }
            }
        }
        return out;
    }

    /** What the process's descriptors name, as /proc/PID/fd's links say (sockets and pipes included). */
    private static List<Path> openFiles(long pid) throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : fds) {
                out.add(Files.readSymbolicLink(fd));
            }
        }
        assertTrue(!out.isEmpty(), "fusermount's descriptors are listed");
        return out;
    }
}
