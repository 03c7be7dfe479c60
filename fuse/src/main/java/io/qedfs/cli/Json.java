package io.qedfs.cli;

import java.util.List;
import java.util.Map;

/**
 * A tiny JSON writer in qemu-img's layout: objects and arrays one member a line, indented by four spaces.
 * Values: String, Number, Boolean, null, {@code Map<String, ?>} (kept in its iteration order) and List.
 */
final class Json {
    private Json() {
    }

    /** The pretty-printed document, without a trailing newline. */
    static String render(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, 0);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object value, int depth) {
        if (value == null) {
            sb.append("null");
        } else if (value instanceof String s) {
            quote(sb, s);
        } else if (value instanceof Number || value instanceof Boolean) {
            sb.append(value);
        } else if (value instanceof Map<?, ?> map) {
            sb.append('{');
            String sep = "\n";
            for (Map.Entry<?, ?> e : map.entrySet()) {
                sb.append(sep);
                indent(sb, depth + 1);
                quote(sb, String.valueOf(e.getKey()));
                sb.append(": ");
                write(sb, e.getValue(), depth + 1);
                sep = ",\n";
            }
            close(sb, map.isEmpty(), depth, '}');
        } else if (value instanceof List<?> list) {
            sb.append('[');
            String sep = "\n";
            for (Object item : list) {
                sb.append(sep);
                indent(sb, depth + 1);
                write(sb, item, depth + 1);
                sep = ",\n";
            }
            close(sb, list.isEmpty(), depth, ']');
        } else {
            throw new IllegalArgumentException("no JSON form for " + value.getClass().getName());
        }
    }

    private static void close(StringBuilder sb, boolean empty, int depth, char bracket) {
        if (!empty) {
            sb.append('\n');
            indent(sb, depth);
        }
        sb.append(bracket);
    }

    private static void indent(StringBuilder sb, int depth) {
        sb.append("    ".repeat(depth));
    }

    /** {@code s} as a JSON string literal. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2);
        quote(sb, s);
        return sb.toString();
    }

    private static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029') {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
