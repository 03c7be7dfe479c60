package io.qedfs.cli;

import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.QedTools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/** A new QED image: only clusters with non-zero bytes are allocated; closing marks it clean. */
final class QedSink implements ConvertSink {
    private final String name;
    private final QedImage image;
    private final int granularity;

    QedSink(Path path, QedCreateOptions options, int maxGranularity) throws IOException {
        this.name = path.toString();
        try {
            QedTools.create(path, options);
        } catch (IllegalArgumentException e) {
            throw new IOException(name + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw Inputs.naming(name, e);
        }
        this.image = QedImage.open(path, QedOpenOptions.readWrite().withCheck(QedOpenOptions.CheckPolicy.NEVER));
        this.granularity = Math.min(image.clusterSize(), maxGranularity);
    }

    @Override
    public int granularity() {
        return granularity;
    }

    @Override
    public void write(long pos, ByteBuffer src) throws IOException {
        try {
            image.write(pos, src);
        } catch (IOException e) {
            throw Inputs.naming(name, e);
        }
    }

    @Override
    public void finish() throws IOException {
        try {
            image.flush();
        } catch (IOException e) {
            throw Inputs.naming(name, e);
        }
    }

    @Override
    public void close() throws IOException {
        image.close();
    }
}
