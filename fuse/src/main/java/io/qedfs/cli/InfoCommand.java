package io.qedfs.cli;

import io.qedfs.qed.QedOpenOptions;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code qedfs info}: what {@code qemu-img info} shows, read-only. */
@Command(name = "info", sortOptions = false,
        description = {"Show an image's size, disk usage, cluster size and backing file (read-only).",
            "The fields and JSON keys of qemu-img info, and the dirty flag (set while an image is written, or"
                + " after a crash). -U reads an image that is mounted or in use."},
        footerHeading = "%nExamples:%n",
        footer = {"  qedfs info disk.qed",
            "  qedfs info --backing-chain --output json overlay.qed",
            "  qedfs info -U disk.qed                 # while it is mounted read-write"})
final class InfoCommand extends ImageCommand {
    @Option(names = "--output", paramLabel = "FMT", defaultValue = "human", completionCandidates = Completions.OutputFormats.class, description = "human (default) or json.")
    OutputFormat output;

    @Option(names = "--backing-chain", description = "Show every file of the backing chain, the image first.")
    boolean backingChain;

    @Mixin
    ReadOnlyOpening opening = new ReadOnlyOpening();

    @Override
    int run() throws Exception {
        QedOpenOptions options = opening.options();
        List<ChainLevel> levels = backingChain ? ImageChain.walk(image.name, options)
                : List.of(ImageChain.describe(image.name, "qed", options));
        if (output == OutputFormat.JSON) {
            if (backingChain) {
                List<Object> all = new ArrayList<>();
                levels.forEach(l -> all.add(l.toJson()));
                out().println(Json.render(all));
            } else {
                out().println(Json.render(levels.get(0).toJson()));
            }
        } else {
            List<String> blocks = new ArrayList<>();
            levels.forEach(l -> blocks.add(l.toHuman(!backingChain)));
            out().print(String.join("\n", blocks));
        }
        return 0;
    }
}
