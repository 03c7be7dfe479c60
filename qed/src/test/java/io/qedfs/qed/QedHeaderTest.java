package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class QedHeaderTest {
    private static final QedHeader FRESH_1G = new QedHeader(65536, 4, 1, 0, 0, 0, 65536, 1L << 30, 0, 0);

    @Test
    void encodesTheBytesQemuWritesForAFresh1GiBImage() {
        String expected = "514544000000010004000000010000000000000000000000000000000000000000000000000000000000010000000000"
                + "00000040000000000000000000000000";
        ByteBuffer b = FRESH_1G.encode();
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        assertEquals(expected, HexFormat.of().formatHex(bytes));
    }

    @Test
    void decodeReversesEncodeAndKeepsAllOnesFields() {
        QedHeader odd = new QedHeader(0xffffffffL, 0xffffffffL, 0xffffffffL, -1, -2, -3, -1, -1, 0xffffffffL, 0xfffffffeL);
        assertEquals(odd, QedHeader.decode(odd.encode()));
        assertEquals(FRESH_1G, QedHeader.decode(FRESH_1G.encode()));
    }

    @Test
    void validHeaderPasses() throws Exception {
        HeaderValidator.validate(FRESH_1G, "a.qed", 327680);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "4096|true", "65536|true", "67108864|true", "2048|false", "134217728|false", "12288|false", "0|false"})
    void clusterSizeRange(long clusterSize, boolean ok) {
        QedHeader h = new QedHeader(clusterSize, 1, 1, 0, 0, 0, clusterSize, 0, 0, 0);
        check(h, clusterSize * 4, ok, "cluster_size");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"1|true", "2|true", "16|true", "3|false", "32|false", "0|false"})
    void tableSizeRangeIncludingOne(long tableSize, boolean ok) {
        QedHeader h = new QedHeader(4096, tableSize, 1, 0, 0, 0, 4096, 0, 0, 0);
        check(h, 4096 * 40, ok, "table_size");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "65536|4|70368744177664|true", "65536|4|70368744178176|false", "4096|2|4294967296|true",
        "4096|2|4294967808|false", "1000|4|1000|false", "65536|4|1536|true", "4194304|4|1099511627776|true"})
    void imageSizeLimitsWithoutOverflow(long clusterSize, long tableSize, long size, boolean ok) {
        QedHeader h = new QedHeader(clusterSize == 1000 ? 65536 : clusterSize, tableSize, 1, 0, 0, 0,
                clusterSize == 1000 ? 65536 : clusterSize, size, 0, 0);
        check(h, (clusterSize == 1000 ? 65536 : clusterSize) * (1 + tableSize), ok, "image_size");
    }

    @Test
    void maxImageSizeSaturatesWhereQemuOverflows() {
        assertEquals(64L << 40, Geometry.maxImageSize(65536, 4));
        assertEquals(1L << 30, Geometry.maxImageSize(4096, 1));
        assertEquals(Long.MAX_VALUE & ~511L, Geometry.maxImageSize(64 << 20, 16));
        assertTrue(Geometry.maxImageSize(4 << 20, 4) > 0, "QEMU computes 0 here");
    }

    @Test
    void l1OffsetMustLieInsideTheFile() {
        QedHeader h = FRESH_1G;
        check(h, 65536 * 4, false, "l1_table_offset 0x10000");
        QedHeader inHeader = new QedHeader(65536, 4, 2, 0, 0, 0, 65536, 1L << 30, 0, 0);
        check(inHeader, 65536 * 10, false, "l1_table_offset");
        QedHeader unaligned = new QedHeader(65536, 4, 1, 0, 0, 0, 65536 + 512, 1L << 30, 0, 0);
        check(unaligned, 65536 * 10, false, "l1_table_offset");
    }

    @Test
    void backingNameMustFitInTheHeader() {
        QedHeader h = new QedHeader(4096, 4, 1, QedHeader.F_BACKING_FILE, 0, 0, 4096, 1 << 20, 64, 4096);
        check(h, 4096 * 5, false, "backing file name at 0x40, 4096 bytes, is out of range");
        QedHeader empty = new QedHeader(4096, 4, 1, QedHeader.F_BACKING_FILE, 0, 0, 4096, 1 << 20, 64, 0);
        check(empty, 4096 * 5, false, "backing file name is empty");
    }

    @Test
    void unknownFeatureRefusedButUnknownCompatAccepted() {
        check(FRESH_1G.withFeatures(0x10), 327680, false, "unsupported QED features 0x10");
        QedHeader compat = new QedHeader(65536, 4, 1, 0, 0x40, 0, 65536, 1L << 30, 0, 0);
        check(compat, 327680, true, "");
    }

    private static void check(QedHeader h, long fileLength, boolean ok, String field) {
        if (ok) {
            try {
                HeaderValidator.validate(h, "x.qed", fileLength);
            } catch (QedFormatException e) {
                throw new AssertionError("should be valid: " + e.getMessage(), e);
            }
        } else {
            QedFormatException e = assertThrows(QedFormatException.class, () -> HeaderValidator.validate(h, "x.qed", fileLength));
            assertTrue(e.getMessage().startsWith("x.qed: "), e.getMessage());
            assertTrue(e.getMessage().contains(field), e.getMessage());
        }
    }
}
