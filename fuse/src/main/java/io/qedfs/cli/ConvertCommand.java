package io.qedfs.cli;

import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code qedfs convert}: copies a raw file or a QED image (its backing chain flattened) into a new raw or
 * QED file, writing only non-zero data so that the result is sparse. A failed convert removes DEST.
 */
@Command(name = "convert", sortOptions = false,
        description = "Copy SOURCE (raw or QED, recognised by its magic) into a new raw or QED file DEST.")
final class ConvertCommand extends BaseCommand {
    /** Output (and forced input) formats. */
    enum Format {
        RAW, QED
    }

    @Option(names = "-p", description = "Show progress on stderr.")
    boolean progress;

    @Option(names = "-q", description = "Quiet: no progress even with -p.")
    boolean quiet;

    @Option(names = "-f", paramLabel = "raw|qed", description = "Source format (default: QED if it has the QED magic, else raw).")
    Format sourceFormat;

    @Option(names = "-O", paramLabel = "raw|qed", defaultValue = "qed", description = "Output format (default: qed).")
    Format outputFormat;

    @Option(names = "-o", paramLabel = "OPTIONS", description = "For -O qed: cluster_size=N,table_size=N.")
    List<String> options = new ArrayList<>();

    @Parameters(index = "0", paramLabel = "SOURCE", description = "The file to read.")
    String source;

    @Parameters(index = "1", paramLabel = "DEST", description = "The file to create (an existing one is replaced).")
    String dest;

    @Override
    String subject() {
        return null; // sources and sinks name their own file in every error
    }

    @Override
    int run() throws Exception {
        QedCreateOptions qedOptions = outputOptions();
        Path src = Inputs.existingFile(source);
        boolean qedSource = sourceFormat == null ? QedImage.isQed(src) : sourceFormat == Format.QED;
        Path dst = Path.of(dest);
        Inputs.refuseOverwritingInputs(source, qedSource, dest);
        try (ConvertSource in = qedSource ? new QedSource(src) : new RawSource(src)) {
            boolean done = false;
            try {
                try (ConvertSink out = outputFormat == Format.RAW ? new RawSink(dst, in.size())
                        : new QedSink(dst, qedOptions.withSize(in.size()), Copier.CHUNK)) {
                    new Copier(in, out, new Progress(err(), in.size(), progress && !quiet)).run();
                }
                done = true;
            } finally {
                if (!done) {
                    Files.deleteIfExists(dst);
                }
            }
        }
        return 0;
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
