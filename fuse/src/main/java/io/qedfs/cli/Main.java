package io.qedfs.cli;

import io.qedfs.qed.QedImage;

/** Entry point of {@code qedfs}: runs the command line and exits with its code. */
public final class Main {
    private static final String CONVERTER_EXCLUDES = "picocli.converters.excludes";

    private Main() {
    }

    public static void main(String[] args) {
        // binding the native calls takes a few hundredths of a second; it overlaps the parsing on another core
        Thread binder = new Thread(QedImage::bindNativeCalls, "qedfs-bind");
        binder.setDaemon(true);
        binder.start();
        // no option takes a date, time or SQL type: without this picocli loads ~100 classes of java.time and
        // java.sql on every start to register converters for them (a few ms of a 0.15 s check)
        if (System.getProperty(CONVERTER_EXCLUDES) == null) {
            System.setProperty(CONVERTER_EXCLUDES, "java\\.sql\\..*,java\\.time\\..*");
        }
        System.exit(QedfsCommand.commandLine(args).execute(args));
    }
}
