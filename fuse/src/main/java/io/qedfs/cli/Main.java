package io.qedfs.cli;

import io.qedfs.qed.QedImage;

/** Entry point of {@code qedfs}: runs the command line and exits with its code. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        // binding the native calls takes a few hundredths of a second; it overlaps the parsing on another core
        Thread binder = new Thread(QedImage::bindNativeCalls, "qedfs-bind");
        binder.setDaemon(true);
        binder.start();
        System.exit(QedfsCommand.commandLine(args).execute(args));
    }
}
