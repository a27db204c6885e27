package io.github.mmapstore.streams;

import io.github.mmapstore.engine.EngineStats;
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
                 java.util.function.LongSupplier selfCheckpoints) {
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
