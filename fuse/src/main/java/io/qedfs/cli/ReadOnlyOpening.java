package io.qedfs.cli;

import io.qedfs.qed.QedOpenOptions;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code -U} and {@code --trust-backing}, for the commands that only read an image (a picocli mixin). */
final class ReadOnlyOpening {
    @Option(names = {"-U", "--force-share"}, description = "Do not lock the image (it may be in use and change).")
    boolean forceShare;

    @Mixin
    BackingTrustOption backingTrust = new BackingTrustOption();

    /** Read-only, locked unless -U, backing files trusted as --trust-backing says. */
    QedOpenOptions options() {
        return QedOpenOptions.readOnlyOptions().withLock(!forceShare).withTrustBacking(backingTrust.trusted);
    }
}
