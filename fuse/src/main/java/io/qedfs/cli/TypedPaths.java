package io.qedfs.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Paths in a message as the user typed them. The serving process runs in / and is given absolute paths, so its
 * messages name {@code /home/u/images/disk.qed} where the user typed {@code disk.qed}; this turns each absolute
 * path given back into the typed one, and a path under a typed directory into one under it as typed.
 */
final class TypedPaths {
    private record Alias(String absolute, String typed) {
    }

    /** Longest absolute path first, so that a directory does not take a path from a longer given one. */
    private final List<Alias> aliases = new ArrayList<>();

    TypedPaths(List<Path> typed) {
        for (Path p : typed) {
            String absolute = p.toAbsolutePath().normalize().toString();
            if (!absolute.equals(p.toString()) && !absolute.equals("/")) {
                aliases.add(new Alias(absolute, p.normalize().toString().isEmpty() ? "." : p.normalize().toString()));
            }
        }
        aliases.sort(Comparator.comparingInt((Alias a) -> a.absolute().length()).reversed());
    }

    /** {@code text} with every given absolute path, where it stands as a whole name, as typed. */
    String apply(String text) {
        String s = text;
        for (Alias a : aliases) {
            StringBuilder out = new StringBuilder();
            int from = 0;
            for (int at = s.indexOf(a.absolute()); at >= 0; at = s.indexOf(a.absolute(), at + 1)) {
                int end = at + a.absolute().length();
                if (at >= from && (at == 0 || !isNameChar(s.charAt(at - 1))) && (end == s.length() || !isNameChar(s.charAt(end)))) {
                    out.append(s, from, at).append(a.typed());
                    from = end;
                }
            }
            s = out.append(s.substring(from)).toString();
        }
        return s;
    }

    /** A character that continues a file name (so that /a/b is not taken for the start of /a/bc). */
    private static boolean isNameChar(char c) {
        return Character.isLetterOrDigit(c) || c == '.' || c == '-' || c == '_' || c == '~' || c == '+';
    }
}
