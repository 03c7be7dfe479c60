package io.qedfs.cli;

import io.qedfs.qed.host.Printable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One file of a backing chain, with the facts {@code qemu-img info} shows about it.
 *
 * @param filename            the name as given (top) or as combined from the level above (backing files)
 * @param format              "qed" or "raw"
 * @param clusterSize         0 for raw files
 * @param actualSize          bytes the file occupies on disk
 * @param dirty               NEED_CHECK is set
 * @param backingFilename     as stored in the header, or null
 * @param fullBackingFilename {@code backingFilename} relative to this file's directory, or null
 * @param backingFormat       "raw" or "qed" (recorded or probed), or null
 * @param owner               who owns the file: "alice (uid 1001)"
 * @param backingChain        the files of the backing chain as opened (real paths, nearest first), each with its
 *                            format and owner: "/srv/base.qed: qed, owner root (uid 0)"; empty without one
 */
record ChainLevel(String filename, String format, long virtualSize, int clusterSize, long actualSize, boolean dirty,
                  String backingFilename, String fullBackingFilename, String backingFormat, String owner,
                  List<String> backingChain) {

    /** The members of qemu-img info's JSON object, in qemu's order. */
    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (backingFormat != null) {
            m.put("backing-filename-format", backingFormat);
        }
        m.put("virtual-size", virtualSize);
        m.put("filename", filename);
        if (clusterSize > 0) {
            m.put("cluster-size", clusterSize);
        }
        m.put("format", format);
        m.put("actual-size", actualSize);
        if (backingFilename != null) {
            m.put("full-backing-filename", fullBackingFilename);
            m.put("backing-filename", backingFilename);
        }
        m.put("dirty-flag", dirty);
        return m;
    }

    /**
     * qemu-img info's human lines, then the owner and, with {@code withChain}, the resolved backing chain. Names
     * are escaped ({@link Printable}): a backing name is whatever the image holds.
     */
    String toHuman(boolean withChain) {
        StringBuilder sb = new StringBuilder();
        sb.append("image: ").append(Printable.escape(filename)).append('\n');
        sb.append("file format: ").append(format).append('\n');
        sb.append("virtual size: ").append(Sizes.human(virtualSize)).append(" (").append(virtualSize).append(" bytes)\n");
        sb.append("disk size: ").append(Sizes.human(actualSize)).append('\n');
        if (clusterSize > 0) {
            sb.append("cluster_size: ").append(clusterSize).append('\n');
        }
        if (backingFilename != null) {
            sb.append("backing file: ").append(Printable.escape(backingFilename));
            if (!backingFilename.equals(fullBackingFilename)) {
                sb.append(" (actual path: ").append(Printable.escape(fullBackingFilename)).append(')');
            }
            sb.append('\n');
        }
        if (backingFormat != null) {
            sb.append("backing file format: ").append(backingFormat).append('\n');
        }
        if (dirty) {
            sb.append("cleanly shut down: no\n");
        }
        sb.append("owner: ").append(owner).append('\n');
        if (withChain && !backingChain.isEmpty()) {
            sb.append("backing chain:\n");
            backingChain.forEach(link -> sb.append("    ").append(Printable.escape(link)).append('\n'));
        }
        return sb.toString();
    }
}
