package io.qedfs.cli;

import io.qedfs.qed.QedTools;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code qedfs commit}: merges an overlay into its backing file, as qemu-img commit does. */
@Command(name = "commit", sortOptions = false,
        description = {"Write the clusters an overlay holds (data and zeroes) into its backing file (QED or raw),"
                + " so that the backing file reads as the overlay does; then empty the overlay unless -d.",
            "The backing file is synced before the overlay is emptied; neither may be in use (mounted, or open in QEMU)."},
        footerHeading = "%nExamples:%n",
        footer = {"  qedfs mount --overlay-dir ovl disk.qed /mnt/q  # writes: ovl/disk.overlay.qed",
            "  qedfs unmount /mnt/q",
            "  qedfs commit ovl/disk.overlay.qed     # into disk.qed; the overlay is emptied",
            "  qedfs commit -d -p top.qed            # top.qed is left as it is; progress"})
final class CommitCommand extends BaseCommand {
    @Option(names = "-d", description = "Keep the overlay unchanged (by default it is emptied after the commit).")
    boolean keep;

    @Mixin
    ProgressOptions progress = new ProgressOptions();

    @Mixin
    BackingTrustOption backingTrust = new BackingTrustOption();

    @Parameters(index = "0", paramLabel = "OVERLAY", description = "The QED image whose backing file receives its clusters.")
    String overlay;

    @Override
    String subject() {
        return overlay;
    }

    @Override
    int run() throws Exception {
        Progress shown = progress.on(err(), 0);
        QedTools.commit(Inputs.existingFile(overlay), !keep, backingTrust.trusted, shown::update);
        shown.done();
        if (!progress.quiet) {
            out().println("Image committed.");
        }
        return 0;
    }
}
