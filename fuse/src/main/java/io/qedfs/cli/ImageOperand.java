package io.qedfs.cli;

import picocli.CommandLine.Parameters;

/** The IMAGE a command works on, its first parameter (a picocli mixin). */
final class ImageOperand {
    @Parameters(index = "0", paramLabel = "IMAGE", description = "The QED image.")
    String name;
}
