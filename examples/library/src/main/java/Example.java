import io.qedfs.qed.CheckReport;
import io.qedfs.qed.QedImage;
import io.qedfs.qed.QedOpenOptions;
import io.qedfs.qed.RepairMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The qedfs engine as a library: opens a QED image read-write, writes a greeting at offset 0 and 1 MiB of 0x5a
 * at 1 MiB, reads both back, flushes, and checks the image as {@code qemu-img check} would. Those 2 MiB are
 * overwritten: give it a scratch image.
 *
 * <pre>
 * qemu-img create -f qed scratch.qed 16M
 * java -cp QED_JAR_AND_ITS_DEPENDENCIES Example.java scratch.qed
 * qemu-io -f qed -c 'read -P 0x5a 1M 1M' scratch.qed
 * </pre>
 *
 * Exit status: 0 when everything read back and the check is clean, 1 otherwise, 2 for bad usage.
 */
public final class Example {
    static final byte[] GREETING = "Hello from the qedfs engine\n".getBytes(StandardCharsets.US_ASCII);
    static final long BLOCK_AT = 1 << 20;
    static final int BLOCK_SIZE = 1 << 20;
    static final byte BLOCK_BYTE = 0x5a;

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: java Example.java IMAGE.qed");
            System.exit(2);
        }
        Path path = Path.of(args[0]);
        try {
            System.exit(run(path) ? 0 : 1);
        } catch (IOException e) {
            System.err.println("Example: " + describe(e));
            System.exit(1);
        }
    }

    /** The engine's own messages name the file and the problem; the JDK's for a missing file name only the file. */
    private static String describe(IOException e) {
        if (e instanceof NoSuchFileException) {
            return e.getMessage() + ": no such file";
        }
        if (e instanceof AccessDeniedException) {
            return e.getMessage() + ": permission denied";
        }
        return e.getMessage();
    }

    private static boolean run(Path path) throws IOException {
        // read-write, with the open-time check QEMU runs on a dirty image; closing flushes and marks it clean
        try (QedImage image = QedImage.open(path, QedOpenOptions.readWrite())) {
            System.out.printf("%s: %d bytes of guest data, %d-byte clusters%n", path, image.size(), image.clusterSize());
            if (image.size() < BLOCK_AT + BLOCK_SIZE) {
                System.err.println("Example: " + path + ": needs at least 2 MiB of guest data");
                return false;
            }

            byte[] block = new byte[BLOCK_SIZE];
            Arrays.fill(block, BLOCK_BYTE);
            image.write(0, ByteBuffer.wrap(GREETING));
            image.write(BLOCK_AT, ByteBuffer.wrap(block));

            boolean same = readsBack(image, 0, GREETING) & readsBack(image, BLOCK_AT, block);
            System.out.println(same ? "read back what was written" : "read back something else");

            image.flush(); // what was written so far survives a crash from here on
            CheckReport report = image.check(RepairMode.NONE);
            System.out.printf("check: %d of %d clusters allocated, %d corruptions, %d leaks, %d check errors%n",
                    report.allocatedClusters(), report.totalClusters(), report.corruptions(), report.leaks(),
                    report.checkErrors());
            report.problems().forEach(p -> System.out.println("  " + p.message()));
            return same && report.isClean();
        }
    }

    private static boolean readsBack(QedImage image, long pos, byte[] expected) throws IOException {
        ByteBuffer got = ByteBuffer.allocate(expected.length);
        image.read(pos, got);
        return Arrays.equals(got.array(), expected);
    }
}
