package io.github.mmapstore.streams.internals;

import io.github.mmapstore.engine.EngineStats;
import io.github.mmapstore.engine.FileLimits;
import io.github.mmapstore.engine.MemoryBudget;
import io.github.mmapstore.engine.StoreEngine;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.metrics.MeasurableStat;
import org.apache.kafka.common.metrics.MetricConfig;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.streams.StreamsMetrics;
import org.apache.kafka.streams.processor.StateStoreContext;

/**
 * Store gauges registered through the public {@link StreamsMetrics} API, in Kafka's own
 * {@code stream-state-metrics} group with Kafka's store tags, so they appear in JMX next to the
 * latency and rate metrics of Kafka's metered wrapper.
 */
final class StoreMetrics implements AutoCloseable {
    static final String GROUP = "stream-state-metrics";

    private final StreamsMetrics metrics;
    private final Sensor sensor;

    StoreMetrics(StateStoreContext context, String scope, String storeName, StoreEngine engine,
                 java.util.function.LongSupplier selfCheckpoints, java.util.function.LongSupplier compactionBudgetNanos) {
        this.metrics = context.metrics();
        Map<String, String> tags = new LinkedHashMap<>();
        tags.put("thread-id", Thread.currentThread().getName());
        tags.put("task-id", context.taskId().toString());
        tags.put(scope + "-state-id", storeName);
        this.sensor = metrics.addSensor("task." + context.taskId() + ".store." + storeName + "." + scope + "-gauges",
                Sensor.RecordingLevel.INFO);
        gauge(tags, "mmapstore-live-entries", "Approximate number of live keys",
                s -> engine.approximateNumEntries());
        gauge(tags, "mmapstore-segments", "Live segment files", s -> stats(engine).segments());
        gauge(tags, "mmapstore-mapped-bytes", "Bytes of segment files mapped", s -> stats(engine).mappedBytes());
        gauge(tags, "mmapstore-log-bytes", "Bytes in the current log file", s -> stats(engine).logBytes());
        gauge(tags, "mmapstore-memtable-bytes", "Approximate heap held by unflushed writes",
                s -> stats(engine).memtableBytes());
        gauge(tags, "mmapstore-last-commit-duration-ms", "Duration of the last commit (ms)",
                s -> stats(engine).lastCommitNanos() / 1e6);
        gauge(tags, "mmapstore-compactions-total", "Compactions since the store opened",
                s -> stats(engine).compactions());
        gauge(tags, "mmapstore-flushes-total", "Memtable flushes since the store opened",
                s -> stats(engine).flushes());
        gauge(tags, "mmapstore-compaction-steps-total", "Time-boxed compaction steps that found work",
                s -> stats(engine).compaction().steps());
        gauge(tags, "mmapstore-compaction-step-time-avg-ms", "Average duration of a compaction step (ms)", s -> {
            EngineStats.Compaction c = stats(engine).compaction();
            return c.steps() == 0 ? 0 : c.stepNanosTotal() / 1e6 / c.steps();
        });
        gauge(tags, "mmapstore-compaction-step-time-max-ms", "Longest compaction step (ms)",
                s -> stats(engine).compaction().stepNanosMax() / 1e6);
        gauge(tags, "mmapstore-compaction-step-time-last-ms", "Duration of the last compaction step (ms)",
                s -> stats(engine).compaction().stepNanosLast() / 1e6);
        gauge(tags, "mmapstore-compaction-budget-ms", "Budget the pacer gave the last compaction step (ms)",
                s -> compactionBudgetNanos.getAsLong() / 1e6);
        gauge(tags, "mmapstore-compaction-bytes-read-total", "Bytes of segment files read by compaction",
                s -> stats(engine).compaction().bytesRead());
        gauge(tags, "mmapstore-compaction-bytes-written-total", "Bytes of segment files written by compaction",
                s -> stats(engine).compaction().bytesWritten());
        gauge(tags, "mmapstore-flush-bytes-written-total", "Bytes of segment files written by memtable flushes",
                s -> stats(engine).compaction().flushBytesWritten());
        gauge(tags, "mmapstore-log-bytes-written-total", "Bytes appended to log files",
                s -> stats(engine).compaction().logBytesWritten());
        gauge(tags, "mmapstore-pending-compaction-bytes",
                "Input bytes of the merge in progress or due next (0 when the space and read bounds hold)",
                s -> stats(engine).compaction().pendingBytes());
        gauge(tags, "mmapstore-disk-bytes", "Bytes of the store's files on disk", s -> stats(engine).compaction().diskBytes());
        gauge(tags, "mmapstore-live-bytes-estimate", "Live bytes of the segments, estimated by sampling rows",
                s -> stats(engine).compaction().liveBytes());
        gauge(tags, "mmapstore-space-amplification", "Bytes on disk over estimated live bytes",
                s -> stats(engine).compaction().spaceAmplification());
        gauge(tags, "mmapstore-read-amplification", "Most segments a point lookup may touch in one partition",
                s -> stats(engine).compaction().readAmplification());
        // JVM-wide figures, the same in every store's tags (as Kafka reports a block cache shared by RocksDB stores)
        MemoryBudget budget = engine.memoryBudget();
        if (budget != null) {
            gauge(tags, "mmapstore-memory-budget-used-bytes",
                    "Unwritten bytes (active and flushing memtables) of every MmapStore sharing this store's memory budget",
                    s -> budget.usedBytes());
            gauge(tags, "mmapstore-memory-budget-limit-bytes", "Limit of the memory budget this store shares",
                    s -> budget.limitBytes());
            gauge(tags, "mmapstore-memory-budget-stores", "MmapStores sharing this store's memory budget",
                    s -> budget.stores());
            gauge(tags, "mmapstore-memory-budget-stalls-total", "Writes that waited for the memory budget to make room",
                    s -> budget.stalls());
            gauge(tags, "mmapstore-memory-budget-stall-time-ms-total", "Time writes waited for the memory budget (ms)",
                    s -> budget.stallNanos() / 1e6);
            gauge(tags, "mmapstore-memory-budget-forced-flushes-total",
                    "Memtables the memory budget froze before they were full", s -> budget.forcedFreezes());
        }
        gauge(tags, "mmapstore-jvm-mappings", "Segment files mapped by every MmapStore of the JVM",
                s -> FileLimits.mappings());
        gauge(tags, "mmapstore-jvm-max-mappings", "The most segment files the MmapStores of the JVM may map",
                s -> FileLimits.maxMappings());
        gauge(tags, "mmapstore-jvm-open-files", "Files every MmapStore of the JVM holds open (lock and log files)",
                s -> FileLimits.openFiles());
        gauge(tags, "mmapstore-self-checkpoints-total",
                "Commits the store made by itself after Kafka committed a transaction (exactly-once only)",
                s -> selfCheckpoints.getAsLong());
    }

    private static EngineStats stats(StoreEngine engine) {
        return engine.stats();
    }

    private void gauge(Map<String, String> tags, String name, String description, ToDoubleFunction<Void> value) {
        MetricName metricName = new MetricName(name, GROUP, description, tags);
        sensor.add(metricName, new MeasurableStat() {
            @Override
            public double measure(MetricConfig config, long now) {
                try {
                    return value.applyAsDouble(null);
                } catch (RuntimeException closedOrFailed) {
                    return Double.NaN;
                }
            }

            @Override
            public void record(MetricConfig config, double v, long timeMs) {
                // a gauge: read on demand, never recorded
            }
        });
    }

    @Override
    public void close() {
        metrics.removeSensor(sensor);
    }
}
