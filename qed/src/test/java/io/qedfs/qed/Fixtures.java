package io.qedfs.qed;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** The images in test-images/ (made by QEMU) and their expected values. */
final class Fixtures {
    static final Path DIR = locate();

    private Fixtures() {
    }

    private static Path locate() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("test-images"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("test-images/ not found above " + Path.of("").toAbsolutePath());
        }
        return p.resolve("test-images");
    }

    /** Rows of a tab-separated file in test-images/, comments skipped. */
    static List<String[]> rows(String file) throws IOException {
        List<String[]> out = new ArrayList<>();
        for (String line : Files.readAllLines(DIR.resolve(file))) {
            if (!line.isBlank() && !line.startsWith("#")) {
                out.add(line.split("\t"));
            }
        }
        return out;
    }

    /** SHA-256 of guest bytes [pos, pos+len) read through the engine. */
    static String sha256(QedImage image, long pos, long len) throws IOException {
        MessageDigest md = sha();
        ByteBuffer buf = ByteBuffer.allocateDirect(4 << 20);
        for (long done = 0; done < len; ) {
            int n = (int) Math.min(buf.capacity(), len - done);
            buf.clear().limit(n);
            image.read(pos + done, buf);
            md.update(buf.flip());
            done += n;
        }
        return HexFormat.of().formatHex(md.digest());
    }

    static String sha256(byte[] b) {
        return HexFormat.of().formatHex(sha().digest(b));
    }

    /** Copies a fixture (and the backing files it names) into {@code dir}. */
    static Path copy(String name, Path dir) throws IOException {
        for (String f : List.of(name, "base-short.raw", "chain-base.qed", "chain-mid.qed")) {
            Files.copy(DIR.resolve(f), dir.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return dir.resolve(name);
    }

    private static MessageDigest sha() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
