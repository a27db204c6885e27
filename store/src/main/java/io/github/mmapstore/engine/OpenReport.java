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
 * @param replayedRecords      log records replayed up to the last commit
 * @param discardedLogBytes    log bytes after the last commit that were cut off (uncommitted or torn)
 * @param openNanos            time spent opening
 */
public record OpenReport(
        boolean created,
        boolean rebuiltAfterCorruption,
        String reason,
        Path quarantine,
        long replayedRecords,
        long discardedLogBytes,
        long openNanos) {
}
