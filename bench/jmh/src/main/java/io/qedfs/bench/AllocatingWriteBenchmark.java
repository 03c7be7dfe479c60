package io.qedfs.bench;

import io.qedfs.qed.QedCreateOptions;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.QedTools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A sequential writer filling a fresh image (every request allocates clusters and updates L2 tables), as dd
 * into a new mount does; with and without write-behind (the mount's default, and --sync-writes). Each
 * iteration starts from a fresh image; the time of an iteration includes its flush.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class AllocatingWriteBenchmark {
    /** Larger than an iteration can fill at several GB/s, and sparse. */
    static final long IMAGE_SIZE = 64L << 30;

    @Param({"4096", "1048576"})
    int requestBytes;

    @Param({"true", "false"})
    boolean writeBehind;

    ByteBuffer data;
    QedImage image;
    Path path;
    long next;

    @Setup(Level.Trial)
    public void fillData() {
        data = ImageFiles.randomData(requestBytes, 2);
    }

    @Setup(Level.Iteration)
    public void freshImage() throws IOException {
        path = ImageFiles.newImagePath("jmh-alloc-");
        QedTools.create(path, QedCreateOptions.ofSize(IMAGE_SIZE));
        image = QedImage.open(path, QedOpenOptions.readWrite().withWriteBehind(writeBehind));
        next = 0;
    }

    @TearDown(Level.Iteration)
    public void delete() throws IOException {
        image.flush();
        image.close();
        Files.deleteIfExists(path);
    }

    @Benchmark
    public void writeSequential() throws IOException {
        image.write(next, data.clear());
        next += requestBytes;
    }
}
