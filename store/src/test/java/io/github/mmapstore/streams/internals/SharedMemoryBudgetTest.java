package io.github.mmapstore.streams.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mmapstore.engine.FileLimits;
import io.github.mmapstore.engine.MemoryBudget;
import io.github.mmapstore.streams.MmapStores;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JVM's memory budget as a Kafka Streams user meets it: {@code mmapstore.memory.budget.bytes} sets the
 * limit that every MmapStore of the JVM shares (tasks of any thread), the budget's gauges show its use next
 * to the store's own, {@code 0} leaves a store out, and bad values fail the store's initialisation with
 * Kafka's {@link ConfigException} naming the key.
 */
class SharedMemoryBudgetTest {
    private static final long LIMIT = 4L << 20;

    @TempDir
    Path stateDir;

    private final List<KeyValueStore<Bytes, byte[]>> stores = new ArrayList<>();
    private final List<MockProcessorContext<Object, Object>> contexts = new ArrayList<>();

    @AfterEach
    void close() {
        for (KeyValueStore<Bytes, byte[]> s : stores) {
            s.close();
        }
        // the JVM's budget outlives this test: leave it as the other tests of the JVM expect it
        MemoryBudget.shared().configure(MemoryBudget.defaultLimitBytes());
    }

    private KeyValueStore<Bytes, byte[]> open(int task, Map<String, Object> extra) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "app");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
        props.put("mmapstore.fsync", "false");
        props.putAll(extra);
        MockProcessorContext<Object, Object> context = new MockProcessorContext<>(props, new TaskId(0, task),
                stateDir.resolve("task-" + task).toFile());
        context.setRecordMetadata("input", task, 0);
        KeyValueStore<Bytes, byte[]> store = Stores.keyValueStoreBuilder(MmapStores.persistentKeyValueStore("s"),
                Serdes.Bytes(), Serdes.ByteArray()).withLoggingDisabled().withCachingDisabled().build();
        store.init(context.getStateStoreContext(), store);
        stores.add(store);
        contexts.add(context);
        return store;
    }

    private static Bytes key(int i) {
        return Bytes.wrap(ByteBuffer.allocate(16).putLong(i * 0x9E3779B97F4A7C15L).putLong(i).array());
    }

    private static double gauge(MockProcessorContext<Object, Object> context, String name) {
        for (Map.Entry<MetricName, ? extends Metric> e : context.metrics().metrics().entrySet()) {
            if (e.getKey().name().equals(name) && e.getKey().group().equals(StoreMetrics.GROUP)) {
                return ((Number) e.getValue().metricValue()).doubleValue();
            }
        }
        throw new AssertionError("no gauge " + name);
    }

    @Test
    void storesOfManyTasksShareTheConfiguredBudgetAndReportIt() {
        int tasks = 12;
        for (int t = 0; t < tasks; t++) {
            open(t, Map.of("mmapstore.memory.budget.bytes", Long.toString(LIMIT)));
        }
        MemoryBudget budget = MemoryBudget.shared();
        assertThat(budget.limitBytes()).isEqualTo(LIMIT);
        assertThat(budget.stores()).isGreaterThanOrEqualTo(tasks);
        // 12 stores x 4,000 x ~150 bytes: about 7 MB, nearly twice the budget
        for (int i = 0; i < 4_000; i++) {
            for (int t = 0; t < tasks; t++) {
                stores.get(t).put(key(i), new byte[100]);
            }
            if (i % 500 == 499) {
                for (KeyValueStore<Bytes, byte[]> s : stores) {
                    s.commit(Map.of());
                }
            }
        }
        assertThat(budget.peakUsedBytes()).isLessThanOrEqualTo(LIMIT + tasks * 64 * 1024L);
        MockProcessorContext<Object, Object> any = contexts.get(5);
        assertThat(gauge(any, "mmapstore-memory-budget-limit-bytes")).isEqualTo(LIMIT);
        assertThat(gauge(any, "mmapstore-memory-budget-used-bytes")).isEqualTo(budget.usedBytes()).isLessThanOrEqualTo(LIMIT * 1.1);
        assertThat(gauge(any, "mmapstore-memory-budget-stores")).isGreaterThanOrEqualTo(tasks);
        assertThat(gauge(any, "mmapstore-jvm-mappings")).isGreaterThanOrEqualTo(gauge(any, "mmapstore-segments"));
        assertThat(gauge(any, "mmapstore-jvm-open-files")).isGreaterThanOrEqualTo(tasks);
        assertThat(gauge(any, "mmapstore-jvm-max-mappings")).isEqualTo((double) FileLimits.maxMappings());
        // each store's memtable was frozen long before its own 64 MiB
        for (MockProcessorContext<Object, Object> c : contexts) {
            assertThat(gauge(c, "mmapstore-flushes-total")).isPositive();
            assertThat(gauge(c, "mmapstore-memtable-bytes")).isLessThanOrEqualTo(LIMIT / 4 + LIMIT / 16);
        }
        for (int t = 0; t < tasks; t++) {
            for (int i = 0; i < 4_000; i += 101) {
                assertThat(stores.get(t).get(key(i))).hasSize(100);
            }
        }
    }

    @Test
    void aStoreWithBudgetZeroStaysOutOfIt() {
        open(0, Map.of("mmapstore.memory.budget.bytes", Long.toString(LIMIT)));
        int before = MemoryBudget.shared().stores();
        open(1, Map.of("mmapstore.memory.budget.bytes", "0"));
        assertThat(MemoryBudget.shared().stores()).isEqualTo(before);
        assertThat(MemoryBudget.shared().limitBytes()).isEqualTo(LIMIT);
        assertThat(contexts.get(1).metrics().metrics().keySet()).noneMatch(n -> n.name().startsWith("mmapstore-memory-budget"));
    }

    @Test
    void badBudgetsAndMappingLimitsFailInitialisationNamingTheKey() {
        assertThatThrownBy(() -> open(0, Map.of("mmapstore.memory.budget.bytes", "4096")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("mmapstore.memory.budget.bytes")
                .hasMessageContaining("4096");
        assertThatThrownBy(() -> open(1, Map.of("mmapstore.memory.budget.bytes", "a lot")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("mmapstore.memory.budget.bytes");
        assertThatThrownBy(() -> open(2, Map.of("mmapstore.max.mappings", "0")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("mmapstore.max.mappings");
    }
}
