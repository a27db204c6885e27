package io.github.mmapstore.it;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;

/**
 * {@link CrashApp}'s {@code many} topology (issue 21's many-stores test, {@link ManyStoresIT}): five persistent, logged
 * DSL stores per task, all from the DSL's default store suppliers ({@code dsl.store.suppliers.class}: MmapStore through
 * {@code MmapDslStoreSuppliers}, or Kafka's RocksDB stores), over {@code <prefix>-input} (key, value {@code seq:inc}) and
 * {@code <prefix>-profiles}, co-partitioned, so one sub-topology and one task per partition:
 * <ul>
 *   <li>{@code profiles}: the source table of {@code <prefix>-profiles};</li>
 *   <li>{@code count}: records per key;</li>
 *   <li>{@code sum}: a reduce of the increments per key;</li>
 *   <li>{@code wcount}: records per key and tumbling window of {@value #WINDOW_MS} ms (a window store, time
 *       partitioned: segments in RocksDB), retention {@value #RETENTION_MS} ms;</li>
 *   <li>{@code joined}: {@code count ⋈ profiles}, value {@code count|profile}.</li>
 * </ul>
 * Nothing is written to an output topic: the work is the stores and their changelogs.
 */
final class ManyStoresApp {
    static final String[] STORES = {"profiles", "count", "sum", "wcount", "joined"};
    static final long WINDOW_MS = 60_000;
    static final long RETENTION_MS = 30 * 60_000;

    private ManyStoresApp() {
    }

    static Topology topology(String prefix, java.util.Properties config) {
        Serde<String> s = Serdes.String();
        // the configuration given to the builder too, so that dsl.store.suppliers.class picks the stores at build time
        StreamsBuilder b = new StreamsBuilder(new TopologyConfig(new StreamsConfig(config)));
        KTable<String, String> profiles = b.table(prefix + "-profiles", Consumed.with(s, s),
                Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as("profiles")
                        .withKeySerde(s).withValueSerde(s).withCachingDisabled());
        KStream<String, String> input = b.stream(prefix + "-input", Consumed.with(s, s));
        KGroupedStream<String, String> byKey = input.groupByKey(Grouped.with(s, s));
        KTable<String, Long> count = byKey.count(Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("count")
                .withKeySerde(s).withValueSerde(Serdes.Long()).withCachingDisabled());
        input.mapValues(ManyStoresApp::inc)
                .groupByKey(Grouped.with(s, Serdes.Long()))
                .reduce(Long::sum, Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("sum")
                        .withKeySerde(s).withValueSerde(Serdes.Long()).withCachingDisabled());
        byKey.windowedBy(TimeWindows.ofSizeWithNoGrace(Duration.ofMillis(WINDOW_MS)))
                .count(Materialized.<String, Long, WindowStore<Bytes, byte[]>>as("wcount")
                        .withKeySerde(s).withValueSerde(Serdes.Long()).withRetention(Duration.ofMillis(RETENTION_MS))
                        .withCachingDisabled());
        count.join(profiles, (c, p) -> c + "|" + p, Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as("joined")
                .withKeySerde(s).withValueSerde(s).withCachingDisabled());
        return b.build();
    }

    static long inc(String value) {
        return Long.parseLong(value.substring(value.indexOf(':') + 1));
    }

    /**
     * Every {@code intervalMs}: {@code MEM heapUsed heapCommitted nonHeapUsed directUsed budgetUsed memtableSum commitAvgMs
     * commitMaxMs processTotal rocksCacheUsage rocksMemtables storesWithMetrics heapAfterLastGc} ({@code -1} for a metric that does not
     * exist). Heap from {@link MemoryMXBean}; {@code budgetUsed} is {@code mmapstore-memory-budget-used-bytes} (any group),
     * {@code memtableSum} the sum over stores of {@code mmapstore-memtable-bytes}; commit latency and {@code process-total}
     * from Kafka's {@code stream-thread-metrics} (avg: the mean over threads, max: the max); {@code rocksCacheUsage} the
     * largest {@code block-cache-usage} of a RocksDB store (one cache shared by all), {@code rocksMemtables} the sum of
     * {@code size-all-mem-tables}.
     */
    static void startSampler(KafkaStreams streams, long intervalMs) {
        Thread t = new Thread(() -> {
            MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
            while (true) {
                try {
                    Thread.sleep(intervalMs);
                    double budget = -1;
                    double memtables = -1;
                    double commitAvgSum = 0;
                    int commitAvgN = 0;
                    double commitMax = -1;
                    double processTotal = 0;
                    double rocksCache = -1;
                    double rocksMem = -1;
                    int stores = 0;
                    for (Map.Entry<MetricName, ? extends Metric> e : streams.metrics().entrySet()) {
                        MetricName n = e.getKey();
                        switch (n.name()) {
                            case "mmapstore-memory-budget-used-bytes" -> budget = Math.max(budget, num(e.getValue())); // JVM-wide: every store reports the same
                            case "mmapstore-memtable-bytes" -> {
                                memtables = Math.max(memtables, 0) + num(e.getValue());
                                stores++;
                            }
                            case "commit-latency-avg" -> {
                                if (n.group().equals("stream-thread-metrics")) {
                                    double v = num(e.getValue());
                                    if (!Double.isNaN(v)) {
                                        commitAvgSum += v;
                                        commitAvgN++;
                                    }
                                }
                            }
                            case "commit-latency-max" -> {
                                if (n.group().equals("stream-thread-metrics")) {
                                    double v = num(e.getValue());
                                    if (!Double.isNaN(v)) {
                                        commitMax = Math.max(commitMax, v);
                                    }
                                }
                            }
                            case "process-total" -> {
                                if (n.group().equals("stream-thread-metrics")) {
                                    processTotal += num(e.getValue());
                                }
                            }
                            case "block-cache-usage" -> {
                                double v = num(e.getValue());
                                if (!Double.isNaN(v)) {
                                    rocksCache = Math.max(rocksCache, v);
                                }
                            }
                            case "size-all-mem-tables" -> {
                                double v = num(e.getValue());
                                if (!Double.isNaN(v)) {
                                    rocksMem = Math.max(rocksMem, 0) + v;
                                    stores++;
                                }
                            }
                            default -> {
                            }
                        }
                    }
                    long direct = 0;
                    for (BufferPoolMXBean bp : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
                        direct += bp.getMemoryUsed();
                    }
                    CrashApp.emit("MEM", mem.getHeapMemoryUsage().getUsed(), mem.getHeapMemoryUsage().getCommitted(),
                            mem.getNonHeapMemoryUsage().getUsed(), direct, (long) budget, (long) memtables,
                            fmt(commitAvgN == 0 ? -1 : commitAvgSum / commitAvgN), fmt(commitMax), (long) processTotal,
                            (long) rocksCache, (long) rocksMem, stores, heapAfterLastGc());
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    CrashApp.emit("MEM_ERROR", e.toString().replace('\n', ' ').replace(' ', '_'));
                }
            }
        }, "many-stores-sampler");
        t.setDaemon(true);
        t.start();
    }

