package io.qedfs.fuse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Reads /proc/self/mountinfo. qedfs mounts carry the serving process id in their source name
 * ({@code qedfs:PID}), so {@code unmount} knows which process to wait for without a pid file.
 */
public final class MountTable {
    public static final String FS_TYPE = "fuse.qedfs";
    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    /** A qedfs mount: where, the process serving it (0 if unknown), and its device ("0:39"). */
    public record Entry(Path mountPoint, long pid, String device) {
        /** The connection's directory under /sys/fs/fuse/connections (named after the device minor). */
        public String connection() {
            return device.substring(device.indexOf(':') + 1);
        }
    }

    private MountTable() {
    }

    public static String sourceName(long pid) {
        return "qedfs:" + pid;
    }

    /** The qedfs mount at {@code mountPoint}, if there is one. */
    public static Optional<Entry> find(Path mountPoint) throws IOException {
        String want = mountPoint.toAbsolutePath().normalize().toString();
        for (String line : Files.readAllLines(MOUNTINFO)) {
            // id parent maj:min root mountpoint options [optional fields] - fstype source superoptions
            String[] f = line.split(" ");
            int dash = line.indexOf(" - ");
            if (f.length < 5 || dash < 0) {
                continue;
            }
            String[] tail = line.substring(dash + 3).split(" ");
            if (unescape(f[4]).equals(want) && tail.length >= 2 && tail[0].equals(FS_TYPE)) {
                return Optional.of(new Entry(Path.of(want), pid(tail[1]), f[2]));
            }
        }
        return Optional.empty();
    }

    /** True when anything (qedfs or not) is mounted at {@code mountPoint}. */
    public static boolean isMountPoint(Path mountPoint) throws IOException {
        String want = mountPoint.toAbsolutePath().normalize().toString();
        for (String line : Files.readAllLines(MOUNTINFO)) {
            String[] f = line.split(" ");
            if (f.length > 4 && unescape(f[4]).equals(want)) {
                return true;
            }
        }
        return false;
    }

    private static long pid(String source) {
        if (source.startsWith("qedfs:")) {
            try {
                return Long.parseLong(source.substring(6));
            } catch (NumberFormatException e) {
                return 0;
            }
        }
        return 0;
    }

    /** mountinfo escapes space, tab, newline and backslash as octal. */
    static String unescape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                try {
                    out.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                    i += 3;
                    continue;
                } catch (NumberFormatException e) {
                    // not an escape: keep the backslash
                }
            }
            out.append(c);
        }
        return out.toString();
    }
}
