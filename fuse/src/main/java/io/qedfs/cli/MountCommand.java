package io.qedfs.cli;

import io.qedfs.fuse.ImageSources;
import io.qedfs.fuse.MountSession;
import io.qedfs.fuse.Overlays;
import io.qedfs.fuse.UmountHelperEntry;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.QedTools;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code qedfs mount}: every image a raw file under the mountpoint. */
@Command(name = "mount", sortOptions = false,
        description = {"Serve QED images as raw files under MOUNTPOINT (disk.qed appears as disk.raw).",
            "Without -f the command returns once the mount is ready, leaving a background process serving it;"
                + " stop it with 'qedfs unmount MOUNTPOINT' (or fusermount -u, umount, SIGTERM)."},
        footerHeading = "%nExamples:%n",
        footer = {"  qedfs mount disk.qed /mnt/q && ls -l /mnt/q   # /mnt/q/disk.raw",
            "  qedfs mount -r images/ /mnt/q   # every QED image in images/, read-only",
            "  mount -o loop /mnt/q/disk.raw /mnt/guest      # the guest file system inside",
            "  qedfs mount --partitions disk.qed /mnt/q      # also disk-p1.raw, disk-p2.raw",
            "  mount -o loop /mnt/q/disk-p2.raw /mnt/guest   # the file system in partition 2",
            "  qedfs unmount /mnt/q",
            "  qedfs mount --overlay evidence.qed /mnt/q     # evidence.qed never changes",
            "  qedfs mount --overlay-dir ovl disk.qed /mnt/q # kept: ovl/disk.overlay.qed",
            "  qedfs unmount /mnt/q && qedfs commit ovl/disk.overlay.qed   # into disk.qed"})
final class MountCommand extends BaseCommand {
    @Option(names = "-f", description = "Serve in the foreground (logs to stderr unless --log).")
    boolean foreground;

    @Option(names = {"-r", "--read-only"}, description = "Read-only: the images are not changed at all.")
    boolean readOnly;

    @Option(names = "--partitions",
            description = "Also serve each partition of an image's MBR or GPT partition table as NAME-pN.raw (numbered"
                    + " as Linux numbers them: MBR primaries 1-4, logicals from 5; GPT entry numbers), a window onto the"
                    + " image's bytes. The tables are read once, at mount: after repartitioning through disk.raw (which"
                    + " stays writable), remount. Bad entries are skipped with a warning in the log.")
    boolean partitions;

    @Option(names = "--overlay", description = "Send all writes to a new QED overlay per image (backing file: the"
            + " image, opened read-only and never changed). The overlays are temporary: deleted at unmount.")
    boolean overlay;

    @Option(names = "--overlay-dir", paramLabel = "DIR", description = "With --overlay (implied): keep the overlays as"
            + " DIR/<name>.overlay.qed (created if missing; an existing overlay is refused), to inspect with qemu-img"
            + " or merge into the image with 'qedfs commit'.")
    Path overlayDir;

    @Option(names = "--check", paramLabel = "auto|always|never", defaultValue = "auto", completionCandidates = Completions.CheckPolicies.class,
            description = "Check images on mount: auto (when marked dirty, the default), always, never."
                    + " Read-write mounts repair, read-only mounts only report.")
    QedOpenOptions.CheckPolicy check;

    @Option(names = "--check-before-ready",
            description = "Finish the checks before the mount is ready (mount returns after them), as scripts may want."
                    + " By default a dirty image is served at once and checked in the background: reads and writes into"
                    + " allocated clusters go on, writes that allocate, discards and truncate wait for the check.")
    boolean checkBeforeReady;

    @Option(names = "--sync-writes",
            description = "Acknowledge no write before it is in the image file. By default a write that allocates"
                    + " is acknowledged once queued (like the page cache: durable at fsync, and a full disk still fails"
                    + " the write itself); this trades sequential write speed for that.")
    boolean syncWrites;

    @Mixin
    BackingTrustOption backingTrust = new BackingTrustOption();

    @Option(names = "-o", paramLabel = "FUSE_OPTS", description = "Extra FUSE options (e.g. allow_other); repeatable."
            + " The files keep their image files' owners and modes, and the kernel enforces them (default_permissions)."
            + " -o ro is -r, as in mount(8).")
    List<String> fuseOptions = new ArrayList<>();

    @Option(names = "--log", paramLabel = "FILE", description = "Log to FILE (the background process logs nowhere otherwise).")
    Path log;

    @Option(names = {"-v", "--verbose"}, description = "Log more (debug level).")
    boolean verbose;

    @Option(names = {"-q", "--quiet"}, description = "Print nothing on success (no 'mounted at' line, no overlay note); errors still are.")
    boolean quiet;

