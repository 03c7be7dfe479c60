package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Images written by qemu-io read byte-identically to what qemu-img convert -O raw produced when they were made. */
class FixtureReadTest {
    static Stream<String[]> images() throws Exception {
        return Fixtures.rows("expected.tsv").stream().filter(r -> !r[2].equals("-"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("images")
    void readsLikeQemu(String name, String size, String sha) throws Exception {
        byte[] before = Files.readAllBytes(Fixtures.DIR.resolve(name));
        try (QedImage image = QedImage.open(Fixtures.DIR.resolve(name), QedOpenOptions.readOnlyOptions())) {
            assertEquals(Long.parseLong(size), image.size());
            assertEquals(sha, Fixtures.sha256(image, 0, image.size()), name + " guest contents");
        }
        assertArrayEquals(before, Files.readAllBytes(Fixtures.DIR.resolve(name)), "a read-only open changes nothing");
    }

    @Test
    void multiTerabyteSparseImageReadsLikeQemu() throws Exception {
        Path img = Fixtures.DIR.resolve("sparse-4t.qed");
        try (QedImage image = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            assertEquals(4L << 40, image.size());
            for (String[] r : Fixtures.rows("expected-ranges.tsv")) {
                assertEquals(r[3], Fixtures.sha256(image, Long.parseLong(r[1]), Long.parseLong(r[2])),
                        "sparse-4t.qed at " + r[1]);
            }
        }
    }
}
