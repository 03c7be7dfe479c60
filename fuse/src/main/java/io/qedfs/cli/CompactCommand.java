package io.qedfs.cli;

import io.qedfs.qed.CompactResult;
import io.qedfs.qed.QedTools;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code qedfs compact}: rewrites an image without leaked clusters and stored zeroes (QedTools.compact). */
@Command(name = "compact", sortOptions = false,
        description = {"Rewrite a QED image without leaked clusters and without clusters that hold only zeroes,"
                + " keeping its cluster size, table size, image size, backing file and guest content.",
            "The copy is written to a temporary file next to the target, synced and renamed over it: a crash"
                + " leaves the old image or the new one, never a mix. Refused: a corrupt image, one in use (in place: by"
                + " anyone; with NEWFILE: by a writer, a qedfs mount or a QEMU process), and a NEWFILE anyone has open."
                + " Through a symbolic link, the file it names is compacted; its backing file name stays as it is."},
        footerHeading = "%nExamples:%n",
        footer = {"  qedfs compact disk.qed               # disk.qed: 1.2 GiB -> 300 MiB (...)",
            "  qedfs compact -p disk.qed            # with a progress bar",
            "  qedfs compact disk.qed small.qed     # to a new file; disk.qed stays as it is",
            "  qedfs check -r all disk.qed          # first, if compact finds corruption"})
final class CompactCommand extends ImageCommand {
    /**
     * What compact's NEWFILE option was called: refused with a pointer to NEWFILE, since -O is an output format
     * and --output a report format in qemu-img and in every other qedfs command.
     */
    @Option(names = {"-O", "--output"}, hidden = true, paramLabel = "NEWFILE")
    String formerOutputOption;

    @Mixin
    ProgressOptions progress = new ProgressOptions();

    @Mixin
    BackingTrustOption backingTrust = new BackingTrustOption();

    @Parameters(index = "1", arity = "0..1", paramLabel = "NEWFILE",
            description = "Write the compacted image to NEWFILE (replaced if it exists and is not in use) instead of in place.")
    String output;

    /** An error about NEWFILE names NEWFILE: the image in front of it would only confuse. */
    @Override
    String subjectFor(Exception ex) {
        return output != null && ErrorReporter.message(ex, null).startsWith(output + ": ") ? null : subject();
    }

    @Override
    int run() throws Exception {
        if (formerOutputOption != null) {
            throw usage("the new file is compact's second argument, not an option: qedfs compact " + image.name + " "
                    + formerOutputOption + " (-O is an output format and --output a report format, as in qemu-img)");
        }
        Path src = Inputs.existingFile(image.name);
        if (output != null) {
            Inputs.refuseOverwritingInputs(image.name, QedTools.isQed(src), output, backingTrust.trusted);
        }
        Progress bar = progress.on(err(), 0);
        CompactResult r = QedTools.compact(src, output == null ? null : Path.of(output), backingTrust.trusted, bar::update);
        bar.done();
        if (!progress.quiet) {
            out().println(summary(r));
        }
        return 0;
    }

    private String summary(CompactResult r) {
        String what = output == null ? image.name : image.name + " -> " + output;
        return String.format(Locale.ROOT, "%s: %s -> %s (%d data clusters kept; dropped %d zero-filled and %d leaked clusters)",
                what, Sizes.human(r.oldFileBytes()), Sizes.human(r.newFileBytes()), r.dataClusters(),
                r.zeroDataClusters(), r.leakedClusters());
    }
}
