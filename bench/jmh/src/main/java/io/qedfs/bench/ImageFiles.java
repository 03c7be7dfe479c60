package io.qedfs.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where the benchmarks put their images: QEDFS_JMH_DIR, else tmpfs when there is one, so the host's I/O adds little. */
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
}
