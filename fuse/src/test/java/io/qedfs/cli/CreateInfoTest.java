package io.qedfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.Qemu;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CreateInfoTest {
    @TempDir
    Path dir;

    private String path(String name) {
        return dir.resolve(name).toString();
    }

    /**
     * A backing file create cannot use is said naming the new image as typed ({@code top.qed}, in the directory
     * qedfs runs in), not by the absolute path the engine resolves the backing file from.
     */
    @Test
    void aMissingBackingFileNamesTheImageAsTyped() throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "create", "-b", "gone.qed", "top.qed")
                .directory(dir.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String err = new String(p.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(1, p.waitFor(), err);
        // where it looked is absolute: a backing file's name is relative to the image's directory, not to the caller's
        assertEquals("qedfs: top.qed: backing file gone.qed does not exist (looked for " + dir.toRealPath().resolve("gone.qed") + ")\n", err);
        assertFalse(Files.exists(dir.resolve("top.qed")), "nothing created");
    }

    @Test
    void createPrintsTheFormattingLineAndMakesTheImage() throws IOException {
        String img = path("a.qed");
        Cli.Result r = Cli.run("create", img, "1G").assertOk();
        assertEquals("Formatting '" + img + "', fmt=qed size=1073741824 cluster_size=65536\n", r.out());
        try (QedImage i = QedImage.open(Path.of(img), QedOpenOptions.readOnlyOptions())) {
            assertEquals(1L << 30, i.size());
            assertEquals(65536, i.clusterSize());
            assertEquals(4, i.tableSize());
        }
        assertEquals("", Cli.run("create", "-q", img, "1G").assertOk().out());
    }

    @Test
    void createOptions() throws IOException {
        String img = path("b.qed");
        Cli.Result r = Cli.run("create", "-o", "cluster_size=4k,table_size=2", img, "10M").assertOk();
        assertEquals("Formatting '" + img + "', fmt=qed size=10485760 cluster_size=4096 table_size=2\n", r.out());
        try (QedImage i = QedImage.open(Path.of(img), QedOpenOptions.readOnlyOptions())) {
            assertEquals(4096, i.clusterSize());
            assertEquals(2, i.tableSize());
        }
        Cli.run("create", "-f", "qed", "-o", "size=3M", "-o", "cluster_size=8192", img).assertOk();
        assertTrue(Cli.run("info", img).out().contains("virtual size: 3 MiB (3145728 bytes)"));
        Cli.run("create", "-o", "cluster_size=1000", img, "1M").assertOneLineError(img);
        Cli.run("create", "-o", "table_size=3", img, "1M").assertOneLineError(img);
        Cli.run("create", img, "7E").assertOneLineError(img);
        Cli.run("create", "-f", "qcow2", img, "1M").assertUsageError("qedfs create");
    }

    @Test
    void createWithBackingTakesItsSize() throws IOException {
        Path base = dir.resolve("base.raw");
        Files.write(base, new byte[3 << 20]);
        String top = path("top.qed");
        Cli.Result r = Cli.run("create", "-b", "base.raw", "-F", "raw", top).assertOk();
        assertEquals("Formatting '" + top + "', fmt=qed size=3145728 backing_file=base.raw backing_fmt=raw"
                + " cluster_size=65536\n", r.out());
        String json = Cli.run("info", "--output=json", top).assertOk().out();
        assertTrue(json.contains("\"backing-filename\": \"base.raw\""), json);
        assertTrue(json.contains("\"full-backing-filename\": \"" + base + "\""), json);
        assertTrue(json.contains("\"backing-filename-format\": \"raw\""), json);
        String chain = Cli.run("info", "--backing-chain", top).assertOk().out();
        assertTrue(chain.contains("\n\nimage: " + base + "\nfile format: raw\nvirtual size: 3 MiB (3145728 bytes)\n"), chain);
        Cli.run("create", "-b", "base.raw", "-F", "qed", path("wrong.qed")).assertOneLineError("wrong.qed");
    }

    @Test
    void infoJsonHasQemuImgKeys() {
        String img = path("c.qed");
        Cli.run("create", "-q", img, "1M").assertOk();
        String json = Cli.run("info", "--output", "json", img).assertOk().out();
        List<String> keys = keys(json);
        assertEquals(List.of("virtual-size", "filename", "cluster-size", "format", "actual-size", "dirty-flag"), keys);
        assertTrue(json.startsWith("{\n    \"virtual-size\": 1048576,\n    \"filename\": \"" + img + "\",\n"
                + "    \"cluster-size\": 65536,\n    \"format\": \"qed\",\n    \"actual-size\": "), json);
        assertTrue(json.endsWith("    \"dirty-flag\": false\n}\n"), json);
        assertFalse(json.contains("backing"), json);
    }

    @Test
    void infoHuman() {
        String img = path("d.qed");
        Cli.run("create", "-q", img, "1234").assertOk();
        String out = Cli.run("info", img).assertOk().out();
        Matcher m = Pattern.compile("image: (.*)\nfile format: qed\nvirtual size: 1.5 KiB \\(1536 bytes\\)\n"
                + "disk size: .* [KMG]?i?B\ncluster_size: 65536\nowner: \\S+ \\(uid \\d+\\)\n").matcher(out);
        assertTrue(m.matches(), out);
        assertEquals(img, m.group(1));
    }

    @Test
    void qemuImgAgreesWithCreate() throws Exception {
        Qemu.assumeAvailable();
        String img = path("q.qed");
        Cli.run("create", "-q", "-o", "cluster_size=16k,table_size=8", img, "5G").assertOk();
        String qemu = Qemu.ok("qemu-img", "info", "--output=json", img);
        assertTrue(qemu.contains("\"virtual-size\": 5368709120"), qemu);
        assertTrue(qemu.contains("\"cluster-size\": 16384"), qemu);
        assertEquals(0, Qemu.run("qemu-img", "check", img).exit());
        String ours = Cli.run("info", "--output=json", img).assertOk().out();
        assertEquals(qemu.strip(), ours.strip(), "a fresh image: the same JSON as qemu-img, member for member");
    }

    @Test
    void infoMatchesQemuOnFixtures() throws Exception {
        Qemu.assumeAvailable();
        for (String name : new String[] {"c64k-t4.qed", "over-raw.qed", "chain-top.qed", "sparse-4t.qed", "size0.qed"}) {
            Path f = Images.FIXTURES.resolve(name);
            org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(f), "fixture " + f + " missing");
            String qemu = Qemu.ok("qemu-img", "info", "--output=json", f.toString());
            String ours = Cli.run("info", "--output=json", f.toString()).assertOk().out();
            for (String key : new String[] {"virtual-size", "cluster-size", "actual-size", "filename", "backing-filename",
                "full-backing-filename"}) {
                assertEquals(value(qemu, key), value(ours, key), name + " " + key);
            }
        }
    }

    private static List<String> keys(String json) {
        return Pattern.compile("\n    \"([a-z-]+)\":").matcher(json).results().map(r -> r.group(1)).toList();
    }

    private static String value(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\": ([^,\n]*)").matcher(json);
        return m.find() ? m.group(1) : null;
    }
}
