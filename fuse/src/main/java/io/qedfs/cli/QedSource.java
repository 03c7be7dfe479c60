package io.qedfs.cli;

import io.qedfs.qed.Extent;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A QED image opened read-only with its backing chain; reads are flattened, the map skips unallocated ranges. */
final class QedSource implements ConvertSource {
    private final QedImage image;

    /** {@code trustBacking}: its backing files are opened whoever owns them (--trust-backing). */
    QedSource(Path path, boolean trustBacking) throws IOException {
        this.image = QedImage.open(path, QedOpenOptions.readOnlyOptions().withTrustBacking(trustBacking));
    }

    @Override
    public long size() {
        return image.size();
    }

    @Override
    public List<long[]> dataRanges() throws IOException {
        List<long[]> out = new ArrayList<>();
        for (Extent e : image.map()) {
            if (!e.data()) {
                continue; // zero clusters and unallocated ranges read as zeroes at every depth
            }
            long[] last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && last[0] + last[1] == e.start()) {
                last[1] += e.length();
            } else {
                out.add(new long[] {e.start(), e.length()});
            }
        }
        return out;
    }

    @Override
    public void read(long pos, ByteBuffer dst) throws IOException {
        image.read(pos, dst);
    }

    @Override
    public void close() throws IOException {
        image.close();
    }
}
