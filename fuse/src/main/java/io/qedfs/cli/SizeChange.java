package io.qedfs.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * resize's {@code [+|-]SIZE}: an absolute size, or a change relative to the current one.
 *
 * @param sign   +1 grow by, -1 shrink by, 0 absolute
 * @param amount bytes
 */
record SizeChange(int sign, long amount) {
    static SizeChange parse(String text) {
        if (text.startsWith("+")) {
            return new SizeChange(1, Sizes.parse(text.substring(1)));
        }
        if (text.startsWith("-")) {
            return new SizeChange(-1, Sizes.parse(text.substring(1)));
        }
        return new SizeChange(0, Sizes.parse(text));
    }

    /** The new size for an image of {@code current} bytes; IllegalArgumentException when out of range. */
    long applyTo(long current) {
        if (sign == 0) {
            return amount;
        }
        if (sign > 0) {
            if (amount > Long.MAX_VALUE - current) {
                throw new IllegalArgumentException("new size " + current + " + " + amount + " is too large");
            }
            return current + amount;
        }
        if (amount > current) {
            throw new IllegalArgumentException("cannot shrink by " + amount + " bytes: the image is " + current + " bytes");
        }
        return current - amount;
    }

    /** picocli converter: a bad size is a usage error. */
    static final class Converter implements ITypeConverter<SizeChange> {
        @Override
        public SizeChange convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
