/**
 * A pure-Java implementation of the QED (QEMU Enhanced Disk) image format: the engine's public API.
 *
 * <ul>
 *   <li>{@link io.qedfs.qed.QedImage}: an open image (open, read, write, zero, discard, flush, resize, map,
 *       check, close), opened with {@link io.qedfs.qed.QedOpenOptions}; the {@link io.qedfs.qed.BackgroundCheck}
 *       of an image whose open left its check to the caller;</li>
 *   <li>{@link io.qedfs.qed.QedTools}: whole-file work (create with {@link io.qedfs.qed.QedCreateOptions},
 *       commit, compact, rebase, telling a QED image from other files);</li>
 *   <li>results: {@link io.qedfs.qed.CheckReport} of {@link io.qedfs.qed.CheckProblem}s, the
 *       {@link io.qedfs.qed.Extent}s of a map, {@link io.qedfs.qed.CompactResult},
 *       {@link io.qedfs.qed.ImageSummary}, {@link io.qedfs.qed.FileStatus};</li>
 *   <li>{@link io.qedfs.qed.MemoryBudget} for many open images, {@link io.qedfs.qed.ProgressListener} for
 *       long work, and the exceptions, all {@link java.io.IOException}s.</li>
 * </ul>
 *
 * <p>Everything else in this package is package-private and follows QEMU's split of {@code block/qed*.c}: header
 * codec, table codec, L2 cache, cluster lookup, allocator, read and write paths (and the router that picks a
 * write's route), backing files, consistency check (and the open-time one). The host files, their locks and the
 * libc calls beneath them live in {@code io.qedfs.qed.host}, which the module does not export (see
 * docs/architecture.md).
 */
package io.qedfs.qed;
