package io.qedfs.cli;

import picocli.CommandLine.Option;

/** {@code --trust-backing}, for every command that opens backing files (a picocli mixin). */
final class BackingTrustOption {
    @Option(names = "--trust-backing",
            description = "Open every backing file the images name, whoever owns it, and block devices too. Without it"
                    + " a backing file must be a regular file that the owner of each image above it could read itself"
                    + " (see the README's Security section).")
    boolean trusted;
}
