package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qedfs.qed.host.FileIo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Corrupts images the ways QEMU's qed.py does (duplicate an L2 entry, point one at an invalid offset, point
 * an L1 entry past the end) plus leaked clusters, and asks both checkers: corruptions, leaks and exit code
 * must agree. Images stay small, below the size where QEMU's cluster arithmetic reports false leaks.
 */
class CheckAgreementTest {
    private static final int CLUSTER = 4096;

    @TempDir
    Path dir;

    @Test
    void qedfsAndQemuImgCheckAgreeOnSeededCorruptions() throws Exception {
        Qemu.assumeAvailable();
        long seed = Long.getLong("qedfs.seed", 20261125L);
        Random rnd = new Random(seed);
        int rounds = Integer.getInteger("qedfs.checkRounds", 40);
        for (int round = 0; round < rounds; round++) {
            Path img = dir.resolve("r" + round + ".qed");
            QedTools.create(img, QedCreateOptions.ofSize(8 << 20).withClusterSize(CLUSTER).withTableSize(2));
            try (QedImage q = QedImage.open(img, QedOpenOptions.readWrite())) {
                byte[] data = new byte[CLUSTER];
                for (int i = 0; i < 40; i++) {
                    rnd.nextBytes(data);
                    q.write(rnd.nextInt(2048) * (long) CLUSTER, ByteBuffer.wrap(data));
                }
            }
            String what = corrupt(img, rnd);
            CheckReport ours;
            try (QedImage q = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
                ours = q.check(RepairMode.NONE);
            }
            String json = Qemu.run("qemu-img", "check", "-f", "qed", "--output=json", img.toString()).out();
            String ctx = "seed " + seed + " round " + round + " (" + what + "): qemu " + json + " ours " + ours;
            assertEquals(field(json, "corruptions"), ours.corruptions(), ctx);
            assertEquals(field(json, "leaks"), ours.leaks(), ctx);
            assertEquals(Qemu.check(img).exit(), ours.exitCode(), ctx);
        }
    }

    /** Applies one to three qed.py-style corruptions; returns what was done. */
    private static String corrupt(Path img, Random rnd) throws Exception {
        List<String> done = new ArrayList<>();
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            QedHeader h = QedHeader.read(ch, img.toString(), ch.size());
            int entries = (int) (h.tableSize() * h.clusterSize() / 8);
            List<long[]> used = new ArrayList<>(); // {entry file offset, value}
            for (int i = 0; i < entries; i++) {
                long l2 = u64(ch, h.l1TableOffset() + 8L * i);
                if (l2 == 0) {
                    continue;
                }
                for (int j = 0; j < entries; j++) {
                    long at = l2 + 8L * j;
                    long v = u64(ch, at);
                    if (v > 1) {
                        used.add(new long[] {at, v});
                    }
                }
            }
            int n = 1 + rnd.nextInt(3);
            for (int k = 0; k < n; k++) {
                long[] victim = used.get(rnd.nextInt(used.size()));
                switch (rnd.nextInt(5)) {
                    case 0 -> {
                        long[] other = used.get(rnd.nextInt(used.size()));
                        put(ch, victim[0], other[1]);
                        done.add("duplicate");
                    }
                    case 1 -> {
                        put(ch, victim[0], ch.size() + CLUSTER * (1 + rnd.nextInt(100)));
                        done.add("past-eof");
                    }
                    case 2 -> {
                        put(ch, victim[0], victim[1] + 512);
                        done.add("unaligned");
                    }
                    case 3 -> {
                        put(ch, h.l1TableOffset() + 8, ch.size() + CLUSTER);
                        done.add("l1-past-eof");
                    }
                    default -> {
                        ch.write(ByteBuffer.allocate(CLUSTER * (1 + rnd.nextInt(3))), ch.size());
                        done.add("leak");
                    }
                }
            }
        }
        return String.join(",", done);
    }

    private static long u64(FileChannel ch, long at) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        FileIo.readFully(ch, at, b, "img");
        return b.getLong(0);
    }

    private static void put(FileChannel ch, long at, long v) throws Exception {
        ch.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, v), at);
    }

    private static long field(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\": (\\d+)").matcher(json);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }
}
