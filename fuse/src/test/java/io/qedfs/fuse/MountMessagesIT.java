package io.qedfs.fuse;

import static io.qedfs.fuse.Qedfs.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedTools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What a user reads when a mount goes wrong, typed with relative paths as people do: the cause first, in their
 * words, naming the paths as they typed them; with real mounts.
 */
@Timeout(300)
class MountMessagesIT extends MountTestBase {
    private Qedfs.Result inDir(String command) throws Exception {
        return Qedfs.sh("cd " + dir + " && java -jar " + Qedfs.jar().toAbsolutePath() + " " + command);
    }

    @Test
    void aNonEmptyMountpointIsTheCause() throws Exception {
        ok(Qedfs.qedfs("create", "-q", dir.resolve("a.qed").toString(), "16M"), "create");
        Files.writeString(mnt.resolve("notes.txt"), "mine");
        Qedfs.Result r = inDir("mount a.qed mnt");
        assertEquals(1, r.exit(), r.all());
        assertEquals("qedfs: mnt: the mountpoint is not empty (the mount would hide its files); mount on an empty"
                + " directory, or add -o nonempty to hide them\n", r.err());
        assertFalse(MountTable.isMountPoint(mnt));
        // and the mount as typed once it is empty
        Files.delete(mnt.resolve("notes.txt"));
        Qedfs.Result mounted = inDir("mount --log m.log a.qed mnt");
        assertEquals(0, mounted.exit(), mounted.all());
        assertTrue(mounted.out().startsWith("qedfs: mounted at mnt (process ") && mounted.out().endsWith(", log m.log)\n"),
                mounted.out());
        Qedfs.Result busy = inDir("mount a.qed mnt");
        assertEquals("qedfs: mnt: something is already mounted there\n", busy.err());
        Qedfs.unmount(mnt);
    }

    @Test
    void aLogFileThatCannotBeOpenedIsRefusedInOneLine() throws Exception {
        ok(Qedfs.qedfs("create", "-q", dir.resolve("a.qed").toString(), "16M"), "create");
        byte[] before = Files.readAllBytes(dir.resolve("a.qed"));
        Files.createDirectory(dir.resolve("logs"));
        for (String[] c : new String[][] {
            {"no-such-dir/m.log", "its directory does not exist"},
            {"logs", "is a directory"}}) {
            for (String fg : new String[] {"", "-f "}) {
                Qedfs.Result r = inDir("mount " + fg + "--log " + c[0] + " a.qed mnt");
                assertEquals(1, r.exit(), r.all());
                assertEquals("qedfs: " + c[0] + ": cannot log there: " + c[1] + "\n", r.err());
                assertFalse(MountTable.isMountPoint(mnt));
            }
        }
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(dir.resolve("a.qed"))), "the image is untouched");
    }

    @Test
    void runningOutOfFileDescriptorsSaysUlimit() throws Exception {
        Path images = Files.createDirectory(dir.resolve("images"));
        for (int i = 0; i < 40; i++) {
            QedTools.create(images.resolve("i" + i + ".qed"), QedCreateOptions.ofSize(1 << 20));
        }
        // a limit that runs out while the images are opened, and one that runs out after (at libfuse's socketpair);
        // images named one by one are opened at mount, a directory's on first use
        for (int limit : new int[] {60, 90}) {
            Qedfs.Result r = Qedfs.sh("cd " + dir + " && ulimit -n " + limit + " && java -jar " + Qedfs.jar().toAbsolutePath()
                    + " mount images/*.qed mnt");
            assertEquals(1, r.exit(), r.all());
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().contains("too many open files: this process may have " + limit + " open (ulimit -n); raise the limit"),
                    limit + ": " + r.err());
            assertFalse(r.err().contains("container") || r.err().contains("/proc/self/fd") || r.err().contains(dir.toString()),
                    limit + ": " + r.err());
            assertFalse(MountTable.isMountPoint(mnt));
        }
    }

    @Test
    void convertOntoAMountedDiskSaysItCannotBeSized() throws Exception {
        ok(Qedfs.qedfs("create", "-q", dir.resolve("a.qed").toString(), "16M"), "create");
        ok(Qedfs.qedfs("create", "-q", dir.resolve("src.qed").toString(), "4M"), "create");
        Qedfs.mount(dir.resolve("a.qed").toString(), mnt.toString());
        try {
            Qedfs.Result raw = inDir("convert -O raw src.qed mnt/a.raw");
            assertEquals(1, raw.exit(), raw.all());
            assertTrue(raw.err().startsWith("qedfs: mnt/a.raw: cannot be cut to the new size (Invalid argument): it is a disk"
                    + " of fixed size"), raw.err());
            Qedfs.Result qed = inDir("convert src.qed mnt/a.raw");
            assertEquals(1, qed.exit(), qed.all());
            assertTrue(qed.err().startsWith("qedfs: mnt/a.raw: ") && !qed.err().contains("Function not implemented"), qed.err());
            assertTrue(Files.exists(mnt.resolve("a.raw")));
        } finally {
            Qedfs.unmount(mnt);
        }
    }

    @Test
    void aSecondInterruptLogsNoJavaException() throws Exception {
        Path img = dir.resolve("a.qed");
        ok(Qedfs.qedfs("create", "-q", img.toString(), "16M"), "create");
        Path log = dir.resolve("fg.log");
        Process server = new ProcessBuilder("java", "-jar", Qedfs.jar().toString(), "mount", "-f", "--log", log.toString(),
                img.toString(), mnt.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("fg.out").toFile()).start();
        try {
            for (int i = 0; i < 1200 && !MountTable.find(mnt).map(MountTable.Entry::isServed).orElse(false); i++) {
                assertTrue(server.isAlive(), "the server ended");
                Thread.sleep(50);
            }
            // an open file keeps the mount busy past the lazy unmount, so the connection is aborted
            Process holder = new ProcessBuilder("bash", "-c", "exec 3<" + mnt.resolve("a.raw") + " && echo open && exec sleep 120").start();
            try {
                assertEquals("open", new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream())).readLine());
                ok(Qedfs.run(List.of("kill", "-INT", Long.toString(server.pid()))), "first Ctrl-C");
                ok(Qedfs.run(List.of("kill", "-INT", Long.toString(server.pid()))), "second Ctrl-C");
                assertTrue(server.waitFor(60, TimeUnit.SECONDS), "the server exits");
            } finally {
                holder.destroy();
                holder.waitFor(10, TimeUnit.SECONDS);
            }
        } finally {
            server.destroy();
        }
        String text = Files.readString(log) + Files.readString(dir.resolve("fg.out"));
        assertTrue(text.contains("aborting the FUSE connection"), text);
        assertFalse(text.contains("Exception") || text.contains("java."), text);
    }
}
