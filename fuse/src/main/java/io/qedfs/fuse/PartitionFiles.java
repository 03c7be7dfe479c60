package io.qedfs.fuse;

import io.qedfs.partition.Partition;
import io.qedfs.partition.PartitionTable;
import io.qedfs.qed.QedImage;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * For {@code mount --partitions}: each image's partitions as windows named {@code disk-p1.raw},
 * {@code disk-p2.raw}, ... beside {@code disk.raw}. The tables are read once, here, at mount time: a guest that
 * repartitions needs a remount to see the change. A lazy image (see {@link MountedImage}) is opened to read its
 * table and closed again; its partition files then open it like its whole file does. Nothing here fails the
 * mount; problems (an image that cannot be opened, say) are logged.
 */
final class PartitionFiles {
    private static final Logger LOG = LoggerFactory.getLogger(PartitionFiles.class);

    private PartitionFiles() {
    }

    /** The partition windows of every image, keyed like the images ("/disk-p1.raw"), never clashing with them. */
    static Map<String, ImageView> of(Map<String, MountedImage> images) {
        Map<String, ImageView> windows = new LinkedHashMap<>();
        for (MountedImage m : images.values()) {
            PartitionTable table;
            try {
                table = readTable(m);
            } catch (IOException | RuntimeException e) {
                LOG.warn("{}: partition table unreadable, no partition files: {}", m.path(), e.toString());
                continue;
            }
            if (table.scheme() == PartitionTable.Scheme.NONE) {
                LOG.info("{}: no partition table ({}), no partition files", m.path(), String.join("; ", table.warnings()));
                continue;
            }
            table.warnings().forEach(w -> LOG.warn("{}: {}", m.path(), w));
            int served = 0;
            for (Partition p : table.partitions()) {
                String name = name(m.name(), p.number());
                if (images.containsKey("/" + name)) {
                    LOG.warn("{}: {} not served: an image already appears as {}", m.path(), p, name);
                    continue;
                }
                windows.put("/" + name, ImageView.window(name, m, p.start(), p.length()));
                served++;
                LOG.info("{}: {} -> {}", m.path(), p, name);
            }
            LOG.info("{}: {} partition table, {} partition file(s)", m.path(), table.scheme(), served);
        }
        return windows;
    }

    /** Reads the image's partition table; a lazy image is opened for it and closed again at once. */
    private static PartitionTable readTable(MountedImage m) throws IOException {
        try {
            QedImage image = m.acquire();
            try {
                return PartitionTable.read(image::read, image.size());
            } finally {
                m.release();
            }
        } finally {
            m.closeIfIdle(0);
        }
    }

    /** "disk.raw", 2 → "disk-p2.raw". */
    static String name(String imageName, int number) {
        String base = imageName.endsWith(".raw") ? imageName.substring(0, imageName.length() - 4) : imageName;
        return base + "-p" + number + ".raw";
    }
}
