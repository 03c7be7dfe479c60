package io.qedfs.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * What the benchmarks share: where their images go (QEDFS_JMH_DIR, else tmpfs when there is one, so the host's
 * I/O adds little) and the data they write.
 */
final class ImageFiles {
    private ImageFiles() {
    }

    static Path newImagePath(String prefix) throws IOException {
        String configured = System.getenv("QEDFS_JMH_DIR");
        Path dir = configured != null ? Path.of(configured)
                : Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : Path.of(System.getProperty("java.io.tmpdir"));
        Path file = Files.createTempFile(dir, prefix, ".qed");
        Files.delete(file); // the engine creates it
        return file;
    }

    /** A direct buffer of {@code n} pseudo-random bytes (n a multiple of 4), the same for the same seed. */
    static ByteBuffer randomData(int n, long seed) {
        ByteBuffer data = ByteBuffer.allocateDirect(n);
        new SplittableRandom(seed).ints(n / 4).forEach(data::putInt);
        return data;
    }
}
