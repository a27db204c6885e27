package io.github.mmapstore.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A processor unit test with kafka-streams-test-utils' {@link MockProcessorContext} under
 * {@code exactly_once_v2} (this used to fail at store init with a NullPointerException): a processor
 * using MmapStores initialises, processes, commits, and its stores reopen at the commit.
 */
class MockProcessorContextExactlyOnceTest {
    static final TopicPartition CHANGELOG = new TopicPartition("changelog", 0);

    @TempDir
    Path stateDir;

    /** Counts records per key, in a key-value store and per minute in a window store; forwards the count. */
    static final class CountingProcessor implements Processor<String, String, String, Long> {
        private ProcessorContext<String, Long> context;
        private KeyValueStore<String, Long> counts;
        private WindowStore<String, Long> perMinute;

        @Override
        public void init(ProcessorContext<String, Long> context) {
            this.context = context;
            this.counts = context.getStateStore("counts");
            this.perMinute = context.getStateStore("per-minute");
        }

        @Override
        public void process(Record<String, String> record) {
            Long old = counts.get(record.key());
            long next = old == null ? 1 : old + 1;
            counts.put(record.key(), next);
            long minute = record.timestamp() - record.timestamp() % 60_000L;
            Long inMinute = perMinute.fetch(record.key(), minute);
            perMinute.put(record.key(), inMinute == null ? 1 : inMinute + 1, minute);
            context.forward(record.withValue(next));
        }
    }

    private MockProcessorContext<String, Long> context(boolean transactional) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "eos-unit");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put("mmapstore.fsync", "false");
        if (transactional) {
            props.put(IsolationFixture.TRANSACTIONAL, "true");
        }
        return new MockProcessorContext<>(props, new TaskId(0, 0), stateDir.toFile());
    }

    private KeyValueStore<String, Long> counts(MockProcessorContext<String, Long> ctx) {
        KeyValueStore<String, Long> store = Stores.keyValueStoreBuilder(MmapStores.persistentKeyValueStore("counts"),
                Serdes.String(), Serdes.Long()).withCachingDisabled().withLoggingDisabled().build();
        store.init(ctx.getStateStoreContext(), store);
        ctx.addStateStore(store);
        return store;
    }

    private WindowStore<String, Long> perMinute(MockProcessorContext<String, Long> ctx) {
        WindowStore<String, Long> store = Stores.windowStoreBuilder(MmapStores.persistentWindowStore("per-minute",
                Duration.ofHours(1), Duration.ofMinutes(1), false), Serdes.String(), Serdes.Long())
                .withCachingDisabled().withLoggingDisabled().build();
        store.init(ctx.getStateStoreContext(), store);
        ctx.addStateStore(store);
        return store;
    }

    @ParameterizedTest(name = "enable.transactional.statestores={0}")
    @ValueSource(booleans = {false, true})
    void processorWithMmapStoresUnderExactlyOnce(boolean transactional) {
        MockProcessorContext<String, Long> ctx = context(transactional);
        KeyValueStore<String, Long> counts = counts(ctx);
        WindowStore<String, Long> perMinute = perMinute(ctx);
        CountingProcessor processor = new CountingProcessor();
        processor.init(ctx);

        for (String key : List.of("a", "b", "a", "a")) {
            ctx.setRecordMetadata("input", 0, ctx.forwarded().size());
            processor.process(new Record<>(key, "x", 61_000L));
        }
        assertThat(ctx.forwarded().stream().map(f -> (Object) f.record().value()).toList()).containsExactly(1L, 1L, 2L, 3L);
        assertThat(counts.get("a")).isEqualTo(3L);
        assertThat(perMinute.fetch("a", 60_000L)).isEqualTo(3L);

        // what Kafka does at a commit: the processor asks, the task commits the stores with changelog offsets
        ctx.commit();
        assertThat(ctx.committed()).isTrue();
        counts.commit(Map.of(CHANGELOG, 3L));
        perMinute.commit(Map.of(CHANGELOG, 3L));
        assertThat(counts.committedOffset(CHANGELOG)).isEqualTo(3L);
        assertThat(counts.approximateNumUncommittedBytes()).isZero();

        processor.process(new Record<>("a", "x", 62_000L)); // after the commit
        assertThat(counts.get("a")).isEqualTo(4L);
        assertThat(counts.readOnly(IsolationLevel.READ_COMMITTED).get("a")).isEqualTo(3L);
        assertThat(perMinute.readOnly(IsolationLevel.READ_COMMITTED).fetch("a", 60_000L)).isEqualTo(3L);
        if (transactional) {
            assertThat(counts.approximateNumUncommittedBytes()).isEqualTo(1 + 8);
        } else {
            assertThat(counts.approximateNumUncommittedBytes()).isZero();
        }
        counts.close();
        perMinute.close();

        // a new "task" on the same directory: the stores are at the commit, the later write is gone
        MockProcessorContext<String, Long> again = context(transactional);
        KeyValueStore<String, Long> reopened = counts(again);
        WindowStore<String, Long> reopenedWindows = perMinute(again);
        try {
            assertThat(reopened.committedOffset(CHANGELOG)).isEqualTo(3L);
            assertThat(reopened.get("a")).isEqualTo(3L);
            assertThat(reopened.get("b")).isEqualTo(1L);
            assertThat(reopenedWindows.fetch("a", 60_000L)).isEqualTo(3L);
        } finally {
            reopened.close();
            reopenedWindows.close();
        }
    }
}
