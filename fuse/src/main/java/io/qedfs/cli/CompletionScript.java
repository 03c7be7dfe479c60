package io.qedfs.cli;

import picocli.AutoComplete;

/**
 * Prints the bash completion script for {@code qedfs} ({@code make install} runs it from the built jar). It
 * is made from the configured command line, every subcommand added, so it offers what this jar accepts. The
 * script is sourced, never run, so picocli's first line, a {@code #!} line, is left out (as bash-completion's
 * own completions have none).
 */
public final class CompletionScript {
    private CompletionScript() {
    }

    public static void main(String[] args) {
        System.out.print(AutoComplete.bash("qedfs", QedfsCommand.commandLine()).replaceFirst("\\A#!.*\n", ""));
    }
}
