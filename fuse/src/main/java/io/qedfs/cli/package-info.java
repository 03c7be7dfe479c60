/**
 * The {@code qedfs} command line (picocli): one class per subcommand, with the shared pieces beside them:
 * size parsing and printing ({@link io.qedfs.cli.Sizes}), the one error mapper
 * ({@link io.qedfs.cli.ErrorReporter}) and usage-error handler, a small JSON writer, the backing-chain walk
 * used by {@code info} and {@code map}, and the copy loop of {@code convert}. All format logic lives in
 * {@code io.qedfs.qed}; this package only parses arguments, calls the engine and prints.
 */
package io.qedfs.cli;
