package io.github.mmapstore.engine;

/**
 * Called by the engine at each step where a crash leaves distinct files behind. Tests throw from it to
 * stop the engine exactly there, then abandon the engine ({@link StoreEngine#abandon()}) and reopen.
 */
@FunctionalInterface
public interface FaultInjector {
    FaultInjector NONE = point -> { };

    /**
     * Named points, in the order a flush or a compaction passes them. The {@code COMPACTION_STEP_*}
     * points are hit each time a time-boxed compaction step ends at its deadline in that phase.
     */
    enum Point {
        FLUSH_BEFORE_SEGMENT,
        FLUSH_AFTER_SEGMENT_WRITTEN,
        FLUSH_AFTER_LOG_ROTATED,
        /**
         * Without a log: the segments of a memtable frozen at a commit are written and synced, and the
         * checkpoint manifest naming them is about to be handed to the manifest writer.
         */
        CHECKPOINT_BEFORE_MANIFEST,
        COMMIT_BEFORE_FSYNC,
        COMMIT_AFTER_FSYNC,
        MANIFEST_AFTER_TEMP_WRITTEN,
        MANIFEST_AFTER_RENAME,
        COMPACTION_STEP_SIZING,
        COMPACTION_MID_MERGE,
        COMPACTION_STEP_WRITING,
        COMPACTION_STEP_SEALING,
        COMPACTION_STEP_SYNCING,
        COMPACTION_AFTER_SEGMENT_WRITTEN,
        COMPACTION_STEP_VERIFYING,
        /** A merge whose output is cut into files installed one of them and goes on with the next. */
        COMPACTION_AFTER_PARTIAL_INSTALL,
        COMPACTION_AFTER_INSTALL
    }

    void at(Point point);
}
