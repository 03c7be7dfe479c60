package io.qedfs.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The parser against tables written by sfdisk (util-linux), with sfdisk's own --dump as the expected answer;
 * then damaged, overlapping, looping and random tables, which must give warnings, never exceptions.
 */
class PartitionTableTest {
    private static final Pattern DUMP_LINE = Pattern.compile("^\\S*?(\\d+) : start=\\s*(\\d+), size=\\s*(\\d+), type=([0-9A-Fa-f-]+)");

    @TempDir
    Path dir;
    Path disk;
    String sfdisk;

    @BeforeEach
    void needsSfdisk() {
        sfdisk = tool("sfdisk");
        assumeTrue(sfdisk != null, "sfdisk is not installed (make deps: fdisk)");
        disk = dir.resolve("disk.img");
    }

    @Test
    void mbrPrimariesAndTwoLogicalsAreNumberedLikeLinux() throws Exception {
        sfdisk(200, "label: dos\n"
                + "disk.img1 : start=2048, size=10M, type=83\n"
                + "disk.img2 : size=20M, type=83\n"
                + "disk.img3 : size=100M, type=5\n"
                + "disk.img5 : size=10M, type=83\n"
                + "disk.img6 : size=15M, type=82\n"
                + "disk.img4 : size=20M, type=c\n");
        PartitionTable table = read(disk);
        assertEquals(PartitionTable.Scheme.MBR, table.scheme());
        assertEquals(List.of(), table.warnings());
        assertEquals(expectedFromSfdisk(), table.partitions(), "every partition but the extended container, as sfdisk sees them");
        assertEquals(List.of(1, 2, 4, 5, 6), table.partitions().stream().map(Partition::number).toList());
    }

    @Test
    void gptEntriesAreNumberedByIndexSkippingEmptyOnes() throws Exception {
        sfdisk(100, "label: gpt\n,10M\n,5M\n,20M,S\n");
        sfdiskDelete(2);
        PartitionTable table = read(disk);
        assertEquals(PartitionTable.Scheme.GPT, table.scheme());
        assertEquals(List.of(), table.warnings());
        assertEquals(expectedFromSfdisk(), table.partitions());
        assertEquals(List.of(1, 3), table.partitions().stream().map(Partition::number).toList());
        assertEquals("0657fd6d-a4ab-43c4-84e5-0933c84b4f4f", table.partitions().get(1).type(), "swap type GUID, mixed-endian decoded");
    }

    @Test
    void gptWithADamagedPrimaryHeaderFallsBackToTheBackup() throws Exception {
        sfdisk(100, "label: gpt\n,10M\n,20M\n");
        List<Partition> expected = expectedFromSfdisk();
        patch(512 + 60, new byte[] {0x5a}); // inside the disk GUID: the header CRC no longer matches
        PartitionTable table = read(disk);
        assertEquals(expected, table.partitions());
        assertEquals(1, table.warnings().size(), table.warnings().toString());
        assertTrue(table.warnings().get(0).contains("primary GPT header at sector 1 is bad (header CRC32 mismatch); using the backup"),
                table.warnings().toString());
    }

    @Test
    void gptWithADamagedPrimaryEntryArrayFallsBackToTheBackup() throws Exception {
        sfdisk(100, "label: gpt\n,10M\n,20M\n");
        List<Partition> expected = expectedFromSfdisk();
        patch(1024 + 32, new byte[] {1, 2, 3}); // partition 1's first LBA, in the primary array only
        PartitionTable table = read(disk);
        assertEquals(expected, table.partitions());
        assertTrue(table.warnings().get(0).contains("entry array CRC32 mismatch"), table.warnings().toString());
    }

    @Test
    void gptWithBothHeadersDamagedServesNothingAndSaysWhy() throws Exception {
        sfdisk(100, "label: gpt\n,10M\n");
        patch(512, new byte[8]);
        patch(Files.size(disk) - 512, new byte[8]);
        PartitionTable table = read(disk);
        assertEquals(PartitionTable.Scheme.GPT, table.scheme());
        assertEquals(List.of(), table.partitions());
        assertEquals(List.of("no usable GPT: primary header at sector 1: no \"EFI PART\" signature; backup header at sector "
                + (Files.size(disk) / 512 - 1) + ": no \"EFI PART\" signature"), table.warnings());
    }

