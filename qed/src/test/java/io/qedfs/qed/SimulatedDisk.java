package io.qedfs.qed;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.LongPredicate;

/**
 * A file in memory that remembers what a power loss could take away: every write and truncate since the last
 * fsync is pending. {@link #crashImage} builds one of the files a crash could leave: the synced contents plus
 * any subset of the pending writes, in any order, each possibly torn at 512-byte granularity.
 */
final class SimulatedDisk {
    /** A pending change: a write (data != null) or a truncate. */
    private record Op(long pos, byte[] data, long truncateTo) {
    }

    /** Called before every write, truncate and sync reaches the disk: the moment a crash may strike. */
    interface CrashPoint {
        void beforeIo(SimulatedDisk disk) throws IOException;
    }

    private byte[] current;
    private long length;
    private byte[] durable;
    private long durableLength;
    private final List<Op> pending = new ArrayList<>();
    private CrashPoint crashPoint = d -> { };
    /** Reads that start at an offset it accepts fail (an unreadable sector). */
    private volatile LongPredicate unreadable = pos -> false;
    long writes;
    long syncs;

    SimulatedDisk(byte[] initial) {
        current = Arrays.copyOf(initial, Math.max(initial.length, 1 << 16));
        length = initial.length;
        durable = initial.clone();
        durableLength = initial.length;
    }

    void onIo(CrashPoint p) {
        crashPoint = p;
    }

    void failReadsAt(LongPredicate offsets) {
        unreadable = offsets;
    }

    FileChannel channel() {
        return new Channel();
    }

    byte[] contents() {
        return Arrays.copyOf(current, (int) length);
    }

    int pendingCount() {
        return pending.size();
    }

    /** One file a power loss at this moment could leave behind. */
    byte[] crashImage(Random rnd) {
        byte[] img = Arrays.copyOf(durable, (int) Math.max(durableLength, length));
        long len = durableLength;
        List<Op> chosen = new ArrayList<>();
        for (Op op : pending) {
            if (rnd.nextInt(3) > 0) {
                chosen.add(op);
            }
        }
        // Chosen writes land in their order: a later write to a page carries the earlier ones in the page cache,
        // but any write may land without those before it elsewhere (that is the reordering a disk does).
        for (Op op : chosen) {
            if (op.data() == null) {
                if (op.truncateTo() < len) {
                    Arrays.fill(img, (int) op.truncateTo(), (int) len, (byte) 0);
                    len = op.truncateTo();
                }
                continue;
            }
            boolean torn = rnd.nextInt(4) == 0;
            long end = op.pos() + op.data().length;
            for (long s = op.pos() - Math.floorMod(op.pos(), 512); s < end; s += 512) {
                if (torn && rnd.nextBoolean()) {
                    continue; // this sector never made it
                }
                long from = Math.max(s, op.pos());
                long to = Math.min(s + 512, end);
                System.arraycopy(op.data(), (int) (from - op.pos()), img, (int) from, (int) (to - from));
                len = Math.max(len, to);
            }
            if (!torn || rnd.nextBoolean()) {
                len = Math.max(len, end); // the size update may land even where data did not (reads as zeroes)
            }
        }
        return Arrays.copyOf(img, (int) len);
    }

    private void ensure(long size) {
        if (size > current.length) {
            current = Arrays.copyOf(current, (int) Math.max(size, current.length * 2L));
        }
    }

    private final class Channel extends FileChannel {
        private long position;

        @Override
        public int read(ByteBuffer dst, long pos) throws IOException {
            if (unreadable.test(pos)) {
                throw new IOException("injected: cannot read at " + pos);
            }
            if (pos >= length) {
                return dst.hasRemaining() ? -1 : 0;
            }
            int n = (int) Math.min(dst.remaining(), length - pos);
            dst.put(current, (int) pos, n);
            return n;
        }

        @Override
        public int write(ByteBuffer src, long pos) throws IOException {
            crashPoint.beforeIo(SimulatedDisk.this);
            int n = src.remaining();
            byte[] data = new byte[n];
            src.get(data);
            ensure(pos + n);
            if (pos > length) {
                Arrays.fill(current, (int) length, (int) pos, (byte) 0);
            }
            System.arraycopy(data, 0, current, (int) pos, n);
            length = Math.max(length, pos + n);
            pending.add(new Op(pos, data, -1));
            writes++;
            return n;
        }

        @Override
        public long size() {
            return length;
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            crashPoint.beforeIo(SimulatedDisk.this);
            if (size < length) {
                Arrays.fill(current, (int) size, (int) length, (byte) 0);
                length = size;
                pending.add(new Op(0, null, size));
            }
            return this;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            crashPoint.beforeIo(SimulatedDisk.this);
            durable = contents();
            durableLength = length;
            pending.clear();
            syncs++;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            int n = read(dst, position);
            if (n > 0) {
                position += n;
            }
            return n;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            int n = write(src, position);
            position += n;
            return n;
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int len) throws IOException {
            long total = 0;
            for (int i = offset; i < offset + len; i++) {
                int n = read(dsts[i]);
                if (n < 0) {
                    return total == 0 ? -1 : total;
                }
                total += n;
            }
            return total;
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int len) throws IOException {
            long total = 0;
            for (int i = offset; i < offset + len; i++) {
                total += write(srcs[i]);
            }
            return total;
        }

        @Override
        public long position() {
            return position;
        }

        @Override
        public FileChannel position(long newPosition) {
            position = newPosition;
            return this;
        }

        @Override
        public long transferTo(long pos, long count, WritableByteChannel target) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long pos, long count) {
            throw new UnsupportedOperationException();
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long pos, long size) {
            throw new UnsupportedOperationException();
        }

        @Override
        public FileLock lock(long pos, long size, boolean shared) {
            throw new UnsupportedOperationException();
        }

        @Override
        public FileLock tryLock(long pos, long size, boolean shared) {
            throw new UnsupportedOperationException();
        }

        @Override
        protected void implCloseChannel() {
        }
    }
}
