package io.qedfs.cli;

/** Entry point of {@code qedfs}: runs the command line and exits with its code. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(QedfsCommand.commandLine(args).execute(args));
    }
}
