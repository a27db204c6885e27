package io.github.mmapstore.engine;

/**
 * Tuning and limits of one engine instance.
 *
 * @param maxKeyBytes        largest key accepted; larger keys are refused with an exception
 * @param maxValueBytes      largest value accepted
 * @param memtableBytes      unflushed log size (approximate heap footprint of the memtable) past which
 *                           the memtable becomes an immutable segment
 * @param logBufferBytes     size of the in-heap buffer in front of the log file
 * @param fsync              whether commit forces data to the device; off only for tests and benchmarks
 *                           that measure the in-memory path
 * @param compactionTrigger  number of sorted runs at which compaction steps start merging: the read
 *                           amplification bound (files a point lookup may touch, per partition) that
 *                           compaction restores once it has caught up
 * @param faults             test hook called at crash-relevant points; {@link FaultInjector#NONE} in production
 * @param columns            extra value columns laid out in segments (embedding stores), or null
 * @param partitioned        keys start with an 8-byte big-endian partition number (a time segment for
 *                           window and session stores): each segment file holds one partition, compaction
 *                           merges within a partition, and {@link StoreEngine#dropPartitionsBelow} removes
 *                           whole files
 * @param maxSpaceAmplification bound on bytes on disk over the estimated live keys and values (per
 *                           partition); compaction merges all of a partition's segments when their
 *                           garbage nears it (see {@code CompactionPolicy}); at least 1.1
 * @param compactionFileBytes size at which a merge cuts its output into the next file: a large merge
 *                           writes a sorted run of files with disjoint key ranges and installs each file
 *                           as soon as it is complete, releasing the inputs wholly below it, so disk use
 *                           never holds the whole output next to the whole input; at least 4096
 * @param log                keep a CRC32C-framed log of every write and sync it at each commit, so that the
 *                           store opens at exactly its last commit after a crash. Off: nothing is logged, a
 *                           commit only marks the memtable's state, and durability comes from checkpoints
 *                           (the memtable as of a commit written as segments, then one manifest replacement
 *                           naming them with that commit's metadata); a crash opens the last checkpoint, and
 *                           the owner replays what came after from its own log of record (Kafka's changelog)
 * @param checkpointIntervalMillis without a log: a commit takes a checkpoint when the last one is at least
 *                           this old (besides when the memtable fills); bounds what a crash must replay
 * @param memoryBudget       the limit this engine's unwritten writes share with other engines' (its memtable
 *                           is frozen early when the budget runs short, and writes wait when it is used up),
 *                           or null: the memtable is sized by {@code memtableBytes} alone
 */
