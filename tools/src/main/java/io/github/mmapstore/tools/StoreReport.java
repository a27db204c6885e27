package io.github.mmapstore.tools;

import java.util.List;

/**
 * What {@code inspect} found in one store: the figures of its committed state as the next open would see
 * it. Sizes are bytes.
 *
 * @param embedding         the embedding layout recognised in the segments, or null
 * @param partitioned       whether the store looks time-partitioned (a window or session store): every
 *                          segment holds keys of one 8-byte partition, or the log drops partitions. Inferred:
 *                          the engine does not record it
 * @param diskBytes         manifest, named segments and needed logs: what the store occupies
 * @param otherBytes        files in the directory the store does not need (obsolete logs, unreferenced
 *                          segments, temporary files), not counting quarantine folders
 * @param rows              segment rows (tombstones included) plus committed log-tail keys
 * @param liveRows          keys a read returns
 * @param liveBytes         their key plus value bytes
 */
record StoreReport(
        LocatedStore store,
        Versions formatVersions,
        ManifestInfo manifest,
        KafkaCommit commit,
        List<SegmentRow> segments,
        List<LogRow> logs,
        long logTailKeys,
        long logTailLiveRows,
        long logTailLiveBytes,
        EmbeddingColumns.Layout embedding,
        boolean partitioned,
        long rows,
        long liveRows,
        long liveBytes,
        long diskBytes,
        long otherBytes,
        List<String> obsoleteLogs,
        List<String> unreferencedSegments,
        List<String> temporaryFiles,
        List<String> quarantines,
        String corruptionMarker) {

    /** Format versions of the manifest, segment and log files (every file of a readable store has these). */
    record Versions(int manifest, int segment, int log) {
    }

    /**
     * @param nextFileNumber grows with every manifest a store writes: the manifest's generation
     * @param seq            sequence number of the last write its segments hold
     * @param committedSeq   that of the last committed write, log tail included
     * @param logStart       the first log file the store still needs
     * @param commitInLog    whether the last commit is a log record (else the manifest's checkpoint)
     */
    record ManifestInfo(long bytes, long nextFileNumber, long seq, long committedSeq, long logStart, boolean commitInLog) {
    }

    /**
     * One segment named by the manifest.
     *
     * @param liveRows    rows that are the newest version of their key and not tombstones
     * @param timeSegment in a partitioned store, the segment's time segment id (partition number with the
     *                    sign bit flipped back, as the window and session stores encode it), else null
     * @param dropped     a committed retention drop removed it; deleted at the next checkpoint
     */
    record SegmentRow(String file, long number, long bytes, long rows, long tombstones, long liveRows, long liveBytes,
                      byte[] firstKey, byte[] lastKey, Long timeSegment, List<Column> extraColumns, boolean dropped) {
    }

    /** An extension column of a segment (embedding vectors, norms, ...). */
    record Column(int id, String name, long bytes) {
    }

    /**
     * One log file the store needs.
     *
     * @param uncommittedBytes bytes after the last commit (a running store's open transaction, or what a
     *                         crash left), cut off by the next open
     */
    record LogRow(String file, long number, long bytes, long records, long puts, long deletes, long commits,
                  long partitionDrops, long uncommittedBytes, boolean tornTail) {
    }

    /** Disk bytes per live byte; 0 when nothing is live. */
    double spaceAmplification() {
        return liveBytes == 0 ? 0 : (double) diskBytes / liveBytes;
    }
}
