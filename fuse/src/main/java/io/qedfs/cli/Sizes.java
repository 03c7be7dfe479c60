package io.qedfs.cli;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Sizes as qemu-img reads and prints them. Input: a decimal number with an optional suffix b, k, M, G, T, P
 * or E (case-insensitive, binary multiples); a fraction needs a suffix of k or more ({@code 1.5G}) and is
 * truncated to whole bytes. Output: three significant digits and a binary unit ({@code 580 KiB}).
 */
final class Sizes {
    private static final Pattern SIZE = Pattern.compile("([0-9]+)(?:\\.([0-9]*))?([bkmgtpeBKMGTPE]?)");
    private static final String SUFFIXES = "bkmgtpe";
    private static final String[] UNITS = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    private static final BigInteger MAX = BigInteger.valueOf(Long.MAX_VALUE);

    private Sizes() {
    }

    /** The number of bytes {@code text} stands for; IllegalArgumentException with the reason otherwise. */
    static long parse(String text) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("empty size");
        }
        if (text.startsWith("-")) {
            throw new IllegalArgumentException("size '" + text + "' is negative");
        }
        Matcher m = SIZE.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("invalid size '" + text
                    + "' (use a number with an optional k, M, G, T, P or E suffix, e.g. 64k or 10G)");
        }
        String suffix = m.group(3);
        int shift = suffix.isEmpty() ? 0 : 10 * SUFFIXES.indexOf(Character.toLowerCase(suffix.charAt(0)));
        String fraction = m.group(2);
        if (fraction != null && shift == 0) {
            throw new IllegalArgumentException("invalid size '" + text
                    + "': a fraction needs a k, M, G, T, P or E suffix");
        }
        BigDecimal value = new BigDecimal(m.group(1) + (fraction == null || fraction.isEmpty() ? "" : "." + fraction));
        BigInteger bytes = value.multiply(new BigDecimal(BigInteger.ONE.shiftLeft(shift)))
                .setScale(0, RoundingMode.FLOOR).toBigIntegerExact();
        if (bytes.compareTo(MAX) > 0) {
            throw new IllegalArgumentException("size '" + text + "' is too large (at most " + Long.MAX_VALUE + " bytes)");
        }
        return bytes.longValueExact();
    }

    /** qemu's size_to_str: {@code 0 B}, {@code 580 KiB}, {@code 1.5 GiB}, {@code 0.999 KiB}. */
    static String human(long bytes) {
        if (bytes <= 0) {
            return bytes + " B";
        }
        double v = bytes;
        int exp = Math.getExponent(v / (1000.0 / 1024.0)) + 1; // frexp's exponent
        int i = Math.min(UNITS.length - 1, (exp - 1) / 10);
        double scaled = v / (double) (1L << (10 * i));
        return threeDigits(scaled) + " " + UNITS[i] + "B";
    }

    /** printf's {@code %0.3g} for values in (0, 1000), the range {@link #human} chooses units for. */
    private static String threeDigits(double value) {
        BigDecimal r = new BigDecimal(value).round(new MathContext(3, RoundingMode.HALF_EVEN));
        if (r.compareTo(BigDecimal.valueOf(1000)) >= 0) {
            return "1e+03"; // 999.5 and up round to 1000, which %g writes in exponent form
        }
        return r.stripTrailingZeros().toPlainString();
    }

    /** picocli converter for SIZE arguments: a bad size is a usage error. */
    static final class Converter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
