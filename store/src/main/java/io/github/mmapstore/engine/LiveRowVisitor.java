package io.github.mmapstore.engine;

/**
 * Receives every live entry of a snapshot ({@link StoreEngine#scanLive}), each key once, in its newest
 * version; overwritten and deleted versions never reach it.
 */
public interface LiveRowVisitor {
    /** An entry still in the memtable (whole value on the heap). */
    void memtable(byte[] key, byte[] value);

    /**
     * Rows [fromRow, toRow) of a segment that are the newest versions of their keys. Tombstones may be in
     * the run: skip rows for which {@link SegmentRows#isTombstone} is true.
     */
    void segmentRows(SegmentRows segment, long fromRow, long toRow);
}
