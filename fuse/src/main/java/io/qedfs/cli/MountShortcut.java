package io.qedfs.cli;

import io.qedfs.qed.QedOpenOptions;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code qedfs mount} and {@code qedfs unmount} without picocli, for the argument lists people and scripts type:
 * each option at most once (but -o), as a word of its own with its value in the next word or after '=', then
 * the images and the mountpoint. Building picocli's model of a command and parsing with it is most of what a
 * JVM does before it can open an image, and a mount's server parses its arguments on the way to a ready mount
 * (docs/fuse-notes.md, "Start-up"). Every other argument list (help, -f, clustered or unknown options,
 * repeats, values picocli would refuse, {@code @files}, {@code --}) is left to picocli, which gives its help
 * and its errors; MountShortcutTest holds both parsers to the same settings.
 */
final class MountShortcut {
    private MountShortcut() {
    }

    /** Runs {@code args} when they are a plain mount or unmount and returns the exit code; null when picocli must parse them. */
    static Integer run(String[] args, PrintWriter out, PrintWriter err) {
        BaseCommand command = parse(args);
        if (command == null) {
            return null;
        }
        try {
            return command.callWith(out, err);
        } catch (Exception e) {
            return ErrorReporter.report(err, e, command.subjectFor(e), List.of(args).contains("--debug"));
        }
    }

    /** The mount or unmount command {@code args} make, or null when they are not a plain one. */
    static BaseCommand parse(String[] args) {
        return args.length == 0 ? null : switch (args[0]) {
            case "mount" -> parseMount(args);
            case "unmount", "umount" -> parseUnmount(args);
            default -> null;
        };
    }

    /** The mount command {@code args} make, or null when they are not a plain mount. */
    static MountCommand parseMount(String[] args) {
        MountCommand m = new MountCommand();
        m.check = QedOpenOptions.CheckPolicy.AUTO; // as its option's default
        Words words = new Words(args);
        List<Path> paths = new ArrayList<>();
        boolean optionAfterPaths = false;
        while (words.hasNext()) {
            String w = words.next();
            if (!w.startsWith("-")) {
                // picocli reads SOURCE... MOUNTPOINT as one run of words: options go before or after it
                if (w.isEmpty() || w.startsWith("@") || optionAfterPaths) {
                    return null;
                }
                paths.add(Path.of(w));
                continue;
            }
            optionAfterPaths = !paths.isEmpty();
            String name = words.optionName(w);
            if (name == null || (!name.equals("-o") && !words.firstTime(name))) {
                return null;
            }
            switch (name) {
                case "-r", "--read-only" -> m.readOnly = words.flag(w);
                case "--partitions" -> m.partitions = words.flag(w);
                case "--overlay" -> m.overlay = words.flag(w);
                case "--sync-writes" -> m.syncWrites = words.flag(w);
                case "--check-before-ready" -> m.checkBeforeReady = words.flag(w);
                case "--trust-backing" -> m.backingTrust.trusted = words.flag(w);
                case "-v", "--verbose" -> m.verbose = words.flag(w);
                case "-q", "--quiet" -> m.quiet = words.flag(w);
                case "--fuse-debug" -> m.fuseDebug = words.flag(w);
                case "--no-mtab" -> m.noMtab = words.flag(w);
                case "--debug" -> words.flag(w);
                case "--overlay-dir" -> m.overlayDir = words.path(w);
                case "--log" -> m.log = words.path(w);
                case "-o" -> {
                    String v = words.value(w);
                    if (v != null) {
                        m.fuseOptions.add(v);
                    } else {
                        words.fail();
                    }
                }
                case "--check" -> m.check = checkPolicy(words.value(w));
                case "--fuse-threads" -> m.fuseThreads = words.check(positive(words.value(w)));
                default -> {
                    return null;
                }
            }
            if (words.failed()) {
                return null;
            }
        }
        boolean readOnly = m.readOnly || m.fuseOptions.stream().anyMatch(o -> List.of(o.split(",")).contains("ro"));
        if (paths.size() < 2 || m.check == null || ((m.overlay || m.overlayDir != null) && readOnly)
                || Files.isRegularFile(paths.get(paths.size() - 1))) {
            return null; // MountCommand refuses these with picocli's usage errors
        }
        m.paths = paths;
        return m;
    }

