package io.qedfs.cli;

import io.qedfs.qed.Extent;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.host.DataRange;
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
    public List<DataRange> dataRanges() throws IOException {
        List<DataRange> out = new ArrayList<>();
        for (Extent e : image.map()) {
            if (!e.data()) {
                continue; // zero clusters and unallocated ranges read as zeroes at every depth
            }
            DataRange last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && last.end() == e.start()) {
                out.set(out.size() - 1, new DataRange(last.start(), last.length() + e.length()));
            } else {
                out.add(new DataRange(e.start(), e.length()));
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
