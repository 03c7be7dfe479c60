package io.qedfs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.QedTools;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile images: seeded random mutations of valid images (flipped bytes, garbage and self-referencing table
 * entries, header fields). For each, info, check, map and convert end within seconds, exit with a code they
 * document, print at most one error line and never a stack trace, and leave the image byte-for-byte as it was;
 * every tenth also gets check -r all. -Dqedfs.mutations=N (default 1000), -Dqedfs.seed=N to reproduce.
 */
class MutationFuzzTest {
    private static final long COMMAND_SECONDS = 20;

    @TempDir
    Path dir;

    @Test
    void mutatedImagesNeverCrashHangOrChange() throws Exception {
        long seed = Long.getLong("qedfs.seed", System.nanoTime());
        int rounds = Integer.getInteger("qedfs.mutations", 1000);
        Random rnd = new Random(seed);
        List<byte[]> bases = bases();
        int[] exits = new int[4];
        int notQed = 0;
        for (int round = 0; round < rounds; round++) {
            byte[] img = bases.get(rnd.nextInt(bases.size())).clone();
            String what = mutate(img, rnd);
            Path file = dir.resolve("m.qed");
            Files.write(file, img);
            String ctx = "seed " + seed + " round " + round + " (" + what + ")";
            // qemu-img check's code for a file it cannot check: a mutated magic makes the file no QED image
            int noCheck = QedTools.isQed(file) ? -1 : 63;
            for (String[] cmd : List.of(new String[] {"info", "--output", "json"}, new String[] {"check"},
                    new String[] {"map", "--output", "json"}, new String[] {"convert", "-O", "raw"})) {
                List<String> args = new ArrayList<>(List.of(cmd));
                args.add(file.toString());
                if (cmd[0].equals("convert")) {
                    args.add(dir.resolve("out.raw").toString());
                }
                Cli.Result r = Cli.runWithin(COMMAND_SECONDS, args, ctx);
                int allowed = cmd[0].equals("check") ? 3 : 1;
                boolean checkRefused = cmd[0].equals("check") && r.exit() == noCheck;
                assertTrue(r.exit() >= 0 && r.exit() <= allowed || checkRefused, ctx + ": " + args + " exit " + r.exit() + ": " + r.err());
                assertTrue(r.err().lines().count() <= 1, ctx + ": " + args + " printed more than one error line: " + r.err());
                r.assertNoStackTrace();
                if (r.exit() == 1 || checkRefused) {
                    // names the file at fault: the image, or convert's output (e.g. too large for the host file system)
                    assertTrue(r.err().startsWith("qedfs: ") && (r.err().contains("m.qed") || r.err().contains("out.raw")),
                            ctx + ": " + r.err());
                }
                if (checkRefused) {
                    notQed++;
                } else if (cmd[0].equals("check")) {
                    exits[r.exit()]++;
                }
                Files.deleteIfExists(dir.resolve("out.raw"));
            }
            assertArrayEquals(img, Files.readAllBytes(file), ctx + ": an image was modified without -r");
            if (round % 10 == 0) {
                Cli.Result fix = Cli.runWithin(COMMAND_SECONDS, List.of("check", "-r", "all", file.toString()), ctx);
                assertTrue(fix.exit() >= 0 && fix.exit() <= 3 || fix.exit() == noCheck, ctx + ": check -r all exit " + fix.exit() + ": " + fix.err());
                fix.assertNoStackTrace();
                if (fix.exit() != 1 && fix.exit() != noCheck) {
                    Cli.Result again = Cli.runWithin(COMMAND_SECONDS, List.of("check", file.toString()), ctx);
                    assertEquals(0, again.exit(), ctx + ": after check -r all (exit " + fix.exit() + ": " + fix.out()
                            + ") check still finds " + again.out());
                }
            }
        }
        System.out.printf("mutation fuzz seed %d: %d mutated images; check verdicts: %d clean, %d could not check, "
                + "%d corrupt, %d leaks only, %d not QED%n", seed, rounds, exits[0], exits[1], exits[2], exits[3], notQed);
    }

    /** Small valid images of different shapes, with data, zero clusters and a backing file. */
    private List<byte[]> bases() throws Exception {
        List<byte[]> out = new ArrayList<>();
        byte[] base = new byte[1 << 20];
        new Random(1).nextBytes(base);
        Files.write(dir.resolve("base.raw"), base);
        QedCreateOptions[] shapes = {
            QedCreateOptions.ofSize(4 << 20).withClusterSize(4096).withTableSize(1),
            QedCreateOptions.ofSize(8 << 20).withClusterSize(4096).withTableSize(2).withBacking("base.raw", "raw"),
            QedCreateOptions.ofSize(32 << 20),
        };
        for (int i = 0; i < shapes.length; i++) {
            Path p = dir.resolve("base" + i + ".qed");
            QedTools.create(p, shapes[i]);
            try (QedImage q = QedImage.open(p, QedOpenOptions.readWrite())) {
                Random r = new Random(i);
                for (int w = 0; w < 12; w++) {
                    byte[] data = new byte[1 + r.nextInt(20000)];
                    r.nextBytes(data);
                    q.write(r.nextInt((int) q.size() - data.length), ByteBuffer.wrap(data));
                }
                q.writeZeroes(q.clusterSize() * 3L, q.clusterSize() * 2L);
            }
            out.add(Files.readAllBytes(p));
        }
        return out;
    }

    /** Applies 1 to 6 mutations; returns what was done. */
    private static String mutate(byte[] img, Random rnd) {
        ByteBuffer b = ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN);
        int cluster = b.getInt(4);
        long l1 = b.getLong(40);
        List<String> done = new ArrayList<>();
        int n = 1 + rnd.nextInt(6);
        for (int k = 0; k < n; k++) {
            int kind = rnd.nextInt(6);
            switch (kind) {
                case 0 -> { // flip a header byte
                    int at = rnd.nextInt(64);
                    img[at] ^= (byte) (1 << rnd.nextInt(8));
                    done.add("header byte " + at);
                }
                case 1 -> { // a header field set to an extreme
                    int[] fields = {4, 8, 12, 16, 40, 48, 56, 60};
                    int at = fields[rnd.nextInt(fields.length)];
                    long[] values = {0, 1, -1, 0xffffffffL, 1L << 40, 4096, 65536, 0x7fffffffffffffffL};
                    long v = values[rnd.nextInt(values.length)];
                    if (at == 4 || at == 8 || at == 12 || at == 56 || at == 60) {
                        b.putInt(at, (int) v);
                    } else {
                        b.putLong(at, v);
                    }
                    done.add("field " + at + "=" + v);
                }
                default -> { // a table entry (L1 or somewhere in the tables) set to garbage or a hostile offset
                    int entry = rnd.nextInt(Math.max(1, (img.length - 64) / 8));
                    int at = 64 + entry * 8;
                    if (kind == 2 && l1 > 0 && l1 < img.length - 64) {
                        at = (int) l1 + 8 * rnd.nextInt(8);
                    }
                    at -= at % 8;
                    long[] hostile = {rnd.nextLong(), 1, 0, l1, 0 /* header */, at - at % Math.max(cluster, 1) /* its own table */,
                        img.length, img.length - (long) Math.max(cluster, 1), (long) cluster * rnd.nextInt(64) + 512};
                    long v = hostile[rnd.nextInt(hostile.length)];
                    if (at + 8 <= img.length) {
                        b.putLong(at, v);
                    }
                    done.add("entry at " + at + "=" + v);
                }
            }
        }
        return String.join(", ", done);
    }
}
