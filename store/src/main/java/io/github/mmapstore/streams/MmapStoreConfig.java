package io.github.mmapstore.streams;

import io.github.mmapstore.engine.EngineConfig;
import io.github.mmapstore.engine.FileLimits;
import io.github.mmapstore.engine.MemoryBudget;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;

/**
 * The {@code mmapstore.*} keys of the Streams configuration, read through
 * {@code StateStoreContext.appConfigsWithPrefix("mmapstore.")}. Every key is optional; the README lists
 * them with their defaults.
 *
 * @param log whether the store keeps a log of its own ({@code mmapstore.log}): null ("auto", the default)
 *            keeps one only for a store without a changelog; with a changelog, Kafka's changelog is the log
 *            of record and the store makes its commits durable by checkpoints instead
 * @param compactionThreads threads of the JVM-wide pool that runs merges off the stream threads
 *            ({@code mmapstore.compaction.threads}); 0 runs them on the stream thread in paced steps
 * @param memoryBudgetBytes the limit on unwritten writes (memtables) shared by every MmapStore of the JVM
 *            ({@code mmapstore.memory.budget.bytes}): null keeps the JVM's budget as it is (a quarter of the
 *            maximum heap unless a store configured it); 0 leaves this store out of it, sized by
 *            {@code mmapstore.memtable.bytes} alone
 * @param maxMappings the most segment files all MmapStores of the JVM may map ({@code mmapstore.max.mappings}),
 *            or null for the default: {@code vm.max_map_count} less a reserve for the JVM
 */
