package io.qedfs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's Use section runs as written: its shell blocks, in order, in an empty directory, with {@code qedfs}
 * this build's jar. Only the mountpoints /mnt/q and /mnt/guest become directories of the test's own, so that
 * runs cannot meet. Root: the examples make an ext4 guest and loop-mount it.
 */
@Timeout(300)
class ReadmeExamplesIT {
    private static final Path README = Path.of("..", "README.md").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    @AfterEach
    void cleanUp() throws Exception {
        Qedfs.cleanUp(dir);
    }

    /** The fenced sh blocks between "## Use" and the next section. */
    static List<String> useBlocks(String readme) {
        int start = readme.indexOf("\n## Use\n");
        assertTrue(start >= 0, "the README has no Use section");
        int end = readme.indexOf("\n## ", start + 1);
        Matcher m = Pattern.compile("```sh\n(.*?)```", Pattern.DOTALL).matcher(readme.substring(start, end < 0 ? readme.length() : end));
        List<String> blocks = new ArrayList<>();
        while (m.find()) {
            blocks.add(m.group(1));
        }
        return blocks;
    }

    @Test
    void theUseExamplesRunAsWritten() throws Exception {
        Qedfs.assumeFuse();
        assumeTrue(Qedfs.isRoot(), "the README's examples make an ext4 guest and loop-mount it: root");
        assumeTrue(Qedfs.onPath("mkfs.ext4") && Qedfs.onPath("debugfs") && Qedfs.onPath("fdisk"), "e2fsprogs and fdisk (make deps)");
        List<String> blocks = useBlocks(Files.readString(README));
        assertEquals(4, blocks.size(), "what they use, inspect, loop-mount, dd: " + blocks);
        Path work = Files.createDirectory(dir.resolve("work"));
        StringBuilder script = new StringBuilder("set -euo pipefail\nexport PATH=$PATH:/usr/sbin:/sbin\ncd " + work + "\n"
                + "qedfs() { java -jar " + Qedfs.jar().toAbsolutePath() + " \"$@\"; }\n");
        for (String block : blocks) {
            script.append(block.replace("/mnt/q", dir + "/mnt/q").replace("/mnt/guest", dir + "/mnt/guest"));
        }
        Qedfs.Result r = Qedfs.sh(script.toString());
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.out().contains("lost+found"), "debugfs lists the guest's root: " + r.out());
        assertTrue(r.out().contains("read back identical"), r.out());
        assertTrue(r.out().contains("No errors were found on the image."), "qemu-img check: " + r.out());

        // what the loop-mount example copied in is in the image
        Path mnt = dir.resolve("mnt/q");
        Qedfs.mount("-r", work.resolve("disk.qed").toString(), mnt.toString());
        Qedfs.Result cat = Qedfs.ok(Qedfs.sh("debugfs -R 'cat /notes.txt' " + mnt.resolve("disk.raw") + " 2>/dev/null"), "debugfs cat");
        assertEquals(Files.readString(work.resolve("notes.txt")), cat.out());
        Qedfs.unmount(mnt);
        Qedfs.ok(Qedfs.run(List.of("qemu-img", "check", work.resolve("disk.qed").toString())), "qemu-img check disk.qed");
    }
}
