package io.qedfs.cli;

import io.qedfs.qed.Extent;
import io.qedfs.qed.host.Printable;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code qedfs map}: which guest ranges hold data, zeroes or nothing, in qemu-img map's formats. */
@Command(name = "map", sortOptions = false,
        description = {"Show which guest ranges hold data, zeroes or nothing (read-only).",
            "As qemu-img map does: for data, the file of the backing chain that holds it and the offset in that"
                + " file."},
        footerHeading = "%nExamples:%n",
        footer = {"  qedfs map disk.qed",
            "  qedfs map --output json disk.qed     # every extent, holes and zeroes too"})
final class MapCommand extends ImageCommand {
    @Option(names = "--output", paramLabel = "FMT", defaultValue = "human", completionCandidates = Completions.OutputFormats.class,
            description = "human (default: data extents only, with their file) or json (every extent).")
    OutputFormat output;

    @Mixin
    ReadOnlyOpening opening = new ReadOnlyOpening();

    @Override
    int run() throws Exception {
        QedOpenOptions options = opening.options();
        List<Extent> extents;
        try (QedImage img = QedImage.open(Inputs.existingFile(image.name), options)) {
            extents = img.map();
        }
        if (output == OutputFormat.JSON) {
            printJson(out(), extents);
        } else {
            List<ChainLevel> chain = ImageChain.walk(image.name, options);
            printHuman(out(), extents, chain);
        }
        return 0;
    }

    /** qemu-img map --output=json: one object a line inside one array. */
    static void printJson(PrintWriter out, List<Extent> extents) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < extents.size(); i++) {
            Extent e = extents.get(i);
            sb.append(String.format("{ \"start\": %d, \"length\": %d, \"depth\": %d, \"present\": %b, \"zero\": %b, \"data\": %b",
                    e.start(), e.length(), e.depth(), e.present(), e.zero(), e.data()));
            if (e.data()) {
                sb.append(", \"offset\": ").append(e.offset());
            }
            sb.append('}').append(i + 1 < extents.size() ? ",\n" : "");
        }
        out.println(sb.append(']'));
    }

    /** qemu-img map's table: only extents that hold data, with the file of the level they come from. */
    static void printHuman(PrintWriter out, List<Extent> extents, List<ChainLevel> chain) {
        out.printf("%-16s%-16s%-16s%s%n", "Offset", "Length", "Mapped to", "File");
        for (Extent e : extents) {
            if (!e.data() || e.zero()) {
                continue;
            }
            String file = e.depth() < chain.size() ? chain.get(e.depth()).filename() : "";
            out.printf("%-16s%-16s%-16s%s%n", hex(e.start()), hex(e.length()), hex(e.offset()), Printable.escape(file));
        }
    }

    /** C's {@code %#x}: no prefix for zero. */
    private static String hex(long v) {
        return v == 0 ? "0" : "0x" + Long.toHexString(v);
    }
}
