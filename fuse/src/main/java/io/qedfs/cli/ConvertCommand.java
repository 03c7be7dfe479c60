package io.qedfs.cli;

import io.qedfs.qed.ImageLockedException;
import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedTools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code qedfs convert}: copies a raw file or a QED image (its backing chain flattened) into a new raw file (the
 * default, as in qemu-img) or QED image, writing only non-zero data so that the result is sparse. A failed convert removes DEST, unless
 * DEST was refused for being in use: then it is someone else's, untouched.
 */
@Command(name = "convert", sortOptions = false,
        description = {"Copy a raw or QED image into a new raw file, or with -O qed a new QED image.",
            "As with qemu-img convert, DEST is raw unless -O names its format. SOURCE's format is recognised by its"
                + " magic; a QED source's backing chain is flattened. Only non-zero data is written, so DEST is"
                + " sparse. Shows progress on a terminal when the copy takes a while (-p always, -q never)."},
        footerHeading = "%nExamples:%n",
        footer = {"  qedfs convert -p -O qed disk.img disk.qed   # raw to QED",
            "  qedfs convert disk.qed disk.img   # QED (and its backing files) to raw",
            "  qedfs convert -O qed -o cluster_size=1M old.qed new.qed"})
final class ConvertCommand extends BaseCommand {
    /** Output (and forced input) formats. */
    enum Format {
        RAW, QED
    }

    @Mixin
    ProgressOptions progress = new ProgressOptions();

    @Option(names = "-f", paramLabel = "raw|qed", completionCandidates = Completions.ImageFormats.class, description = "Source format (default: QED if it has the QED magic, else raw).")
    Format sourceFormat;

    @Option(names = "-O", paramLabel = "raw|qed", defaultValue = "raw", completionCandidates = Completions.ImageFormats.class,
            description = "Output format (default: raw, as in qemu-img convert).")
    Format outputFormat;

    @Option(names = "-o", paramLabel = "OPTIONS", description = "For -O qed: cluster_size=N,table_size=N.")
    List<String> options = new ArrayList<>();

    @Mixin
    BackingTrustOption backingTrust = new BackingTrustOption();

    @Parameters(index = "0", paramLabel = "SOURCE", description = "The file to read.")
    String source;

    @Parameters(index = "1", paramLabel = "DEST", description = "The file to create (an existing one is replaced, unless it is in use: mounted or open in QEMU).")
    String dest;

    @Override
    String subject() {
        return null; // sources and sinks name their own file in every error
    }

    @Override
    int run() throws Exception {
        QedCreateOptions qedOptions = outputOptions();
        Path src = Inputs.existingFile(source);
        boolean qedSource = sourceFormat == null ? QedTools.isQed(src) : sourceFormat == Format.QED;
        Path dst = Path.of(dest);
        Inputs.refuseOverwritingInputs(source, qedSource, dest, backingTrust.trusted);
        warnOfRawDefault();
        try (ConvertSource in = qedSource ? new QedSource(src, backingTrust.trusted) : new RawSource(src)) {
            try (ConvertSink out = outputFormat == Format.RAW ? new RawSink(dst, in.size())
                    : new QedSink(dst, qedOptions.withSize(in.size()), Copier.CHUNK)) {
                new Copier(in, out, progress.on(err(), in.size())).run();
            } catch (ImageLockedException e) {
                throw e; // DEST is in use (a mount, QEMU): refused untouched, and not ours to remove
            } catch (IOException | RuntimeException | Error e) {
                if (Files.isRegularFile(dst)) {
                    try {
                        Files.deleteIfExists(dst); // a half-written output; never a device or FIFO that was refused
                    } catch (IOException cannot) {
                        e.addSuppressed(cannot); // a file on a mount that deletes nothing: the first error says why
                    }
                }
                throw e;
            }
        }
        return 0;
    }

    /**
     * A DEST named *.qed without -O becomes a raw file, as with qemu-img: said on stderr (not with -q), since
     * a raw file with a QED name fails only later, when something opens it as QED.
     */
    private void warnOfRawDefault() {
        boolean formatGiven = spec != null && spec.commandLine().getParseResult().hasMatchedOption("-O");
        if (!formatGiven && !progress.quiet && dest.toLowerCase(Locale.ROOT).endsWith(".qed")) {
            err().println("qedfs: note: " + dest + " is written raw, the default as in qemu-img convert; -O qed writes QED");
        }
    }

    private QedCreateOptions outputOptions() {
        if (options.isEmpty()) {
            return QedCreateOptions.ofSize(0);
        }
        if (outputFormat != Format.QED) {
            throw usage("-o options are only for -O qed");
        }
        try {
            return FormatOptions.parse(options, FormatOptions.CONVERT_KEYS).toCreateOptions(0);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
    }
}