    @Test
    void overlappingOutOfRangeAndMisplacedMbrEntriesAreSkippedWithWarnings() throws Exception {
        Files.write(disk, new byte[1 << 20]); // 2048 sectors
        ByteBuffer mbr = bootSector();
        entry(mbr, 0, 0x83, 100, 1000);
        entry(mbr, 1, 0x83, 500, 100); // inside partition 1
        entry(mbr, 2, 0x07, 1500, 1000); // past the end of the disk
        entry(mbr, 3, 0x83, 0, 10); // over the MBR itself
        patch(0, mbr.array());
        PartitionTable table = read(disk);
        assertEquals(List.of(new Partition(1, 100 * 512, 1000 * 512, "0x83")), table.partitions());
        assertEquals(3, table.warnings().size(), table.warnings().toString());
        assertTrue(table.warnings().get(0).contains("partition 2 (type 0x83, sectors 500+100) skipped: it overlaps partition 1"));
        assertTrue(table.warnings().get(1).contains("partition 3 (type 0x07, sectors 1500+1000) skipped: it ends past the end of the disk (2048 sectors)"));
        assertTrue(table.warnings().get(2).contains("partition 4 (type 0x83, sectors 0+10) skipped: starts at sector 0"));
    }

    @Test
    void aLoopingChainOfLogicalPartitionsStops() throws Exception {
        Files.write(disk, new byte[1 << 20]);
        ByteBuffer mbr = bootSector();
        entry(mbr, 0, 0x05, 100, 1000);
        patch(0, mbr.array());
        ByteBuffer ebr = bootSector();
        entry(ebr, 0, 0x83, 10, 50);
        entry(ebr, 1, 0x05, 0, 1000); // the next EBR is this one again
        patch(100 * 512, ebr.array());
        PartitionTable table = read(disk);
        assertEquals(List.of(new Partition(5, 110 * 512, 50 * 512, "0x83")), table.partitions());
        assertEquals(List.of("the chain of logical partitions stops at a link to sector 100, visited before (a loop)"), table.warnings());
    }

    @Test
    void garbageZeroesAndTinyDisksHaveNoPartitionTable() throws Exception {
        byte[] noise = new byte[1 << 20];
        new Random(6).nextBytes(noise);
        Files.write(disk, noise);
        assertEquals(PartitionTable.Scheme.NONE, read(disk).scheme());
        noise[510] = 0x55;
        noise[511] = (byte) 0xAA;
        noise[446] = 0x13; // a boot flag no MBR has: a file system boot sector, say
        Files.write(disk, noise);
        assertEquals(PartitionTable.Scheme.NONE, read(disk).scheme());
        Files.write(disk, new byte[1 << 20]);
        assertEquals(List.of("sector 0 has no boot signature (0x55 0xAA)"), read(disk).warnings());
        Files.write(disk, new byte[700]);
        assertEquals(PartitionTable.Scheme.NONE, read(disk).scheme());
    }

    /** Random bytes over both tables: whatever survives lies on the disk and overlaps nothing; nothing throws. */
    @Test
    void randomDamageNeverThrowsAndNeverYieldsABadPartition() throws Exception {
        long seed = Long.getLong("qedfs.seed", System.nanoTime());
        Random random = new Random(seed);
        sfdisk(8, "label: gpt\n,2M\n,1M\n,,L\n");
        byte[] gpt = Files.readAllBytes(disk);
        sfdisk(8, "label: dos\n,2M\n,,E\n,1M\n,1M\n");
        byte[] dos = Files.readAllBytes(disk);
        for (int round = 0; round < 600; round++) {
            byte[] bytes = (round % 2 == 0 ? gpt : dos).clone();
            for (int i = random.nextInt(20); i >= 0; i--) {
                int at = random.nextBoolean() ? random.nextInt(34 * 512) : bytes.length - 1 - random.nextInt(34 * 512);
                bytes[at] = (byte) random.nextInt(256);
            }
            PartitionTable table;
            try {
                table = PartitionTable.read((pos, dst) -> dst.put(bytes, (int) pos, dst.remaining()), bytes.length);
            } catch (RuntimeException | IOException e) {
                throw new AssertionError("seed " + seed + ", round " + round + ": " + e, e);
            }
            for (Partition p : table.partitions()) {
                assertTrue(p.start() > 0 && p.length() > 0 && p.end() <= bytes.length, "seed " + seed + ": " + p);
                for (Partition q : table.partitions()) {
                    assertTrue(p == q || !p.overlaps(q), "seed " + seed + ": " + p + " overlaps " + q);
                }
            }
        }
    }

