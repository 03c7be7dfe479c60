package io.qedfs.cli;

import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.QedTools;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Test images made with the engine, and byte-level edits to corrupt them. */
final class Images {
    static final Path FIXTURES = Path.of("..", "test-images");

    private Images() {
    }

    /** A 16 MiB image with 4 KiB clusters holding 0xab at guest 0..8K and 0xcd at 1M. */
    static Path smallWithData(Path dir, String name) throws IOException {
        Path p = dir.resolve(name);
        QedTools.create(p, QedCreateOptions.ofSize(16 << 20).withClusterSize(4096));
        try (QedImage img = QedImage.open(p, QedOpenOptions.readWrite())) {
            img.write(0, fill(8192, (byte) 0xab));
            img.write(1 << 20, fill(4096, (byte) 0xcd));
        }
        return p;
    }

    static ByteBuffer fill(int n, byte b) {
        ByteBuffer buf = ByteBuffer.allocate(n);
        for (int i = 0; i < n; i++) {
            buf.put(i, b);
        }
        return buf;
    }

    /** Sets the {@code index}th entry of the first L2 table (the one L1[0] points at) to {@code value}. */
    static void setFirstL2Entry(Path image, int index, long value) throws IOException {
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long l1 = readLong(ch, 40);
            long l2 = readLong(ch, l1);
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, value);
            ch.write(b, l2 + 8L * index);
        }
    }

    static long readLong(FileChannel ch, long pos) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, pos + b.position()) < 0) {
                throw new IOException("short read at " + pos);
            }
        }
        return b.getLong(0);
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
