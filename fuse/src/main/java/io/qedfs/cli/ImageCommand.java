package io.qedfs.cli;

import picocli.CommandLine.Mixin;

/** A subcommand whose first parameter is the QED image it works on, which its error messages name. */
abstract class ImageCommand extends BaseCommand {
    @Mixin
    ImageOperand image = new ImageOperand();

    @Override
    String subject() {
        return image.name;
    }
}
