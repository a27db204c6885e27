package io.github.mmapstore.engine;

/**
 * A point-in-time view of an engine's resources, for metrics.
 *
 * @param memtableBytes       approximate heap held by unflushed writes
 * @param memtableKeys        distinct keys in the memtable
 * @param segments            live segment files
 * @param segmentRows         rows in all segments (tombstones and shadowed rows included)
 * @param segmentTombstones   tombstone rows in all segments
 * @param mappedBytes         bytes of segment files mapped
 * @param logBytes            bytes in the current log file
 * @param lastCommitNanos     duration of the last commit
 * @param commits             commits since open
 * @param flushes             memtable flushes since open
 * @param compactions         compactions completed since open
 * @param compactedBytes      bytes written by compactions since open
 */
public record EngineStats(
        long memtableBytes,
        long memtableKeys,
        int segments,
        long segmentRows,
        long segmentTombstones,
        long mappedBytes,
        long logBytes,
        long lastCommitNanos,
        long commits,
        long flushes,
        long compactions,
        long compactedBytes) {

    /**
     * Rows stored per live row, an upper bound of space amplification from overwrites and deletes
     * (1.0 when every stored row is live). Estimated from row counts: a row shadowed by a newer
     * segment counts as live until compaction removes it, so this under-reports between compactions.
     */
    public double rowAmplification(long liveEntries) {
        long stored = segmentRows + memtableKeys;
        return liveEntries <= 0 ? (stored == 0 ? 1.0 : stored) : (double) stored / liveEntries;
    }
}
