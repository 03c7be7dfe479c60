package io.qedfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.QedTools;
import io.qedfs.qed.Qemu;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MapCommandTest {
    @TempDir
    Path dir;

    /** Like qemu-reference.md's ref.qed: 1M, data at 0..64K and at 512K..576K, the rest unallocated. */
    private Path reference() throws IOException {
        Path p = dir.resolve("ref.qed");
        QedTools.create(p, QedCreateOptions.ofSize(1 << 20));
        try (QedImage img = QedImage.open(p, QedOpenOptions.readWrite())) {
            img.write(0, Images.fill(65536, (byte) 0xab));
            img.write(512 << 10, Images.fill(65536, (byte) 0xcd));
        }
        return p;
    }

    @Test
    void jsonIsQemuImgsFormat() throws IOException {
        Path p = reference();
        assertEquals("[{ \"start\": 0, \"length\": 65536, \"depth\": 0, \"present\": true, \"zero\": false, \"data\": true, \"offset\": 327680},\n"
                + "{ \"start\": 65536, \"length\": 458752, \"depth\": 0, \"present\": false, \"zero\": true, \"data\": false},\n"
                + "{ \"start\": 524288, \"length\": 65536, \"depth\": 0, \"present\": true, \"zero\": false, \"data\": true, \"offset\": 655360},\n"
                + "{ \"start\": 589824, \"length\": 458752, \"depth\": 0, \"present\": false, \"zero\": true, \"data\": false}]\n",
                Cli.run("map", "--output=json", p.toString()).assertOk().out());
    }

    @Test
    void humanListsDataExtentsOnly() throws IOException {
        Path p = reference();
        assertEquals("Offset          Length          Mapped to       File\n"
                + "0               0x10000         0x50000         " + p + "\n"
                + "0x80000         0x10000         0xa0000         " + p + "\n",
                Cli.run("map", p.toString()).assertOk().out());
    }

    @Test
    void emptyImageAsQemuImgShowsIt() throws IOException {
        Path p = dir.resolve("empty.qed");
        QedTools.create(p, QedCreateOptions.ofSize(0));
        assertEquals("[{ \"start\": 0, \"length\": 0, \"depth\": 0, \"present\": false, \"zero\": false, \"data\": false}]\n",
                Cli.run("map", "--output=json", p.toString()).assertOk().out());
        assertEquals("Offset          Length          Mapped to       File\n", Cli.run("map", p.toString()).assertOk().out());
    }

    @Test
    void sameAsQemuImgOnFixtures() throws Exception {
        Qemu.assumeAvailable();
        for (String name : new String[] {"c4k-t2.qed", "c64k-t4.qed", "over-raw.qed", "chain-top.qed", "sparse-4t.qed",
            "odd-size.qed"}) {
            Path f = Images.FIXTURES.resolve(name);
            org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(f), "fixture " + f + " missing");
            assertEquals(Qemu.ok("qemu-img", "map", "--output=json", f.toString()),
                    Cli.run("map", "--output=json", f.toString()).assertOk().out(), name + " json");
            assertEquals(Qemu.ok("qemu-img", "map", f.toString()),
                    Cli.run("map", f.toString()).assertOk().out(), name + " human");
        }
    }
}