public record MmapStoreConfig(EngineConfig engine, Duration compactionBudget, long restoreCommitBytes,
                              Duration eosCheckpointInterval, Duration compactionIdleBudget,
                              Duration compactionIdleAfter, long compactionBusyWrites, Duration maintenanceInterval,
                              Boolean log, int compactionThreads, Long memoryBudgetBytes, Long maxMappings) {
    public static final String PREFIX = "mmapstore.";
    public static final String MAX_KEY_BYTES = "max.key.bytes";
    public static final String MAX_VALUE_BYTES = "max.value.bytes";
    public static final String MEMTABLE_BYTES = "memtable.bytes";
    public static final String LOG_BUFFER_BYTES = "log.buffer.bytes";
    public static final String FSYNC = "fsync";
    public static final String COMPACTION_TRIGGER_SEGMENTS = "compaction.trigger.segments";
    public static final String COMPACTION_BUDGET_MS = "compaction.budget.ms";
    public static final String COMPACTION_MAX_SPACE_AMPLIFICATION = "compaction.max.space.amplification";
    public static final String COMPACTION_FILE_BYTES = "compaction.file.bytes";
    public static final String COMPACTION_IDLE_BUDGET_MS = "compaction.idle.budget.ms";
    public static final String COMPACTION_IDLE_AFTER_MS = "compaction.idle.after.ms";
    public static final String COMPACTION_BUSY_WRITES = "compaction.busy.writes";
    public static final String RESTORE_COMMIT_BYTES = "restore.commit.bytes";
    public static final String EOS_CHECKPOINT_INTERVAL_MS = "eos.checkpoint.interval.ms";
    public static final String MAINTENANCE_INTERVAL_MS = "maintenance.interval.ms";
    public static final String LOG = "log";
    public static final String CHECKPOINT_INTERVAL_MS = "checkpoint.interval.ms";
    public static final String COMPACTION_THREADS = "compaction.threads";
    public static final String MEMORY_BUDGET_BYTES = "memory.budget.bytes";
    public static final String MAX_MAPPINGS = "max.mappings";

    public static final long DEFAULT_COMPACTION_BUDGET_MS = 5;
    public static final long DEFAULT_COMPACTION_IDLE_BUDGET_MS = 100;
    public static final long DEFAULT_COMPACTION_IDLE_AFTER_MS = 10_000;
    public static final long DEFAULT_COMPACTION_BUSY_WRITES = 20_000;
    public static final long DEFAULT_RESTORE_COMMIT_BYTES = 256L * 1024 * 1024;
    public static final long DEFAULT_EOS_CHECKPOINT_INTERVAL_MS = 0;
    public static final long DEFAULT_MAINTENANCE_INTERVAL_MS = 5000;
    /** One thread for the whole JVM: merges overlap with the stream threads without crowding them out. */
    public static final int DEFAULT_COMPACTION_THREADS = 1;

    /** Reads the keys with the {@value #PREFIX} prefix already stripped (as appConfigsWithPrefix returns them). */
    public static MmapStoreConfig from(Map<String, Object> props) {
        EngineConfig e = EngineConfig.defaults()
                .withMaxKeyBytes((int) longValue(props, MAX_KEY_BYTES, EngineConfig.DEFAULT_MAX_KEY_BYTES, 1, Integer.MAX_VALUE))
                .withMaxValueBytes((int) longValue(props, MAX_VALUE_BYTES, EngineConfig.DEFAULT_MAX_VALUE_BYTES, 0, Integer.MAX_VALUE - 1024))
                .withMemtableBytes(longValue(props, MEMTABLE_BYTES, EngineConfig.DEFAULT_MEMTABLE_BYTES, 4096, Long.MAX_VALUE))
                .withLogBufferBytes((int) longValue(props, LOG_BUFFER_BYTES, EngineConfig.DEFAULT_LOG_BUFFER_BYTES, 4096, 1 << 30))
                .withFsync(boolValue(props, FSYNC, true))
                .withCompactionTrigger((int) longValue(props, COMPACTION_TRIGGER_SEGMENTS, EngineConfig.DEFAULT_COMPACTION_TRIGGER, 2, 1000))
                .withMaxSpaceAmplification(doubleValue(props, COMPACTION_MAX_SPACE_AMPLIFICATION,
                        EngineConfig.DEFAULT_MAX_SPACE_AMPLIFICATION, 1.1, 100))
                .withCompactionFileBytes(longValue(props, COMPACTION_FILE_BYTES, EngineConfig.DEFAULT_COMPACTION_FILE_BYTES,
                        4096, Long.MAX_VALUE))
                .withCheckpointIntervalMillis(longValue(props, CHECKPOINT_INTERVAL_MS, EngineConfig.DEFAULT_CHECKPOINT_INTERVAL_MS,
                        0, Long.MAX_VALUE / 1_000_000));
        long budget = longValue(props, COMPACTION_BUDGET_MS, DEFAULT_COMPACTION_BUDGET_MS, 0, Long.MAX_VALUE / 1_000_000);
        long restore = longValue(props, RESTORE_COMMIT_BYTES, DEFAULT_RESTORE_COMMIT_BYTES, 1, Long.MAX_VALUE);
        long eosInterval = longValue(props, EOS_CHECKPOINT_INTERVAL_MS, DEFAULT_EOS_CHECKPOINT_INTERVAL_MS, -1, Long.MAX_VALUE / 1_000_000);
        // budget 0 turns compaction off, idle steps included, unless an idle budget is given explicitly
        long idleBudget = longValue(props, COMPACTION_IDLE_BUDGET_MS,
                budget == 0 ? 0 : Math.max(DEFAULT_COMPACTION_IDLE_BUDGET_MS, budget), 0, Long.MAX_VALUE / 1_000_000);
        long idleAfter = longValue(props, COMPACTION_IDLE_AFTER_MS, DEFAULT_COMPACTION_IDLE_AFTER_MS, 0, Long.MAX_VALUE / 1_000_000);
        long busyWrites = longValue(props, COMPACTION_BUSY_WRITES, DEFAULT_COMPACTION_BUSY_WRITES, 1, Long.MAX_VALUE);
        long maintenanceInterval = longValue(props, MAINTENANCE_INTERVAL_MS, DEFAULT_MAINTENANCE_INTERVAL_MS, 0, Long.MAX_VALUE / 1_000_000);
        Boolean log = props.get(LOG) == null || "auto".equalsIgnoreCase(props.get(LOG).toString().trim())
                ? null : boolValue(props, LOG, true);
        int threads = (int) longValue(props, COMPACTION_THREADS, DEFAULT_COMPACTION_THREADS, 0, 256);
        Long memoryBudget = null;
        if (props.get(MEMORY_BUDGET_BYTES) != null) {
            memoryBudget = longValue(props, MEMORY_BUDGET_BYTES, 0, 0, Long.MAX_VALUE);
            if (memoryBudget != 0 && memoryBudget < MemoryBudget.MIN_LIMIT_BYTES) {
                throw new ConfigException(PREFIX + MEMORY_BUDGET_BYTES, props.get(MEMORY_BUDGET_BYTES),
                        "must be 0 (no shared budget) or at least " + MemoryBudget.MIN_LIMIT_BYTES);
            }
        }
        Long maxMappings = props.get(MAX_MAPPINGS) == null ? null : longValue(props, MAX_MAPPINGS, 0, 1, Long.MAX_VALUE);
        return new MmapStoreConfig(e, Duration.ofMillis(budget), restore, Duration.ofMillis(eosInterval),
                Duration.ofMillis(idleBudget), Duration.ofMillis(idleAfter), busyWrites, Duration.ofMillis(maintenanceInterval),
                log, threads, memoryBudget, maxMappings);
    }

    /**
     * The engine config of a store about to open: its own, sharing the JVM's memory budget unless it opted
     * out. Applies the JVM-wide settings this config carries first (the budget's limit, the most mappings),
     * since every store of the JVM shares them: the last store opened with an explicit value sets it.
     */
    public EngineConfig engineForStore() {
        if (maxMappings != null) {
            FileLimits.configureMaxMappings(maxMappings);
        }
        if (memoryBudgetBytes != null && memoryBudgetBytes == 0) {
            return engine;
        }
        MemoryBudget shared = MemoryBudget.shared();
        if (memoryBudgetBytes != null) {
            shared.configure(memoryBudgetBytes);
        }
        return engine.withMemoryBudget(shared);
    }

    private static double doubleValue(Map<String, Object> props, String key, double def, double min, double max) {
        Object v = props.get(key);
        if (v == null) {
            return def;
        }
        double d;
        if (v instanceof Number num) {
            d = num.doubleValue();
        } else {
            try {
                d = Double.parseDouble(v.toString().trim());
            } catch (NumberFormatException ex) {
                throw new ConfigException(PREFIX + key, v, "must be a number");
            }
        }
        if (!(d >= min && d <= max)) {
            throw new ConfigException(PREFIX + key, v, "must be between " + min + " and " + max);
        }
        return d;
    }

    private static long longValue(Map<String, Object> props, String key, long def, long min, long max) {
        Object v = props.get(key);
        if (v == null) {
            return def;
        }
        long n;
        if (v instanceof Number num) {
            n = num.longValue();
        } else {
            try {
                n = Long.parseLong(v.toString().trim());
            } catch (NumberFormatException ex) {
                throw new ConfigException(PREFIX + key, v, "must be a whole number");
            }
        }
        if (n < min || n > max) {
            throw new ConfigException(PREFIX + key, v, "must be between " + min + " and " + max);
        }
        return n;
    }

    private static boolean boolValue(Map<String, Object> props, String key, boolean def) {
        Object v = props.get(key);
        if (v == null) {
            return def;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        String s = v.toString().trim();
        if (s.equalsIgnoreCase("true")) {
            return true;
        }
        if (s.equalsIgnoreCase("false")) {
            return false;
        }
        throw new ConfigException(PREFIX + key, v, LOG.equals(key) ? "must be true, false or auto" : "must be true or false");
    }
}
