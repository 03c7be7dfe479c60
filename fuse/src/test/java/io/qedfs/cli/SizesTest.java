package io.qedfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SizesTest {
    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource({
        "0, 0",
        "512, 512",
        "00100, 100",
        "512b, 512",
        "512B, 512",
        "64k, 65536",
        "64K, 65536",
        "10M, 10485760",
        "10m, 10485760",
        "1G, 1073741824",
        "2T, 2199023255552",
        "1P, 1125899906842624",
        "7E, 8070450532247928832",
        "1.5G, 1610612736",
        "1.25k, 1280",
        "0.5k, 512",
        "1.0000001k, 1024",
        "9223372036854775807, 9223372036854775807",
        "8191P, 9222246136947933184",
    })
    void parsesLikeQemuImg(String text, long expected) {
        assertEquals(expected, Sizes.parse(text));
    }

    @ParameterizedTest(name = "{0} is refused")
    @ValueSource(strings = {"", "-5", "-1G", "+5", " 5", "5 ", "10Q", "10MB", "10Mb", "1KiB", "1e3", "0x100", "1.5",
        "1.5b", "abc", "k", ".5k", "8E", "16E", "9223372036854775808", "99999999999999999999", "1,5G"})
    void refusesGarbageNegativeAndOverflow(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sizes.parse(text));
        assertTrue(e.getMessage().contains("size"), e.getMessage());
    }

    @ParameterizedTest(name = "{0} bytes print as {1}")
    @CsvSource({
        "0, 0 B",
        "999, 999 B",
        "1000, 0.977 KiB",
        "1023, 0.999 KiB",
        "1024, 1 KiB",
        "593920, 580 KiB",
        "1048576, 1 MiB",
        "1572864, 1.5 MiB",
        "1073741824, 1 GiB",
        "4398046511104, 4 TiB",
        "9223372036854775807, 8 EiB",
    })
    void printsLikeQemuSizeToStr(long bytes, String expected) {
        assertEquals(expected, Sizes.human(bytes));
    }

    @Test
    void sizeChangesAreAbsoluteOrRelative() {
        assertEquals(3L << 30, SizeChange.parse("3G").applyTo(1L << 30));
        assertEquals((1L << 30) + 65536, SizeChange.parse("+64k").applyTo(1L << 30));
        assertEquals(1L << 29, SizeChange.parse("-512M").applyTo(1L << 30));
        assertThrows(IllegalArgumentException.class, () -> SizeChange.parse("+7E").applyTo(7L << 60));
        assertThrows(IllegalArgumentException.class, () -> SizeChange.parse("-2G").applyTo(1L << 30));
        assertThrows(IllegalArgumentException.class, () -> SizeChange.parse("+"));
        assertThrows(IllegalArgumentException.class, () -> SizeChange.parse("++1G"));
    }

    @Test
    void badSizeOnTheCommandLineIsAUsageError(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        String image = dir.resolve("x.qed").toString();
        Cli.Result r = Cli.run("create", image, "10Q").assertUsageError("qedfs create");
        assertTrue(r.err().contains("'10Q'"), r.err());
        Cli.run("create", image, "-5").assertUsageError("qedfs create");
        Cli.run("create", image, "8E").assertUsageError("qedfs create");
    }
}
