package io.qedfs.cli;

import io.qedfs.fuse.ImageSources;
import io.qedfs.fuse.MountSession;
import io.qedfs.qed.QedOpenOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code qedfs mount}: every image a raw file under the mountpoint. */
@Command(name = "mount", sortOptions = false,
        description = {"Serve QED images as raw files under MOUNTPOINT (disk.qed appears as disk.raw).",
            "Without -f the command returns once the mount is ready, leaving a background process serving it;"
                + " stop it with 'qedfs unmount MOUNTPOINT' (or fusermount -u, umount, SIGTERM)."},
        footerHeading = "%nExamples:%n",
        footer = {"  qedfs mount disk.qed /mnt/q && ls -l /mnt/q          # /mnt/q/disk.raw",
            "  qedfs mount -r images/ /mnt/q                         # every QED image in images/, read-only",
            "  mount -o loop /mnt/q/disk.raw /mnt/guest               # the guest file system inside",
            "  qedfs unmount /mnt/q"})
final class MountCommand extends BaseCommand {
    @Option(names = "-f", description = "Serve in the foreground (logs to stderr unless --log).")
    boolean foreground;

    @Option(names = {"-r", "--read-only"}, description = "Read-only: the images are not changed at all.")
    boolean readOnly;

    @Option(names = "--check", paramLabel = "auto|always|never", defaultValue = "auto",
            description = "Check images on mount: auto (when marked dirty, the default), always, never."
                    + " Read-write mounts repair, read-only mounts only report.")
    QedOpenOptions.CheckPolicy check;

    @Option(names = "-o", paramLabel = "FUSE_OPTS", description = "Extra FUSE options (e.g. allow_other); repeatable.")
    List<String> fuseOptions = new ArrayList<>();

    @Option(names = "--log", paramLabel = "FILE", description = "Log to FILE (the background process logs nowhere otherwise).")
    Path log;

    @Option(names = {"-v", "--verbose"}, description = "Log more (debug level).")
    boolean verbose;

    @Option(names = "--fuse-debug", hidden = true, description = "libfuse's own debug output.")
    boolean fuseDebug;

    @Parameters(arity = "2..*", paramLabel = "SOURCE... MOUNTPOINT",
            description = "Images or directories of images, then the mountpoint (an existing directory).")
    List<Path> paths;

    @Override
    String subject() {
        return paths == null || paths.isEmpty() ? null : paths.get(paths.size() - 1).toString();
    }

    @Override
    int run() throws Exception {
        List<Path> sources = paths.subList(0, paths.size() - 1);
        Path mountPoint = paths.get(paths.size() - 1).toAbsolutePath().normalize();
        Map<String, Path> names = ImageSources.resolve(sources); // bad sources fail here, before any process starts
        if (!foreground) {
            return new Daemonizer(out(), err()).start(childArgs(sources, mountPoint), mountPoint,
                    names.keySet().iterator().next(), log);
        }
        Logging.configure(log, verbose);
        new MountSession(mountPoint, new MountSession.Options(readOnly, check, fuseOptions, fuseDebug)).serve(sources);
        return 0;
    }

    /** The same mount, in the foreground, for the background process. */
    private List<String> childArgs(List<Path> sources, Path mountPoint) {
        List<String> args = new ArrayList<>(List.of("mount", "-f", "--check", check.name().toLowerCase()));
        if (readOnly) {
            args.add("-r");
        }
        if (verbose) {
            args.add("-v");
        }
        for (String o : fuseOptions) {
            args.add("-o");
            args.add(o);
        }
        args.add("--log");
        args.add(log == null ? "/dev/null" : log.toAbsolutePath().toString());
        sources.forEach(s -> args.add(s.toAbsolutePath().toString()));
        args.add(mountPoint.toString());
        return args;
    }
}
