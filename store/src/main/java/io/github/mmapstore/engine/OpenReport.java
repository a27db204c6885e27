package io.github.mmapstore.engine;

import java.nio.file.Path;

/**
 * What happened when the engine opened its directory.
 *
 * @param created              the directory held no store; a new one was made
 * @param rebuiltAfterCorruption damage was found (now or by an earlier instance); the files were moved to
 *                             {@link #quarantine()} and the store opened empty with no commit metadata,
 *                             so its owner must rebuild it
 * @param reason               why the store was quarantined, or null
 * @param quarantine           where the damaged files went, or null
 * @param replayedRecords      committed log records after the manifest's checkpoint, replayed into the
 *                             memtable (at open, or at first use when {@code replayDeferred})
 * @param replayDeferred       the open only checked the logs and found the last commit; the records are
 *                             replayed by the first read or write (a store opened only for its committed
 *                             offsets, as Kafka Streams does at startup, never pays for the replay)
 * @param discardedLogBytes    log bytes after the last commit that were cut off (uncommitted or torn)
 * @param openNanos            time spent opening
 */
public record OpenReport(
        boolean created,
        boolean rebuiltAfterCorruption,
        String reason,
        Path quarantine,
        long replayedRecords,
        boolean replayDeferred,
        long discardedLogBytes,
        long openNanos) {
}
