package io.qedfs.cli;

import io.qedfs.qed.QedTools;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code qedfs rebase}: changes the backing file an image refers to, as qemu-img rebase does. */
@Command(name = "rebase", sortOptions = false,
        description = {"Make NEW_BACKING the backing file of IMAGE ('' for none).",
            "Safe mode (the default) keeps what the guest reads: where the old and the new backing file differ,"
                + " the old one's data is first copied into IMAGE. -u only rewrites the name, e.g. after the backing"
                + " file was moved. A relative name is relative to IMAGE's directory and is stored as given."},
        footerHeading = "%nExamples:%n",
        footer = {"  qedfs rebase -b base-v2.qed top.qed     # same content, now over base-v2.qed",
            "  qedfs rebase -b '' top.qed              # flatten: top.qed stands alone",
            "  qedfs rebase -u -b /new/base.qed top.qed  # base.qed was moved: rename only",
            "  qedfs rebase -F raw -b disk.img top.qed # a raw backing file (never probed)"})
final class RebaseCommand extends BaseCommand {
    @Option(names = "-b", required = true, paramLabel = "NEW_BACKING",
            description = "The new backing file, or '' to remove it.")
    String backing;

    @Option(names = "-F", paramLabel = "raw|qed", description = "Format of the new backing file (default: probed).")
    String backingFormat;

    @Option(names = "-u", description = "Unsafe: only rewrite the reference; no backing file is opened or compared.")
    boolean unsafe;

    @Mixin
    ProgressOptions progress = new ProgressOptions();

    @Mixin
    BackingTrustOption backingTrust = new BackingTrustOption();

    @Parameters(index = "0", paramLabel = "IMAGE", description = "The QED image to change.")
    String image;

    @Override
    String subject() {
        return image;
    }

    @Override
    int run() throws Exception {
        String format;
        try {
            format = backingFormat == null ? null : FormatOptions.backingFormat(backingFormat);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        if (backing.isEmpty() && format != null) {
            throw usage("a backing format (-F) needs a backing file (-b)");
        }
        Progress shown = Progress.of(err(), 0, progress.requested, progress.quiet || unsafe);
        QedTools.rebase(Inputs.existingFile(image), backing, format, unsafe, backingTrust.trusted, shown::update);
        shown.done();
        return 0;
    }
}