    @Option(names = "--fuse-debug", hidden = true, description = "libfuse's own debug output.")
    boolean fuseDebug;

    @Option(names = "--no-mtab", hidden = true, description = "For root: no entry in /run/mount/utab (as mount -n;"
            + " mount.fuse.qedfs passes it on), so root's umount does not wait for the images.")
    boolean noMtab;

    @Option(names = "--fuse-threads", paramLabel = "N",
            description = "Threads that serve FUSE requests (default 4, or the system property qedfs.fuse.threads):"
                    + " more let more requests to different clusters run at once.")
    Integer fuseThreads;

    @Parameters(arity = "2..*", paramLabel = "SOURCE... MOUNTPOINT", hideParamSyntax = true,
            description = "Images or directories of images, then the mountpoint (an existing directory).")
    List<Path> paths;

    @Override
    String subject() {
        return paths == null || paths.isEmpty() ? null : paths.get(paths.size() - 1).toString();
    }

    /** An error about one of the sources (or the log) names that file: the mountpoint in front would only confuse. */
    @Override
    String subjectFor(Exception ex) {
        String text = ErrorReporter.message(ex, null);
        if (log != null && text.startsWith(log + ": ")) {
            return null;
        }
        for (Path source : paths.subList(0, paths.size() - 1)) {
            if (text.contains(source.toString())) {
                return null;
            }
        }
        return subject();
    }

    @Override
    int run() throws Exception {
        ServerReport report = ServerReport.ofThisProcess();
        if (foreground && report != null) {
            report.foreground(); // started to serve in the background: the launcher runs this again itself
            return 0;
        }
        if (log != null) {
            Logging.refuseUnwritable(log);
        }
        if (report != null) {
            // first: opening the log (a FIFO, say) or an image may block, and the waiting command may give up
            ParentWatch.start(report, paths.get(paths.size() - 1).toAbsolutePath().normalize());
        }
        // first: a class with a logger (MountSession's, below) fixes slf4j's settings when it loads. The serving
        // process logs to --log (-f: to stderr without it); a waiting command logs nothing
        if (foreground || (report != null && log != null)) {
            Logging.configure(log, verbose);
        } else {
            Logging.off();
        }
        if (foreground || report != null) {
            MountSession.prepareOnSecondCore();
        }
        // -o ro alone would make only the kernel refuse writes, the images still opened and locked for writing
        readOnly |= fuseOptions.stream().anyMatch(o -> List.of(o.split(",")).contains("ro"));
        List<Path> sources = paths.subList(0, paths.size() - 1);
        refuseSwappedArguments(sources, paths.get(paths.size() - 1));
        Path mountPoint = paths.get(paths.size() - 1).toAbsolutePath().normalize();
        int threads = fuseThreads != null ? fuseThreads : MountSession.threadsFromSystemProperties();
        if (threads < 1) {
            throw usage("--fuse-threads (or qedfs.fuse.threads) must be at least 1: " + threads);
        }
        Overlays.Mode overlays = overlays();
        Map<String, Path> names = ImageSources.resolve(sources); // bad sources fail here, before any process starts
        MountSession.Options options = new MountSession.Options(readOnly, check, fuseOptions, fuseDebug, threads,
                syncWrites, partitions, backingTrust.trusted, checkBeforeReady);
        if (foreground) {
            try {
                new MountSession(mountPoint, options, overlays, () -> recordForUmount(mountPoint)).serve(sources);
            } catch (java.io.IOException e) {
                throw new CommandFailedException(typedPaths().apply(ErrorReporter.message(e, null)), e);
            }
            return 0;
        }
        if (report == null) {
            if (overlayDir != null) {
                Overlays.refuseExisting(names.keySet(), overlayDir); // the serving process checks again
            }
            // the serving process's words name absolute paths: shown as typed
            java.io.StringWriter said = new java.io.StringWriter();
            java.io.StringWriter failed = new java.io.StringWriter();
            int exit = new Daemonizer(new PrintWriter(failed, true)).start(childArgs(sources, mountPoint, threads),
                    new PrintWriter(said, true));
            TypedPaths typed = typedPaths();
            out().print(typed.apply(said.toString()));
            err().print(typed.apply(failed.toString()));
            return exit;
        }
        return serveInBackground(report, sources, mountPoint, options, overlays, names);
    }

