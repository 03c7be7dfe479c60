package io.qedfs.qed.host;

/**
 * Strings read from an image (backing file names, above all) shown to a person: they are data, and must not
 * drive the terminal. A name holding ESC sequences could otherwise recolour, move the cursor, retitle the
 * window or print fake lines. Control characters (C0, DEL, C1) become {@code \xNN}, the characters that reorder
 * text (bidirectional controls) {@code \u202e} and the like, and the replacement character left by bytes that
 * are not UTF-8 {@code \ufffd}; everything else is shown as it is. JSON output escapes on its own.
 */
public final class Printable {
    private Printable() {
    }

    /** {@code s} with every character that could act on a terminal escaped; null stays null. */
    public static String escape(String s) {
        if (s == null || s.chars().noneMatch(Printable::needsEscape)) {
            return s;
        }
        StringBuilder sb = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!needsEscape(c)) {
                sb.append(c);
            } else if (c <= 0xff) {
                sb.append(String.format("\\x%02x", (int) c));
            } else {
                sb.append(String.format("\\u%04x", (int) c));
            }
        }
        return sb.toString();
    }

    private static boolean needsEscape(int c) {
        return c < 0x20 || c >= 0x7f && c <= 0x9f // C0, DEL and C1 controls
                || c >= 0x202a && c <= 0x202e || c >= 0x2066 && c <= 0x2069 || c == 0x200e || c == 0x200f || c == 0x061c
                || c == 0xfffd;
    }
}
