package io.qedfs.fuse;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The lines of /proc/self/mountinfo, parsed as bytes: a mount path is whatever bytes the kernel has, valid
 * UTF-8 or not (anyone may mount at such a path), with space, tab, newline and backslash written as octal
 * escapes ({@code \040}). Only the mount path is compared byte for byte; the other fields are ASCII in practice
 * and are decoded leniently.
 *
 * <pre>
 * 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 * (1)(2)(3)   (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)
 * </pre>
 */
final class MountInfo {
    static final Path FILE = Path.of("/proc/self/mountinfo");

    /** One mount: its device ("0:39"), path (raw bytes), file system type, source and super options. */
    record Line(String device, byte[] mountPoint, String fsType, String source, String superOptions) {
        /** Whether this is a FUSE mount ("fuse", or "fuse.SUBTYPE" whatever the subtype). */
        boolean isFuse() {
            return fsType.equals("fuse") || fsType.startsWith("fuse.");
        }

        /** The {@code user_id=} super option of a FUSE mount (who mounted it), or -1. */
        int ownerUid() {
            for (String o : superOptions.split(",")) {
                if (o.startsWith("user_id=")) {
                    try {
                        return Integer.parseInt(o.substring(8));
                    } catch (NumberFormatException e) {
                        return -1;
                    }
                }
            }
            return -1;
        }

        boolean isAt(byte[] path) {
            return Arrays.equals(mountPoint, path);
        }
    }

    private MountInfo() {
    }

    /** The mounts of this process's mount namespace, in the kernel's order (a later mount over an earlier one comes after it). */
    static List<Line> read() throws IOException {
        return parse(Files.readAllBytes(FILE));
    }

    /** Parses mountinfo content; a malformed line is skipped rather than failing every mount on the machine. */
    static List<Line> parse(byte[] content) {
        List<Line> lines = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= content.length; i++) {
            if (i == content.length || content[i] == '\n') {
                if (i > start) {
                    Line l = parseLine(Arrays.copyOfRange(content, start, i));
                    if (l != null) {
                        lines.add(l);
                    }
                }
                start = i + 1;
            }
        }
        return lines;
    }

    private static Line parseLine(byte[] line) {
        List<byte[]> f = split(line);
        int dash = -1;
        for (int i = 6; i < f.size(); i++) { // optional fields end with a lone "-"
            if (f.get(i).length == 1 && f.get(i)[0] == '-') {
                dash = i;
                break;
            }
        }
        if (dash < 0 || f.size() < dash + 3) {
            return null;
        }
        return new Line(text(f.get(2)), unescape(f.get(4)), text(unescape(f.get(dash + 1))),
                text(unescape(f.get(dash + 2))), f.size() > dash + 3 ? text(unescape(f.get(dash + 3))) : "");
    }

    private static List<byte[]> split(byte[] line) {
        List<byte[]> fields = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= line.length; i++) {
            if (i == line.length || line[i] == ' ') {
                fields.add(Arrays.copyOfRange(line, start, i));
                start = i + 1;
            }
        }
        return fields;
    }

    /** Undoes the kernel's octal escapes ({@code \ooo}, three digits); any other backslash stays as it is. */
    static byte[] unescape(byte[] field) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(field.length);
        for (int i = 0; i < field.length; i++) {
            if (field[i] == '\\' && i + 3 < field.length && isOctal(field[i + 1]) && isOctal(field[i + 2])
                    && isOctal(field[i + 3])) {
                out.write(((field[i + 1] - '0') << 6) | ((field[i + 2] - '0') << 3) | (field[i + 3] - '0'));
                i += 3;
            } else {
                out.write(field[i]);
            }
        }
        return out.toByteArray();
    }

    private static boolean isOctal(byte b) {
        return b >= '0' && b <= '7';
    }

    /** Lenient: a byte sequence that is not UTF-8 becomes U+FFFD instead of an exception. */
    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
