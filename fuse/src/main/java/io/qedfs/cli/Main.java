package io.qedfs.cli;

import io.qedfs.qed.QedImage;

/** Entry point of {@code qedfs}: runs the command line and exits with its code. */
public final class Main {
    private static final String CONVERTER_EXCLUDES = "picocli.converters.excludes";

    private Main() {
    }

    public static void main(String[] args) {
        // binding the native calls takes a few hundredths of a second, making the annotation proxies some more:
        // both overlap picocli's loading on the other core
        onSecondCore("qedfs-bind", QedImage::bindNativeCalls);
        onSecondCore("qedfs-annotations", () -> QedfsCommand.readAnnotationsAhead(args));
        // no option takes a date, time or SQL type: without this picocli loads ~100 classes of java.time and
        // java.sql on every start to register converters for them (a few ms of a 0.15 s check)
        if (System.getProperty(CONVERTER_EXCLUDES) == null) {
            System.setProperty(CONVERTER_EXCLUDES, "java\\.sql\\..*,java\\.time\\..*");
        }
        System.exit(QedfsCommand.commandLine(args).execute(args));
    }

    private static void onSecondCore(String name, Runnable work) {
        Thread t = new Thread(work, name);
        t.setDaemon(true);
        t.start();
    }
}
