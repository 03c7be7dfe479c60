/**
 * The host beneath the engine: files opened without blocking (FileOpener), what FileChannel cannot do
 * (HostFile: holes, space reservation, SEEK_DATA, OFD locks), QEMU's lock bytes (ImageLocks), the libc calls
 * bound through jffi (LibC), positional I/O loops (FileIo) and waits an interrupt does not end (Uninterruptibly).
 * Not exported by the module: the engine and the qedfs command line use it, a library user does not.
 */
package io.qedfs.qed.host;
