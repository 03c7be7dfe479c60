/**
 * The QED engine: open, create, read, write, check and repair QED (QEMU Enhanced Disk) images in pure Java.
 * Only {@code io.qedfs.qed} is exported; {@code io.qedfs.qed.host} (host files, their locks, the libc calls) is
 * the engine's own.
 */
module io.qedfs.qed {
    requires org.jnrproject.jffi;

    exports io.qedfs.qed;
}