    /**
     * This process is the serving one, which a waiting {@code qedfs mount} started in a session of its own:
     * serves from {@code /}, logs only to --log, and reports to the waiting command once the mount is ready.
     * What it says names the paths as they were typed.
     */
    private int serveInBackground(ServerReport report, List<Path> sources, Path mountPoint, MountSession.Options options,
            Overlays.Mode overlays, Map<String, Path> names) throws Exception {
        List<Path> absoluteSources = sources.stream().map(p -> p.toAbsolutePath().normalize()).toList();
        Path absoluteLog = log == null ? null : log.toAbsolutePath();
        TypedPaths typed = typedPaths(); // before the move to /: relative paths are the caller's
        RootDirectory.enter(); // the overlay directory and the mountpoint are absolute already
        PrintWriter out = out();
        Runnable ready = () -> {
            if (!quiet) {
                out.println(typed.apply("qedfs: mounted at " + mountPoint + " (process " + ProcessHandle.current().pid()
                        + (absoluteLog == null ? "" : ", log " + absoluteLog) + ")"));
                if (overlays != null) {
                    out.println(typed.apply(overlays.keepDir() == null
                            ? "qedfs: writes go to temporary overlays, deleted at unmount; the images are not changed"
                            : "qedfs: writes go to overlays in " + overlays.keepDir() + " (kept at unmount: "
                                    + Overlays.overlayName(names.keySet().iterator().next()) + (names.size() > 1 ? ", ..." : "")
                                    + "); the images are not changed"));
                }
            }
            out.flush();
            recordForUmount(mountPoint); // before the command returns: a umount right after it waits too
            report.ready();
        };
        try {
            new MountSession(mountPoint, options, overlays, ready).serve(absoluteSources);
        } catch (java.io.IOException e) {
            throw new CommandFailedException(typed.apply(ErrorReporter.message(e, null)), e);
        }
        return 0;
    }

    /**
     * Root's mount gets an entry in utab naming umount.fuse.qedfs as its helper, so that root's plain
     * {@code umount MOUNTPOINT} waits for the images to be closed as {@code qedfs unmount} does
     * ({@link UmountHelperEntry}); without it umount(8) would take the type "fuse" from statfs and unmount at once.
     */
    private void recordForUmount(Path mountPoint) {
        if (!noMtab) {
            UmountHelperEntry.add(mountPoint);
        }
    }

    /**
     * A file where the mountpoint belongs is a usage error, and when it is a QED image behind a directory, the
     * two were most likely swapped: the hint shows them in order.
     */
    private void refuseSwappedArguments(List<Path> sources, Path last) throws java.io.IOException {
        if (!java.nio.file.Files.isRegularFile(last)) {
            return; // a directory, or missing: the mount says what is wrong with it
        }
        String hint = "";
        if (QedTools.isQed(last) && sources.size() == 1 && java.nio.file.Files.isDirectory(sources.get(0))) {
            hint = "; the image comes first, the mountpoint last: qedfs mount " + last + " " + sources.get(0);
        }
        throw usage("the mountpoint " + last + " is a file, not a directory" + hint);
    }

    /** The paths of this command line (sources, mountpoint, overlay directory, log) as typed. */
    private TypedPaths typedPaths() {
        List<Path> given = new ArrayList<>(paths);
        if (overlayDir != null) {
            given.add(overlayDir);
        }
        if (log != null) {
            given.add(log);
        }
        return new TypedPaths(given);
    }

    /** The overlay settings, or null without --overlay; refused with -r (an overlay exists to be written). */
    private Overlays.Mode overlays() {
        if (!overlay && overlayDir == null) {
            return null;
        }
        if (readOnly) {
            throw usage("--overlay and -r do not go together: an overlay mount is writable and never changes the images anyway");
        }
        return new Overlays.Mode(overlayDir == null ? null : overlayDir.toAbsolutePath().normalize());
    }

    /** The same mount, for the serving process (its paths absolute: it runs in /). */
    private List<String> childArgs(List<Path> sources, Path mountPoint, int threads) {
        List<String> args = new ArrayList<>(List.of("mount", "--check", check.name().toLowerCase(),
                "--fuse-threads", Integer.toString(threads)));
        if (readOnly) {
            args.add("-r");
        }
        if (verbose) {
            args.add("-v");
        }
        if (syncWrites) {
            args.add("--sync-writes");
        }
        if (checkBeforeReady) {
            args.add("--check-before-ready");
        }
        if (partitions) {
            args.add("--partitions");
        }
        if (backingTrust.trusted) {
            args.add("--trust-backing");
        }
        if (overlay || overlayDir != null) {
            args.add("--overlay");
        }
        if (overlayDir != null) {
            args.add("--overlay-dir");
            args.add(overlayDir.toAbsolutePath().normalize().toString());
        }
        for (String o : fuseOptions) {
            args.add("-o");
            args.add(o);
        }
        if (log != null) {
            args.add("--log");
            args.add(log.toAbsolutePath().toString());
        }
        if (quiet) {
            args.add("-q");
        }
        if (noMtab) {
            args.add("--no-mtab");
        }
        sources.forEach(s -> args.add(s.toAbsolutePath().toString()));
        args.add(mountPoint.toString());
        return args;
    }
}
