package io.qedfs.cli;

import io.qedfs.qed.QedOpenOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

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

    /**
     * {@code dest} must be neither {@code source} nor, for a QED source, any file of its backing chain (opened
     * whoever owns it when {@code trustBacking}).
     */
    static void refuseOverwritingInputs(String source, boolean qedSource, String dest, boolean trustBacking) throws IOException {
        Path dst = Path.of(dest);
        if (Files.isDirectory(dst)) {
            throw new CommandFailedException(dest + ": is a directory", null);
        }
        if (!Files.exists(dst)) {
            return;
        }
        List<String> inputs = new ArrayList<>(List.of(source));
        if (qedSource) {
            for (ChainLevel level : ImageChain.walk(source, QedOpenOptions.readOnlyOptions().withTrustBacking(trustBacking))) {
                inputs.add(level.filename());
            }
        }
        for (String in : inputs) {
            if (Files.exists(Path.of(in)) && Files.isSameFile(Path.of(in), dst)) {
                String what = in.equals(source) ? "the source" : "in the backing chain of " + source + " (" + in + ")";
                throw new CommandFailedException(String.format(Locale.ROOT,
                        "%s: the destination is %s; refusing to overwrite it", dest, what), null);
            }
        }
    }
}
