/**
 * Partition tables of a guest disk (MBR with logical partitions, GPT with its backup header), read through any
 * positional reader, for {@code mount --partitions}. Knows nothing of QED or FUSE: it sees a disk as bytes.
 */
package io.qedfs.partition;
