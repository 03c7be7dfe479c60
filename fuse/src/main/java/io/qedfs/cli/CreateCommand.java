package io.qedfs.cli;

import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.QedTools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code qedfs create}: a new, empty QED image, laid out as qemu-img create does. */
@Command(name = "create", sortOptions = false,
        description = {"Create a QED image: a new empty disk, or with -b an overlay on a backing file.",
            "A new disk of SIZE reads as zeroes and takes no space until written. An overlay reads from its backing"
                + " file until written, and writes go to IMAGE only. An existing file named IMAGE is replaced,"
                + " unless it is in use (mounted, or open in QEMU): then nothing changes."},
        footerHeading = "%nExamples:%n",
        footer = {"  qedfs create disk.qed 20G",
            "  qedfs create -o cluster_size=1M disk.qed 2T   # bigger clusters: fewer tables",
            "  qedfs create -b base.qed -F qed overlay.qed   # same size as base.qed"})
final class CreateCommand extends BaseCommand {
    @Option(names = "-f", paramLabel = "qed", description = "Image format; only qed (accepted for qemu-img compatibility).")
    String format;

    @Option(names = "-o", paramLabel = "OPTIONS",
            description = "cluster_size=N (4k..64M, power of 2, default 64k), table_size=N (1..16, default 4),"
                    + " backing_file=F, backing_fmt=raw|qed, size=N; comma-separated.")
    List<String> options = new ArrayList<>();

    @Option(names = "-b", paramLabel = "BACKING",
            description = "Backing file; a relative name is relative to the image's directory.")
    String backing;

    @Option(names = "-F", paramLabel = "raw|qed", completionCandidates = Completions.ImageFormats.class, description = "Format of the backing file (default: probed).")
    String backingFormat;

    @Option(names = "-q", description = "Quiet: do not print the 'Formatting' line.")
    boolean quiet;

    @Parameters(index = "0", paramLabel = "IMAGE", description = "The image to create.")
    String image;

    @Parameters(index = "1", arity = "0..1", paramLabel = "SIZE", converter = Sizes.Converter.class,
            description = "Virtual size (512, 64k, 10M, 1G, 2T...); optional with -b: the backing file's size.")
    Long size;

    @Override
    String subject() {
        return image;
    }

    @Override
    int run() throws Exception {
        QedCreateOptions o = createOptions();
        Path path = Path.of(image);
        if (Files.isDirectory(path)) {
            throw new CommandFailedException(image + ": is a directory", null);
        }
        try {
            QedTools.create(path, o);
        } catch (IllegalArgumentException e) {
            throw new CommandFailedException(image + ": " + e.getMessage(), e);
        } catch (java.io.IOException e) {
            // the engine names the new image by its absolute path (it resolves the backing file from there)
            throw new CommandFailedException(new TypedPaths(List.of(path)).apply(ErrorReporter.message(e, null)), e);
        }
        if (!quiet) {
            long shown = o.size();
            if (shown < 0) {
                // only the new header is read: the backing file may be in use by a writer, as create allows
                // trusted: the backing file is the one just named, and only the new header is read
                try (QedImage img = QedImage.open(path, QedOpenOptions.readOnlyOptions().withLock(false).withTrustBacking(true))) {
                    shown = img.size();
                }
            }
            out().println(FormatOptions.formattingLine(image, shown, o, hasTableSize()));
        }
        return 0;
    }

    private boolean hasTableSize() {
        return options.stream().anyMatch(s -> s.contains("table_size="));
    }

    /** Merges -o, -b, -F and SIZE, refusing contradictions as usage errors. */
    private QedCreateOptions createOptions() {
        FormatOptions fo;
        try {
            fo = FormatOptions.parse(options, FormatOptions.CREATE_KEYS);
            if (format != null && !format.equalsIgnoreCase("qed")) {
                throw new IllegalArgumentException("format '" + format + "' is not supported: qedfs creates qed images only");
            }
            if (backingFormat != null) {
                fo.backingFormat = FormatOptions.backingFormat(backingFormat);
            }
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        if (backing != null) {
            fo.backingFile = backing;
        }
        if (size != null) {
            fo.size = size;
        }
        if (fo.backingFile == null && fo.backingFormat != null) {
            throw usage("a backing format (-F) needs a backing file (-b)");
        }
        if (fo.backingFile != null && fo.backingFile.isEmpty()) {
            throw usage("the backing file name (-b) is empty");
        }
        if (fo.size == null && fo.backingFile == null) {
            throw usage("missing SIZE (it may only be left out with a backing file, -b)");
        }
        return fo.toCreateOptions(fo.size == null ? -1 : fo.size).withBacking(fo.backingFile, fo.backingFormat);
    }
}
