package io.qedfs.cli;

import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import java.util.Map;
import java.util.Stack;
import picocli.CommandLine.Command;
import picocli.CommandLine.IParameterPreprocessor;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code qedfs resize}: grows an image; shrinking is refused (the engine says why). */
@Command(name = "resize", sortOptions = false, preprocessor = ResizeCommand.ShrinkSizeIsAnOperand.class,
        description = {"Grow an image to SIZE, or by +SIZE.",
            "Shrinking is refused, and so is an image that is mounted. Afterwards, grow the partition and the"
                + " file system inside (growpart, resize2fs)."},
        footerHeading = "%nExamples:%n",
        footer = {"  qedfs resize disk.qed 40G",
            "  qedfs resize disk.qed +10G"})
final class ResizeCommand extends ImageCommand {
    @Option(names = "-q", description = "Quiet: do not print 'Image resized.'.")
    boolean quiet;

    @Mixin
    BackingTrustOption backingTrust = new BackingTrustOption();

    @Parameters(index = "1", paramLabel = "[+]SIZE", converter = SizeChange.Converter.class,
            description = "New size, or +SIZE to grow by; rounded up to a multiple of 512.")
    SizeChange change;

    /**
     * {@code resize IMAGE -1G} as qemu-img takes it: the last word, when it is a size with a minus sign, is SIZE
     * (which refuses to shrink) rather than an option; every other word that starts with '-' stays an option, so an
     * unknown one is named as such. picocli reads an {@code --} before it, in front of the last word.
     */
    static final class ShrinkSizeIsAnOperand implements IParameterPreprocessor {
        @Override
        public boolean preprocess(Stack<String> args, CommandSpec spec, ArgSpec argSpec, Map<String, Object> info) {
            // the stack's bottom is the last word; picocli pops from the top
            if (!args.isEmpty() && args.get(0).matches("-[0-9].*") && !args.contains("--")) {
                args.add(1, "--");
            }
            return false;
        }
    }

    @Override
    int run() throws Exception {
        try (QedImage img = QedImage.open(Inputs.existingFile(image.name),
                QedOpenOptions.readWrite().withTrustBacking(backingTrust.trusted))) {
            long target;
            try {
                target = change.applyTo(img.size());
            } catch (IllegalArgumentException e) {
                throw new CommandFailedException(image.name + ": " + e.getMessage(), e);
            }
            img.resize(target);
        }
        if (!quiet) {
            out().println("Image resized.");
        }
        return 0;
    }
}
