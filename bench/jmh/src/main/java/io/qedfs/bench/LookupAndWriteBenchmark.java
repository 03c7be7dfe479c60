package io.qedfs.bench;

import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.QedTools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The requests a mount serves most, on an image whose tables are all cached (as they are once a guest has
 * touched its working set): a 4 KiB read of written data (L2 lookup + pread), of never-written space (lookup +
 * zero fill), a 4 KiB overwrite in place (lookup + pwrite) and a 1 MiB read. Run with {@code -prof gc}:
 * gc.alloc.rate.norm is what each request allocates.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class LookupAndWriteBenchmark {
    static final long IMAGE_SIZE = 1L << 30;
    /** Written at set-up; the rest of the image is never written. */
    static final long WRITTEN = 256L << 20;
    static final int SMALL = 4096;
    static final int LARGE = 1 << 20;

    @State(Scope.Benchmark)
    public static class Image {
        QedImage image;
        Path path;

        @Setup(Level.Trial)
        public void create() throws IOException {
            path = ImageFiles.newImagePath("jmh-lookup-");
            QedTools.create(path, QedCreateOptions.ofSize(IMAGE_SIZE));
            image = QedImage.open(path, QedOpenOptions.readWrite());
            ByteBuffer data = ImageFiles.randomData(LARGE, 1);
            for (long pos = 0; pos < WRITTEN; pos += LARGE) {
                image.write(pos, data.clear());
            }
            image.flush();
        }

        @TearDown(Level.Trial)
        public void delete() throws IOException {
            image.close();
            Files.deleteIfExists(path);
        }
    }

    /** Each thread's own buffers and offsets, so threads share only the image. */
    @State(Scope.Thread)
    public static class Request {
        final ByteBuffer small = ByteBuffer.allocateDirect(SMALL);
        final ByteBuffer large = ByteBuffer.allocateDirect(LARGE);
        final SplittableRandom random = new SplittableRandom();
        long sequential;

        long writtenOffset() {
            return random.nextLong(WRITTEN / SMALL) * SMALL;
        }

        long unwrittenOffset() {
            return WRITTEN + random.nextLong((IMAGE_SIZE - WRITTEN) / SMALL) * SMALL;
        }

        long nextLargeOffset() {
            long pos = sequential;
            sequential = (sequential + LARGE) % WRITTEN;
            return pos;
        }
    }

    @Benchmark
    public void read4kWritten(Image i, Request r) throws IOException {
        i.image.read(r.writtenOffset(), r.small.clear());
    }

    @Benchmark
    @Threads(4)
    public void read4kWritten4Threads(Image i, Request r) throws IOException {
        i.image.read(r.writtenOffset(), r.small.clear());
    }

    @Benchmark
    public void read4kNeverWritten(Image i, Request r) throws IOException {
        i.image.read(r.unwrittenOffset(), r.small.clear());
    }

    @Benchmark
    public void overwrite4kInPlace(Image i, Request r) throws IOException {
        i.image.write(r.writtenOffset(), r.small.clear());
    }

    @Benchmark
    public void read1mSequential(Image i, Request r) throws IOException {
        i.image.read(r.nextLargeOffset(), r.large.clear());
    }
}
