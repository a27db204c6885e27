package io.github.mmapstore.examples.shared;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.streams.KafkaStreams;

/**
 * An MmapStore store's gauges, summed over this instance's partitions of it, read from the application's
 * metrics ({@code KafkaStreams.metrics()}, group {@code stream-state-metrics}): what a JMX console would show.
 *
 * @param partitions   partitions (tasks) of the store reporting
 * @param liveEntries  approximate number of live keys
 * @param segments     live segment files
 * @param mappedBytes  bytes of segment files mapped
 * @param memtableBytes approximate heap held by writes not yet in a segment
 * @param flushes      memtable flushes since the stores opened
 * @param compactions  compactions since the stores opened
 */
public record StoreFigures(int partitions, long liveEntries, long segments, long mappedBytes, long memtableBytes,
                           long flushes, long compactions) {

    public static StoreFigures of(KafkaStreams streams, String store) {
        Map<String, Double> sums = new HashMap<>();
        Set<String> tasks = new HashSet<>();
        for (Map.Entry<MetricName, ? extends Metric> e : streams.metrics().entrySet()) {
            MetricName n = e.getKey();
            if (!n.group().equals("stream-state-metrics") || !n.name().startsWith("mmapstore-")
                    || !store.equals(stateId(n.tags()))) {
                continue;
            }
            Object v = e.getValue().metricValue();
            if (v instanceof Number num && !Double.isNaN(num.doubleValue())) {
                sums.merge(n.name(), num.doubleValue(), Double::sum);
                tasks.add(n.tags().get("task-id"));
            }
        }
        return new StoreFigures(tasks.size(), get(sums, "mmapstore-live-entries"), get(sums, "mmapstore-segments"),
                get(sums, "mmapstore-mapped-bytes"), get(sums, "mmapstore-memtable-bytes"), get(sums, "mmapstore-flushes-total"),
                get(sums, "mmapstore-compactions-total"));
    }

    private static String stateId(Map<String, String> tags) {
        for (Map.Entry<String, String> t : tags.entrySet()) {
            if (t.getKey().endsWith("-state-id")) {
                return t.getValue();
            }
        }
        return null;
    }

    private static long get(Map<String, Double> sums, String name) {
        return Math.round(sums.getOrDefault(name, 0.0));
    }
}
