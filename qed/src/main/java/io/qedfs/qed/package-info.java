/**
 * A pure-Java implementation of the QED (QEMU Enhanced Disk) image format.
 *
 * <p>The public surface is small: {@link io.qedfs.qed.QedImage} (open, create, read, write, zero, discard,
 * flush, resize, check, close), its options ({@link io.qedfs.qed.QedOpenOptions},
 * {@link io.qedfs.qed.QedCreateOptions}), the typed {@link io.qedfs.qed.CheckReport}, the
 * {@link io.qedfs.qed.Extent}s of a map, and the exceptions a bad image raises. Everything else is
 * package-private and mirrors QEMU's split of {@code block/qed*.c}: header codec, table codec, L2 cache,
 * cluster lookup, allocator/write path, backing files, consistency check.
 */
package io.qedfs.qed;
