package io.qedfs.qed.host;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What the host file system knows about any file's sparseness: space used, and where its data lies. */
public final class SparseFiles {
    private SparseFiles() {
    }

    /** Bytes the file occupies on disk (st_blocks * 512; the length where that is unknown). */
    public static long allocatedBytes(Path file) throws IOException {
        try (FileChannel ch = FileOpener.open(file, false, file.toString());
             HostFile host = new HostFile(file, ch, false)) {
            return host.allocatedBytes();
        }
    }

    /**
     * Ascending ranges of the file that may hold data (SEEK_DATA/SEEK_HOLE); everything
     * else reads as zeroes. Without hole support the whole file is one range.
     */
    public static List<DataRange> dataRanges(Path file) throws IOException {
        try (FileChannel ch = FileOpener.open(file, false, file.toString());
             HostFile host = new HostFile(file, ch, false)) {
            long size = ch.size();
            List<DataRange> out = new ArrayList<>();
            long at = 0;
            while (at < size) {
                long data = host.nextData(at, size);
                if (data < 0) {
                    break;
                }
                long hole = host.nextHole(data, size);
                if (hole <= data) {
                    hole = size;
                }
                out.add(new DataRange(data, hole - data));
                at = hole;
            }
            return out;
        }
    }
}
