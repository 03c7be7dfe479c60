package io.qedfs.cli;

import io.qedfs.qed.QedTools;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.util.Locale;
import picocli.CommandLine;

/** Entry point of {@code qedfs}: runs the command line and exits with its code. */
public final class Main {
    private static final String CONVERTER_EXCLUDES = "picocli.converters.excludes";

    private Main() {
    }

    public static void main(String[] args) {
        Logging.bindDirectly();
        formatAsUsEnglishForEnglish();
        // binding the native calls takes a few hundredths of a second, making the annotation proxies some more:
        // both run on the other core while this one parses the arguments (a plain check, mount or unmount
        // without picocli)
        onSecondCore("qedfs-bind", QedTools::bindNativeCalls);
        ServerReport report = ServerReport.ofThisProcess(); // a serving process a waiting qedfs mount started
        PrintWriter out = report != null ? report.out() : writer(System.out, "sun.stdout.encoding");
        PrintWriter err = writer(System.err, "sun.stderr.encoding");
        Integer exit = CheckShortcut.run(args, out, err);
        if (exit == null) {
            exit = MountShortcut.run(args, out, err);
        }
        if (exit == null) {
            onSecondCore("qedfs-annotations", () -> QedfsCommand.readAnnotationsAhead(args));
            // no option takes a date, time or SQL type: without this picocli loads ~100 classes of java.time and
            // java.sql on every start to register converters for them
            if (System.getProperty(CONVERTER_EXCLUDES) == null) {
                System.setProperty(CONVERTER_EXCLUDES, "java\\.sql\\..*,java\\.time\\..*");
            }
            CommandLine commandLine = QedfsCommand.commandLine(args);
            if (report != null) {
                commandLine.setOut(out);
            }
            exit = commandLine.execute(args);
        }
        if (report != null) {
            report.exit(exit); // unless ready (or foreground) was reported already
        }
        System.exit(exit);
    }

    /**
     * The C.UTF-8 locale reaches the JVM as English without a country, for which String.format("%d") first
     * sets up the CLDR locale data: a few hundredths of a second of CPU on every start, because jffi names its
     * library that way while it loads. Java formats US English exactly as English, and knows its digits
     * without that set-up; every other locale is left as it is.
     */
    private static void formatAsUsEnglishForEnglish() {
        if (Locale.getDefault(Locale.Category.FORMAT).equals(Locale.ENGLISH)) {
            Locale.setDefault(Locale.Category.FORMAT, Locale.US);
        }
    }

    /** A writer on {@code stream} in the charset picocli would choose for it (the JVM's for a terminal). */
    private static PrintWriter writer(PrintStream stream, String encodingProperty) {
        String name = System.getProperty(encodingProperty);
        Charset charset = name != null && Charset.isSupported(name) ? Charset.forName(name) : Charset.defaultCharset();
        return new PrintWriter(new OutputStreamWriter(stream, charset), true);
    }

    private static void onSecondCore(String name, Runnable work) {
        Thread t = new Thread(work, name);
        t.setDaemon(true);
        t.start();
    }
}
