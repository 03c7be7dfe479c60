package io.qedfs.qed;

/** What a check may change. As in QEMU, repairing leaks also repairs invalid offsets (there is one fix path). */
public enum RepairMode {
    /** Report only; the image is not written. */
    NONE,
    /** Clear invalid offsets and reclaim leaked clusters. */
    LEAKS,
    /** Same as LEAKS: nothing else is repairable without losing data. */
    ALL
}
