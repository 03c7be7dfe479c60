package io.qedfs.qed;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

/** The backing file of an image: what unallocated clusters read and what copy-on-write fills come from. */
interface Backing extends Closeable {
    /** Bytes of guest data the backing file holds; reads past it give zeroes. */
    long size();

    /** Fills {@code dst} from guest offset {@code pos}; bytes past {@link #size()} read as zeroes. */
    void read(long pos, ByteBuffer dst) throws IOException;

    /** The file name, as a user would recognise it. */
    String fileName();

    /** "raw" or "qed". */
    String format();

    /** This file and the files below it, as opened (the name resolved), nearest first. */
    List<Path> files();

    /**
     * The first offset in {@code [pos, end)} that may hold data (what lies past {@link #size()} is a hole), or -1
     * when the range is all holes. A hole read here always reads as zeroes.
     */
    long nextData(long pos, long end) throws IOException;

    /** The first offset in {@code [pos, end)} that is a hole, or {@code end} when there is none. */
    long nextHole(long pos, long end) throws IOException;

    /** Describes {@code [pos, pos+len)} as extents, {@code depth} being this file's depth in the chain. */
    List<Extent> map(long pos, long len, int depth) throws IOException;
}
