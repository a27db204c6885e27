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
 * @param checkpoints         manifests naming newly committed segments since open (with a log: after a
 *                            commit that followed flushes; without: at commits and full memtables)
 * @param compaction          compaction work and the amplification it keeps bounded
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
        long compactedBytes,
        long checkpoints,
        Compaction compaction) {

    /**
     * Compaction figures since open.
     *
     * @param steps                  time-boxed steps run ({@code compact} calls that found work)
     * @param stepNanosTotal         time spent in them
     * @param stepNanosMax           the longest
     * @param stepNanosLast          the last
     * @param bytesRead              bytes of segment files read by merges (two passes over the inputs, one
     *                               verification pass over the output)
     * @param bytesWritten           bytes of merged segment files written (pending merges included)
     * @param flushBytesWritten      bytes of segment files written by memtable flushes
     * @param logBytesWritten        bytes appended to log files
     * @param liveBytes              estimated keys and values of the live rows (sampled, see {@code CompactionPolicy})
     * @param diskBytes              segment and log bytes the store holds on disk (files only a reader
     *                               still maps excluded)
     * @param readAmplification      most segments whose key ranges cover one key (what a point lookup may touch)
     * @param pendingBytes           input bytes of the merge in progress, or of the merge the policy would
     *                               start next; 0 when both bounds hold
     */
    public record Compaction(long steps, long stepNanosTotal, long stepNanosMax, long stepNanosLast, long bytesRead,
                             long bytesWritten, long flushBytesWritten, long logBytesWritten, long liveBytes,
                             long diskBytes, int readAmplification, long pendingBytes) {
        public static final Compaction NONE = new Compaction(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

        /**
         * Bytes on disk (segments and logs) over estimated live bytes; 1.0 for an empty store. The log
         * counts here (it is disk the store uses) but not in the policy's bound, which only merging can
         * restore: a commit after a flush deletes the logs the segments replace.
         */
        public double spaceAmplification() {
            return liveBytes <= 0 ? 1.0 : (double) diskBytes / liveBytes;
        }
    }

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
