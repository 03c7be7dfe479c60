package io.qedfs.cli;

import io.qedfs.qed.QedCreateOptions;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * qemu-img's {@code -o key=value,key=value} for QED: cluster_size, table_size, and (for create) size,
 * backing_file and backing_fmt. Several -o options add up; later keys win. Sizes take suffixes.
 */
final class FormatOptions {
    static final Set<String> CREATE_KEYS = Set.of("cluster_size", "table_size", "size", "backing_file", "backing_fmt");
    static final Set<String> CONVERT_KEYS = Set.of("cluster_size", "table_size");

    Integer clusterSize;
    Integer tableSize;
    Long size;
    String backingFile;
    String backingFormat;

    /** Parses every {@code -o} value; IllegalArgumentException naming the bad part. */
    static FormatOptions parse(List<String> values, Set<String> allowed) {
        FormatOptions o = new FormatOptions();
        for (String value : values) {
            for (String item : value.split(",", -1)) {
                o.set(item, allowed);
            }
        }
        return o;
    }

    private void set(String item, Set<String> allowed) {
        int eq = item.indexOf('=');
        if (eq <= 0) {
            throw new IllegalArgumentException("invalid -o item '" + item + "' (expected key=value, keys: "
                    + String.join(", ", allowed.stream().sorted().toList()) + ")");
        }
        String key = item.substring(0, eq).trim();
        String value = item.substring(eq + 1);
        if (!allowed.contains(key)) {
            throw new IllegalArgumentException("unknown -o option '" + key + "' (keys: "
                    + String.join(", ", allowed.stream().sorted().toList()) + ")");
        }
        switch (key) {
            case "cluster_size" -> clusterSize = toInt(key, Sizes.parse(value));
            case "table_size" -> tableSize = toInt(key, Sizes.parse(value));
            case "size" -> size = Sizes.parse(value);
            case "backing_file" -> backingFile = value;
            case "backing_fmt" -> backingFormat = backingFormat(value);
            default -> throw new IllegalStateException(key);
        }
    }

    private static int toInt(String key, long v) {
        if (v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(key + " " + v + " is too large");
        }
        return (int) v; // fits: checked just above
    }

    /** "raw" or "qed"; anything else is a usage error. */
    static String backingFormat(String value) {
        String f = value.toLowerCase(Locale.ROOT);
        if (!f.equals("raw") && !f.equals("qed")) {
            throw new IllegalArgumentException("backing format '" + value + "' is not supported (raw or qed)");
        }
        return f;
    }

    /** The engine's create options for an image of {@code imageSize} bytes (-1: the backing file's). */
    QedCreateOptions toCreateOptions(long imageSize) {
        QedCreateOptions o = QedCreateOptions.ofSize(imageSize);
        if (clusterSize != null) {
            o = o.withClusterSize(clusterSize);
        }
        if (tableSize != null) {
            o = o.withTableSize(tableSize);
        }
        return o;
    }

    /** qemu-img's "Formatting" line. */
    static String formattingLine(String image, long size, QedCreateOptions o, boolean tableSizeGiven) {
        StringBuilder sb = new StringBuilder("Formatting '").append(image).append("', fmt=qed size=").append(size);
        if (o.backingFile() != null) {
            sb.append(" backing_file=").append(o.backingFile());
        }
        if (o.backingFormat() != null) {
            sb.append(" backing_fmt=").append(o.backingFormat());
        }
        sb.append(" cluster_size=").append(o.clusterSize());
        if (tableSizeGiven) {
            sb.append(" table_size=").append(o.tableSize());
        }
        return sb.toString();
    }
}
