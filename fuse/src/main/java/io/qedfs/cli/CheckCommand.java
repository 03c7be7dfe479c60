package io.qedfs.cli;

import io.qedfs.qed.CheckProblem;
import io.qedfs.qed.CheckReport;
import io.qedfs.qed.host.Printable;
import io.qedfs.qed.QedFormatException;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.QedTools;
import io.qedfs.qed.RepairMode;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code qedfs check}: the consistency check, with qemu-img check's output and exit codes. Without
 * {@code -r} the image is opened read-only and never written; with it, repaired and then checked again.
 */
@Command(name = "check", sortOptions = false,
        description = {"Check an image for corruption and leaked clusters; -r repairs.",
            "Output and exit codes are qemu-img check's. Without -r nothing is written. Mounting a dirty image"
                + " checks it too. Shows progress on a terminal when the check takes a while (-p always, -q never)."},
        footerHeading = "%nExamples:%n",
        footer = {"  qedfs check disk.qed",
            "  qedfs check -r all disk.qed         # repair, then check again",
            "  qedfs check -q disk.qed || echo \"exit $?: see Exit codes\""},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:no problems", "1:the check could not be completed (or the image not opened)",
                "2:corruptions found", "3:leaked clusters only",
                "63:not a QED image (qemu-img's \"no check support\")", "64:bad usage"})
final class CheckCommand extends ImageCommand {
    @Option(names = "-r", paramLabel = "leaks|all", converter = RepairConverter.class, completionCandidates = Completions.RepairModes.class,
            description = "Repair: clear invalid table entries and reclaim leaked clusters (both modes do both).")
    RepairMode repair;

    /** Its default is this initial value, for picocli and for {@link CheckShortcut} alike. */
    @Option(names = "--output", paramLabel = "FMT", completionCandidates = Completions.OutputFormats.class, description = "human (default) or json.")
    OutputFormat output = OutputFormat.HUMAN;

    @Mixin
    ProgressOptions progress = new ProgressOptions();

    @Mixin
    BackingTrustOption backingTrust = new BackingTrustOption();

    @Override
    int run() throws Exception {
        boolean fix = repair != null;
        QedOpenOptions options = (fix ? QedOpenOptions.readWrite() : QedOpenOptions.readOnlyOptions())
                .withCheck(QedOpenOptions.CheckPolicy.NEVER).withTrustBacking(backingTrust.trusted);
        CheckReport first;
        CheckReport result;
        Path path = Inputs.existingFile(image.name);
        try (QedImage img = QedImage.open(path, options)) {
            Progress shown = progress.on(err(), 0);
            first = img.check(fix ? repair : RepairMode.NONE, shown);
            shown.done();
            boolean repaired = first.corruptionsFixed() > 0 || first.leaksFixed() > 0;
            // like qemu-img: after a repair, the result shown is a fresh check of the repaired image
            result = repaired ? withFixed(img.check(RepairMode.NONE), first) : first;
        } catch (QedFormatException e) {
            if (!QedTools.isQed(path)) {
                throw new NoCheckSupportException(e);
            }
            throw e;
        }
        if (!progress.quiet) {
            if (output == OutputFormat.JSON) {
                out().println(Json.render(toJson(result)));
            } else {
                printHuman(first, result);
            }
        }
        return result.exitCode();
    }

    private static CheckReport withFixed(CheckReport after, CheckReport fixes) {
        return new CheckReport(after.totalClusters(), after.allocatedClusters(), after.fragmentedClusters(),
                after.corruptions(), fixes.corruptionsFixed(), after.leaks(), fixes.leaksFixed(), after.checkErrors(),
                after.imageEndOffset(), after.problems());
    }

    private Map<String, Object> toJson(CheckReport r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("filename", image.name);
        m.put("format", "qed");
        m.put("check-errors", r.checkErrors());
        m.put("corruptions", r.corruptions());
        m.put("leaks", r.leaks());
        m.put("corruptions-fixed", r.corruptionsFixed());
        m.put("leaks-fixed", r.leaksFixed());
        m.put("image-end-offset", r.imageEndOffset());
        m.put("total-clusters", r.totalClusters());
        m.put("allocated-clusters", r.allocatedClusters());
        m.put("fragmented-clusters", r.fragmentedClusters());
        return m;
    }

    /** qemu-img check's wording, with our per-problem lines (what the first pass found) in front. */
    private void printHuman(CheckReport first, CheckReport r) {
        StringBuilder sb = new StringBuilder();
        for (CheckProblem p : first.problems()) {
            sb.append(Printable.escape(p.message())).append('\n');
        }
        if (r != first) {
            sb.append("The following inconsistencies were found and repaired:\n\n")
                    .append("    ").append(r.leaksFixed()).append(" leaked clusters\n")
                    .append("    ").append(r.corruptionsFixed()).append(" corruptions\n\n")
                    .append("Double checking the fixed image now...\n");
        }
        if (r.corruptions() == 0 && r.leaks() == 0 && r.checkErrors() == 0) {
            sb.append("No errors were found on the image.\n");
        } else {
            if (r.corruptions() > 0) {
                sb.append('\n').append(r.corruptions()).append(" errors were found on the image.\n")
                        .append("Data may be corrupted, or further writes to the image may corrupt it.\n");
            }
            if (r.leaks() > 0) {
                sb.append('\n').append(r.leaks()).append(" leaked clusters were found on the image.\n")
                        .append("This means waste of disk space, but no harm to data.\n");
            }
            if (r.checkErrors() > 0) {
                sb.append('\n').append(r.checkErrors()).append(" internal errors have occurred during the check.\n");
            }
        }
        if (r.totalClusters() != 0 && r.allocatedClusters() != 0) {
            sb.append(String.format(Locale.ROOT, "%d/%d = %.2f%% allocated, %.2f%% fragmented, %.2f%% compressed clusters%n",
                    r.allocatedClusters(), r.totalClusters(), r.allocatedClusters() * 100.0 / r.totalClusters(),
                    r.fragmentedClusters() * 100.0 / r.allocatedClusters(), 0.0));
        }
        if (r.imageEndOffset() != 0) {
            sb.append("Image end offset: ").append(r.imageEndOffset()).append('\n');
        }
        out().print(sb);
    }

    /** {@code -r leaks|all}; "none" is not an option, as in qemu-img. */
    static final class RepairConverter implements ITypeConverter<RepairMode> {
        @Override
        public RepairMode convert(String value) {
            RepairMode mode = repairModeNamed(value);
            if (mode == null) {
                throw new TypeConversionException("'" + value + "' is not a repair mode (leaks or all)");
            }
            return mode;
        }
    }

    /** The repair mode {@code -r} names (any case), or null. */
    static RepairMode repairModeNamed(String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "leaks" -> RepairMode.LEAKS;
            case "all" -> RepairMode.ALL;
            default -> null;
        };
    }
}