public record EngineConfig(
        int maxKeyBytes,
        int maxValueBytes,
        long memtableBytes,
        int logBufferBytes,
        boolean fsync,
        int compactionTrigger,
        FaultInjector faults,
        boolean partitioned,
        ColumnExtension columns,
        double maxSpaceAmplification,
        long compactionFileBytes,
        boolean log,
        long checkpointIntervalMillis,
        MemoryBudget memoryBudget) {

    public static final int DEFAULT_MAX_KEY_BYTES = 64 * 1024;
    public static final int DEFAULT_MAX_VALUE_BYTES = 64 * 1024 * 1024;
    public static final long DEFAULT_MEMTABLE_BYTES = 64L * 1024 * 1024;
    public static final int DEFAULT_LOG_BUFFER_BYTES = 1024 * 1024;
    public static final int DEFAULT_COMPACTION_TRIGGER = 4;
    public static final double DEFAULT_MAX_SPACE_AMPLIFICATION = 1.5;
    public static final long DEFAULT_COMPACTION_FILE_BYTES = 32L * 1024 * 1024;
    public static final long DEFAULT_CHECKPOINT_INTERVAL_MS = 5_000;

    public EngineConfig {
        if (maxKeyBytes < 1) {
            throw new IllegalArgumentException("maxKeyBytes must be at least 1, was " + maxKeyBytes);
        }
        if (maxValueBytes < 0) {
            throw new IllegalArgumentException("maxValueBytes must not be negative, was " + maxValueBytes);
        }
        if (memtableBytes < 4096) {
            throw new IllegalArgumentException("memtableBytes must be at least 4096, was " + memtableBytes);
        }
        if (logBufferBytes < 4096) {
            throw new IllegalArgumentException("logBufferBytes must be at least 4096, was " + logBufferBytes);
        }
        if (compactionTrigger < 2) {
            throw new IllegalArgumentException("compactionTrigger must be at least 2, was " + compactionTrigger);
        }
        if (!(maxSpaceAmplification >= 1.1)) {
            throw new IllegalArgumentException("maxSpaceAmplification must be at least 1.1, was " + maxSpaceAmplification);
        }
        if (compactionFileBytes < 4096) {
            throw new IllegalArgumentException("compactionFileBytes must be at least 4096, was " + compactionFileBytes);
        }
        if (checkpointIntervalMillis < 0) {
            throw new IllegalArgumentException("checkpointIntervalMillis must not be negative, was " + checkpointIntervalMillis);
        }
        if (faults == null) {
            throw new IllegalArgumentException("faults must not be null (use FaultInjector.NONE)");
        }
    }

    public static EngineConfig defaults() {
        return new EngineConfig(DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES, DEFAULT_MEMTABLE_BYTES,
                DEFAULT_LOG_BUFFER_BYTES, true, DEFAULT_COMPACTION_TRIGGER, FaultInjector.NONE, false, null,
                DEFAULT_MAX_SPACE_AMPLIFICATION, DEFAULT_COMPACTION_FILE_BYTES, true, DEFAULT_CHECKPOINT_INTERVAL_MS, null);
    }

    public EngineConfig withMaxKeyBytes(int v) {
        return new EngineConfig(v, maxValueBytes, memtableBytes, logBufferBytes, fsync, compactionTrigger, faults, partitioned, columns, maxSpaceAmplification, compactionFileBytes, log, checkpointIntervalMillis, memoryBudget);
    }

    public EngineConfig withMaxValueBytes(int v) {
        return new EngineConfig(maxKeyBytes, v, memtableBytes, logBufferBytes, fsync, compactionTrigger, faults, partitioned, columns, maxSpaceAmplification, compactionFileBytes, log, checkpointIntervalMillis, memoryBudget);
    }

    public EngineConfig withMemtableBytes(long v) {
        return new EngineConfig(maxKeyBytes, maxValueBytes, v, logBufferBytes, fsync, compactionTrigger, faults, partitioned, columns, maxSpaceAmplification, compactionFileBytes, log, checkpointIntervalMillis, memoryBudget);
    }

    public EngineConfig withLogBufferBytes(int v) {
        return new EngineConfig(maxKeyBytes, maxValueBytes, memtableBytes, v, fsync, compactionTrigger, faults, partitioned, columns, maxSpaceAmplification, compactionFileBytes, log, checkpointIntervalMillis, memoryBudget);
    }

    public EngineConfig withFsync(boolean v) {
        return new EngineConfig(maxKeyBytes, maxValueBytes, memtableBytes, logBufferBytes, v, compactionTrigger, faults, partitioned, columns, maxSpaceAmplification, compactionFileBytes, log, checkpointIntervalMillis, memoryBudget);
    }

    public EngineConfig withCompactionTrigger(int v) {
        return new EngineConfig(maxKeyBytes, maxValueBytes, memtableBytes, logBufferBytes, fsync, v, faults, partitioned, columns, maxSpaceAmplification, compactionFileBytes, log, checkpointIntervalMillis, memoryBudget);
    }

    public EngineConfig withFaults(FaultInjector v) {
        return new EngineConfig(maxKeyBytes, maxValueBytes, memtableBytes, logBufferBytes, fsync, compactionTrigger, v, partitioned, columns, maxSpaceAmplification, compactionFileBytes, log, checkpointIntervalMillis, memoryBudget);
    }

    public EngineConfig withPartitioned(boolean v) {
        return new EngineConfig(maxKeyBytes, maxValueBytes, memtableBytes, logBufferBytes, fsync, compactionTrigger, faults, v, columns, maxSpaceAmplification, compactionFileBytes, log, checkpointIntervalMillis, memoryBudget);
    }

    public EngineConfig withColumns(ColumnExtension v) {
        return new EngineConfig(maxKeyBytes, maxValueBytes, memtableBytes, logBufferBytes, fsync, compactionTrigger, faults, partitioned, v, maxSpaceAmplification, compactionFileBytes, log, checkpointIntervalMillis, memoryBudget);
    }

    public EngineConfig withMaxSpaceAmplification(double v) {
        return new EngineConfig(maxKeyBytes, maxValueBytes, memtableBytes, logBufferBytes, fsync, compactionTrigger, faults, partitioned, columns, v, compactionFileBytes, log, checkpointIntervalMillis, memoryBudget);
    }

    public EngineConfig withCompactionFileBytes(long v) {
        return new EngineConfig(maxKeyBytes, maxValueBytes, memtableBytes, logBufferBytes, fsync, compactionTrigger, faults, partitioned, columns, maxSpaceAmplification, v, log, checkpointIntervalMillis, memoryBudget);
    }

    public EngineConfig withLog(boolean v) {
        return new EngineConfig(maxKeyBytes, maxValueBytes, memtableBytes, logBufferBytes, fsync, compactionTrigger, faults, partitioned, columns, maxSpaceAmplification, compactionFileBytes, v, checkpointIntervalMillis, memoryBudget);
    }

    /** Shares the memtable memory of this engine with others under {@code v}'s limit; null sizes it alone. */
    public EngineConfig withMemoryBudget(MemoryBudget v) {
        return new EngineConfig(maxKeyBytes, maxValueBytes, memtableBytes, logBufferBytes, fsync, compactionTrigger, faults, partitioned, columns, maxSpaceAmplification, compactionFileBytes, log, checkpointIntervalMillis, v);
    }

    public EngineConfig withCheckpointIntervalMillis(long v) {
        return new EngineConfig(maxKeyBytes, maxValueBytes, memtableBytes, logBufferBytes, fsync, compactionTrigger, faults, partitioned, columns, maxSpaceAmplification, compactionFileBytes, log, v, memoryBudget);
    }
}
