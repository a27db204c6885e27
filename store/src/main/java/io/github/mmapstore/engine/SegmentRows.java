package io.github.mmapstore.engine;

import java.lang.foreign.MemorySegment;

/**
 * Read access to the rows of one segment file during a scan ({@link StoreEngine#scanLive}). Column
 * bytes are handed out in place, as slices of the read-only mapping, after their page checksums
 * matched; they stay valid until the scan returns.
 */
public interface SegmentRows {
    long rows();

    boolean isTombstone(long row);

    byte[] key(long row);

    /** The whole value (joined from its columns), or null for a tombstone. */
    byte[] value(long row);

    /** The bytes of rows [fromRow, toRow) of an extension column, checked and in place. */
    MemorySegment columnRows(int columnId, long fromRow, long toRow);
}
