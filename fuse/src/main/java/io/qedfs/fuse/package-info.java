/**
 * The FUSE side of qedfs: QED images served as raw files through jnr-fuse (libfuse2). Thin by design: path to
 * image, errno mapping, buffers, lifecycle (mount readiness, idle mark-clean, clean shutdown). All format logic
 * lives in {@code io.qedfs.qed}.
 */
package io.qedfs.fuse;