    /** The same table read through a QED image's read API (qemu-img converts the disk). */
    @Test
    void readsThroughAQedImage() throws Exception {
        assumeTrue(tool("qemu-img") != null, "qemu-img is not installed (make deps: qemu-utils)");
        sfdisk(64, "label: gpt\n,10M\n,,L\n");
        Path qed = dir.resolve("disk.qed");
        run("qemu-img", "convert", "-f", "raw", "-O", "qed", disk.toString(), qed.toString());
        try (QedImage image = QedImage.open(qed, QedOpenOptions.readOnlyOptions())) {
            PartitionTable table = PartitionTable.read(image::read, image.size());
            assertEquals(expectedFromSfdisk(), table.partitions());
        }
    }

    private void sfdisk(int megabytes, String script) throws Exception {
        Files.deleteIfExists(disk);
        run(List.of("truncate", "-s", megabytes + "M", disk.toString()), null);
        run(List.of(sfdisk, "-q", disk.toString()), script);
    }

    private void sfdiskDelete(int number) throws Exception {
        run(List.of(sfdisk, "-q", "--delete", disk.toString(), Integer.toString(number)), null);
    }

    /** sfdisk --dump's partitions (the extended container left out), in our form. */
    private List<Partition> expectedFromSfdisk() throws Exception {
        List<Partition> expected = new ArrayList<>();
        for (String line : run(List.of(sfdisk, "--dump", disk.toString()), null).split("\n")) {
            Matcher m = DUMP_LINE.matcher(line.strip());
            if (!m.find()) {
                continue;
            }
            String type = m.group(4).toLowerCase(Locale.ROOT);
            if (type.length() <= 2) {
                int code = Integer.parseInt(type, 16);
                if (code == 0x05 || code == 0x0f || code == 0x85) {
                    continue;
                }
                type = String.format("0x%02x", code);
            }
            expected.add(new Partition(Integer.parseInt(m.group(1)), Long.parseLong(m.group(2)) * 512,
                    Long.parseLong(m.group(3)) * 512, type));
        }
        expected.sort((a, b) -> Integer.compare(a.number(), b.number()));
        assertTrue(!expected.isEmpty(), "sfdisk --dump listed no partitions");
        return expected;
    }

    private static PartitionTable read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file)) {
            return PartitionTable.read((pos, dst) -> {
                while (dst.hasRemaining()) {
                    if (ch.read(dst, pos + dst.position()) < 0) {
                        throw new IOException(file + ": short read at " + pos);
                    }
                }
            }, ch.size());
        }
    }

    private void patch(long at, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(bytes), at);
        }
    }

    private static ByteBuffer bootSector() {
        ByteBuffer b = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
        b.put(510, (byte) 0x55).put(511, (byte) 0xAA);
        return b;
    }

    private static void entry(ByteBuffer sector, int slot, int type, int firstLba, int sectors) {
        int at = 446 + slot * 16;
        sector.put(at + 4, (byte) type).putInt(at + 8, firstLba).putInt(at + 12, sectors);
    }

    private static String run(String... cmd) throws Exception {
        return run(List.of(cmd), null);
    }

    private static String run(List<String> cmd, String stdin) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError(cmd + " failed: " + out);
        }
        return out;
    }

    /** The tool's path, looking in the sbin directories too (sfdisk lives there); null when absent. */
    private static String tool(String name) {
        for (String d : (System.getenv().getOrDefault("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, name))) {
                return Path.of(d, name).toString();
            }
        }
        return null;
    }
}
