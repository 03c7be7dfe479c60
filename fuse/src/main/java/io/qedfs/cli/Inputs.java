package io.qedfs.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Checks on files named on the command line, so that errors name them before any I/O does not. */
final class Inputs {
    private Inputs() {
    }

    /** The path of an existing regular (or device) file; a clear error otherwise. */
    static Path existingFile(String name) throws IOException {
        Path p = Path.of(name);
        if (!Files.exists(p)) {
            throw new NoSuchFileException(name);
        }
        if (Files.isDirectory(p)) {
            throw new IOException(name + ": is a directory, not an image file");
        }
        return p;
    }

    /** {@code e} with the file name in front when its message does not already name it. */
    static IOException naming(String file, IOException e) {
        String m = e.getMessage();
        if (m != null && m.contains(file)) {
            return e;
        }
        return new IOException(file + ": " + (m == null ? e.getClass().getSimpleName() : m), e);
    }
}
