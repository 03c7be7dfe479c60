package io.qedfs.qed;

import io.qedfs.qed.host.Buffers;
import io.qedfs.qed.host.FileIo;
import io.qedfs.qed.host.WriteLockedFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Writes a new, empty image laid out as {@code qemu-img create -f qed} does: header cluster, then L1. */
final class ImageCreator {
    private ImageCreator() {
    }

    static void create(Path path, QedCreateOptions o) throws IOException {
        String file = path.toString();
        if (!HeaderValidator.isPowerOfTwoIn(o.clusterSize(), Geometry.MIN_CLUSTER_SIZE, Geometry.MAX_CLUSTER_SIZE)) {
            throw new IllegalArgumentException("cluster_size " + o.clusterSize()
                    + " is invalid (allowed: a power of 2 from 4096 to 67108864)");
        }
        if (!HeaderValidator.isPowerOfTwoIn(o.tableSize(), Geometry.MIN_TABLE_SIZE, Geometry.MAX_TABLE_SIZE)) {
            throw new IllegalArgumentException("table_size " + o.tableSize() + " is invalid (allowed: a power of 2 from 1 to 16)");
        }
        if (o.backingFormat() != null && !o.backingFormat().equals("raw") && !o.backingFormat().equals("qed")) {
            throw new IllegalArgumentException("backing format " + o.backingFormat() + " is not supported (allowed: raw, qed)");
        }
        long features = 0;
        byte[] name = new byte[0];
        long size = o.size();
        if (o.backingFile() != null) {
            name = o.backingFile().getBytes(StandardCharsets.UTF_8);
            if (name.length == 0) {
                throw new IllegalArgumentException("the backing file name is empty");
            }
            if (QedHeader.SIZE + name.length > o.clusterSize() || name.length > HeaderValidator.MAX_BACKING_NAME) {
                throw new IllegalArgumentException("backing file name of " + name.length + " bytes is too long (at most "
                        + Math.min(HeaderValidator.MAX_BACKING_NAME, o.clusterSize() - QedHeader.SIZE) + ")");
            }
            long backingSize = probeBackingSize(path, o);
            features |= QedHeader.F_BACKING_FILE;
            if ("raw".equals(o.backingFormat())) {
                features |= QedHeader.F_BACKING_FORMAT_NO_PROBE;
            }
            if (size < 0) {
                size = backingSize;
            }
        }
        if (size < 0) {
            throw new IllegalArgumentException("an image size is needed when there is no backing file");
        }
        long rounded = (size + 511) & ~511L;
        long max = Geometry.maxImageSize(o.clusterSize(), o.tableSize());
        if (size > max || rounded < 0) {
            throw new IllegalArgumentException(String.format("image size %d is too large (at most %d for cluster_size %d and table_size %d)",
                    size, max, o.clusterSize(), o.tableSize()));
        }
        QedHeader h = new QedHeader(o.clusterSize(), o.tableSize(), 1, features, 0, 0, o.clusterSize(), rounded,
                name.length == 0 ? 0 : QedHeader.SIZE, name.length);
        long end = (long) o.clusterSize() * (1 + o.tableSize());
        // Locked before it is cut to nothing: a file in use (a mount, QEMU) is refused as it is; so is a FIFO, a
        // character device or a directory. A regular file is then emptied and extended over the header and the
        // L1 table, which read as zeroes without a byte written (64 MiB clusters with table_size 16 cost a few
        // KiB of disk, not 1 GiB).
        try (WriteLockedFile out = WriteLockedFile.open(path)) {
            FileChannel ch = out.channel();
            if (out.isRegularFile()) {
                out.setLength(0);
                out.setLength(end);
            }
            FileIo.writeFully(ch, 0, h.encode());
            FileIo.writeFully(ch, QedHeader.SIZE, ByteBuffer.wrap(name));
            if (!out.isRegularFile()) {
                // a block device holds whatever was there before: the table is written out as zeroes
                for (long at = o.clusterSize(); at < end; at += Buffers.zerosCapacity()) {
                    FileIo.writeFully(ch, at, Buffers.zeros((int) Math.min(Buffers.zerosCapacity(), end - at)));
                }
            }
            ch.force(true);
        }
    }

    /**
     * Opens the backing file (checking format and chain) and returns its size. Without locks, as qemu-img
     * create reads it: only its size is read, and the new image does not exist yet to be disturbed by a writer.
     * Trusted (whoever owns it, a block device too): the caller names it, and no data of it is read; whoever
     * opens the new image later has its chain judged then.
     */
    private static long probeBackingSize(Path image, QedCreateOptions o) throws IOException {
        try (Backing b = BackingChain.openNamed(image.toAbsolutePath(), o.backingFile(), o.backingFormat(), false, true)) {
            return b.size();
        }
    }
}