    /** The unmount command {@code args} make, or null when they are not a plain unmount. */
    static UnmountCommand parseUnmount(String[] args) {
        UnmountCommand u = new UnmountCommand();
        u.timeoutSeconds = 120; // as its option's default
        Words words = new Words(args);
        while (words.hasNext()) {
            String w = words.next();
            if (!w.startsWith("-")) {
                if (u.mountPoint != null || w.isEmpty() || w.startsWith("@")) {
                    return null;
                }
                u.mountPoint = Path.of(w);
                continue;
            }
            String name = words.optionName(w);
            if (name == null || !words.firstTime(name)) {
                return null;
            }
            switch (name) {
                case "--debug" -> words.flag(w);
                case "--timeout" -> {
                    String v = words.value(w);
                    if (v == null || !v.matches("[0-9]{1,9}")) {
                        return null;
                    }
                    u.timeoutSeconds = Long.parseLong(v);
                }
                default -> {
                    return null;
                }
            }
            if (words.failed()) {
                return null;
            }
        }
        return u.mountPoint == null ? null : u;
    }

    private static QedOpenOptions.CheckPolicy checkPolicy(String value) {
        for (QedOpenOptions.CheckPolicy p : QedOpenOptions.CheckPolicy.values()) {
            if (p.name().equalsIgnoreCase(value)) {
                return p;
            }
        }
        return null;
    }

    private static Integer positive(String value) {
        return value != null && value.matches("[1-9][0-9]{0,5}") ? Integer.valueOf(value) : null;
    }

    /** The argument words after the command's name, and what was seen of them. */
    private static final class Words {
        private final String[] args;
        private int next = 1;
        private final Set<String> seen = new HashSet<>();
        private boolean failed;

        Words(String[] args) {
            this.args = args;
        }

        boolean hasNext() {
            return next < args.length;
        }

        String next() {
            return args[next++];
        }

        /** The option's name ({@code --log} of {@code --log=x}); null for what only picocli reads (-, --, -rf, -ox). */
        String optionName(String word) {
            if (word.equals("-") || word.equals("--")) {
                return null;
            }
            if (word.startsWith("--")) {
                int eq = word.indexOf('=');
                return eq < 0 ? word : word.substring(0, eq);
            }
            return word.length() == 2 ? word : null;
        }

        boolean firstTime(String name) {
            String canonical = switch (name) {
                case "-r" -> "--read-only";
                case "-v" -> "--verbose";
                case "-q" -> "--quiet";
                default -> name;
            };
            return seen.add(canonical);
        }

        /** A flag: true, unless it came with a value (--quiet=x), which picocli must judge. */
        boolean flag(String word) {
            if (word.contains("=")) {
                failed = true;
            }
            return true;
        }

        /** The option's value, after '=' or in the next word; null (and failed) when missing or option-like. */
        String value(String word) {
            int eq = word.startsWith("--") ? word.indexOf('=') : -1;
            String v = eq >= 0 ? word.substring(eq + 1) : hasNext() ? next() : null;
            if (v == null || v.isEmpty() || v.startsWith("-") || v.startsWith("@")) {
                failed = true;
                return null;
            }
            return v;
        }

        Path path(String word) {
            String v = value(word);
            return v == null ? null : Path.of(v);
        }

        void fail() {
            failed = true;
        }

        /** {@code value}, or fails when it is null (a value picocli, or the command, would refuse). */
        <T> T check(T value) {
            if (value == null) {
                failed = true;
            }
            return value;
        }

        boolean failed() {
            return failed;
        }
    }
}
