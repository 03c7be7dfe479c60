package io.qedfs.cli;

import java.io.File;
import picocli.codegen.docgen.manpage.ManPageGenerator;

/**
 * Writes the AsciiDoc source of a man page for {@code qedfs} and one for each subcommand ({@code qedfs-mount.adoc},
 * ...) into the directory given, with picocli's own generator. Maven runs it when it packages the jar
 * (fuse/pom.xml); fuse/src/main/man/to-troff.sh turns the pages into troff. It lives among the tests so that
 * the generator (picocli-codegen) stays out of the jar. The command line is the configured one, every
 * subcommand added, so the pages describe exactly what the jar accepts.
 */
public final class ManPageWriter {
    private ManPageWriter() {
    }

    public static void main(String[] args) throws Exception {
        int status = ManPageGenerator.generateManPage(new File(args[0]), null, new boolean[0], false,
                QedfsCommand.commandLine().getCommandSpec());
        if (status != 0) {
            throw new IllegalStateException("picocli's man page generator failed (status " + status + ")");
        }
    }
}