    /**
     * The heap in use right after the most recent collection (young or full, whichever came last): the sum over the heap
     * pools of {@code getLastGcInfo().getMemoryUsageAfterGc()}; -1 before the first. Unlike a sample of "heap used", it
     * does not count the garbage that piles up between collections.
     */
    static long heapAfterLastGc() {
        long bestEnd = -1;
        long used = -1;
        for (java.lang.management.GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof com.sun.management.GarbageCollectorMXBean sun) {
                com.sun.management.GcInfo info = sun.getLastGcInfo();
                if (info != null && info.getEndTime() > bestEnd) {
                    bestEnd = info.getEndTime();
                    long sum = 0;
                    for (java.lang.management.MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
                        if (pool.getType() == java.lang.management.MemoryType.HEAP) {
                            java.lang.management.MemoryUsage u = info.getMemoryUsageAfterGc().get(pool.getName());
                            sum += u == null ? 0 : u.getUsed();
                        }
                    }
                    used = sum;
                }
            }
        }
        return used;
    }

    private static double num(Metric m) {
        Object v = m.metricValue();
        return v instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    private static String fmt(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? "-1" : String.format(java.util.Locale.ROOT, "%.3f", v);
    }

    /**
     * {@code sample <file>}: for each key in the file (one a line), through Interactive Queries (IQv1, the stores'
     * plain types): {@code SAMPLE key count sum profile joined windows}, {@code windows} being
     * {@code start=count;...} of {@code wcount} over all time ({@code -} when empty, {@code null} for a missing
     * value); then {@code SAMPLE_DONE n}, or {@code SAMPLE_ERROR} if a store is not queryable.
     */
    static void sample(KafkaStreams streams, String file) {
        try {
            List<String> keys = Files.readAllLines(Path.of(file), StandardCharsets.UTF_8);
            ReadOnlyKeyValueStore<String, Long> count = streams.store(
                    StoreQueryParameters.fromNameAndType("count", QueryableStoreTypes.keyValueStore()));
            ReadOnlyKeyValueStore<String, Long> sum = streams.store(
                    StoreQueryParameters.fromNameAndType("sum", QueryableStoreTypes.keyValueStore()));
            ReadOnlyKeyValueStore<String, String> profiles = streams.store(
                    StoreQueryParameters.fromNameAndType("profiles", QueryableStoreTypes.keyValueStore()));
            ReadOnlyKeyValueStore<String, String> joined = streams.store(
                    StoreQueryParameters.fromNameAndType("joined", QueryableStoreTypes.keyValueStore()));
            ReadOnlyWindowStore<String, Long> wcount = streams.store(
                    StoreQueryParameters.fromNameAndType("wcount", QueryableStoreTypes.windowStore()));
            int n = 0;
            for (String key : keys) {
                if (key.isBlank()) {
                    continue;
                }
                StringBuilder w = new StringBuilder();
                try (WindowStoreIterator<Long> it = wcount.fetch(key, Instant.EPOCH, Instant.ofEpochMilli(Long.MAX_VALUE / 2))) {
                    while (it.hasNext()) {
                        KeyValue<Long, Long> e = it.next();
                        if (!w.isEmpty()) {
                            w.append(';');
                        }
                        w.append(e.key).append('=').append(e.value);
                    }
                }
                CrashApp.emit("SAMPLE", key, count.get(key), sum.get(key), profiles.get(key), joined.get(key),
                        w.isEmpty() ? "-" : w);
                n++;
            }
            CrashApp.emit("SAMPLE_DONE", n);
        } catch (Exception e) {
            CrashApp.emit("SAMPLE_ERROR", e.toString().replace('\n', ' ').replace(' ', '_'));
        }
    }
}
