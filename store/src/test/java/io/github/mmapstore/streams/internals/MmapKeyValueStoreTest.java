package io.github.mmapstore.streams.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.processor.StateRestoreCallback;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.internals.RecordBatchingStateRestoreCallback;
import org.apache.kafka.streams.query.KeyQuery;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.query.RangeQuery;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Store-level behaviour Kafka's conformance suite does not cover: offsets, crashes, restore, IQv2, metrics. */
class MmapKeyValueStoreTest {
    private static final TopicPartition CHANGELOG = new TopicPartition("app-store-changelog", 0);

    @TempDir
    Path stateDir;

    private final List<MmapKeyValueStore> opened = new ArrayList<>();
    private MockProcessorContext<Object, Object> context;
    private StateRestoreCallback restoreCallback;

    @AfterEach
    void closeAll() {
        for (MmapKeyValueStore s : opened) {
            s.close();
        }
    }

    private MmapKeyValueStore open(String guarantee, Map<String, Object> extra) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "app");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
        props.put("mmapstore.fsync", "false");
        props.putAll(extra);
        context = new MockProcessorContext<>(props, new TaskId(0, 0), stateDir.toFile());
        context.setRecordMetadata("input", 0, 0);
        StateStoreContext ssc = new DelegatingContext(context.getStateStoreContext()) {
            @Override
            public void register(StateStore store, StateRestoreCallback cb, org.apache.kafka.streams.processor.CommitCallback commit) {
                restoreCallback = cb;
                super.register(store, cb, commit);
            }
        };
        MmapKeyValueStore store = new MmapKeyValueStore("store", "mmapstore");
        store.init(ssc, store);
        opened.add(store);
        return store;
    }

    private MmapKeyValueStore open() {
        return open(StreamsConfig.AT_LEAST_ONCE, Map.of());
    }

    static Bytes k(String s) {
        return Bytes.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] v(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static List<String> contents(MmapKeyValueStore store) {
        List<String> out = new ArrayList<>();
        try (KeyValueIterator<Bytes, byte[]> it = store.all()) {
            while (it.hasNext()) {
                KeyValue<Bytes, byte[]> kv = it.next();
                out.add(new String(kv.key.get(), StandardCharsets.UTF_8) + "=" + new String(kv.value, StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    @Test
    void crashReopensAtLastCommitUnderExactlyOnce() {
        MmapKeyValueStore store = open(StreamsConfig.EXACTLY_ONCE_V2, Map.of());
        assertThat(store.managesOffsets()).isTrue();
        assertThat(store.committedOffset(CHANGELOG)).isNull();
        store.put(k("a"), v("1"));
        store.put(k("b"), v("2"));
        store.commit(Map.of(CHANGELOG, 41L));
        store.put(k("a"), v("uncommitted"));
        store.delete(k("b"));
        store.put(k("c"), v("3"));
        store.simulateCrash();

        MmapKeyValueStore reopened = open(StreamsConfig.EXACTLY_ONCE_V2, Map.of());
        // Kafka throws TaskCorruptedException (wipe + full restore) only when this is null under EOS.
        assertThat(reopened.committedOffset(CHANGELOG)).isEqualTo(41L);
        assertThat(contents(reopened)).containsExactly("a=1", "b=2");
    }

    @Test
    void crashManyTimesAcrossFlushes() {
        Map<String, Object> tiny = Map.of("mmapstore.memtable.bytes", "4096");
        MmapKeyValueStore store = open(StreamsConfig.EXACTLY_ONCE_V2, tiny);
        List<String> expected = new ArrayList<>();
        long offset = 0;
        for (int round = 0; round < 5; round++) {
            for (int i = 0; i < 300; i++) {
                store.put(k(String.format("k%03d", i)), v("r" + round));
            }
            store.commit(Map.of(CHANGELOG, offset += 300));
            for (int i = 0; i < 300; i += 2) {
                store.put(k(String.format("k%03d", i)), v("lost"));
            }
            store.simulateCrash();
            store = open(StreamsConfig.EXACTLY_ONCE_V2, tiny);
            assertThat(store.committedOffset(CHANGELOG)).isEqualTo(offset);
            expected.clear();
            for (int i = 0; i < 300; i++) {
                expected.add(String.format("k%03d", i) + "=r" + round);
            }
            assertThat(contents(store)).containsExactlyElementsOf(expected);
        }
    }

    @Test
    void offsetsFollowTheCommitContract() {
        TopicPartition other = new TopicPartition("other-changelog", 3);
        MmapKeyValueStore store = open();
        store.commit(Map.of(CHANGELOG, -4L));
        assertThat(store.committedOffset(CHANGELOG)).isEqualTo(-4L);
        store.commit(Map.of(CHANGELOG, 7L, other, 9L));
        java.util.HashMap<TopicPartition, Long> removeOne = new java.util.HashMap<>();
        removeOne.put(other, null);
        store.commit(removeOne);
        assertThat(store.committedOffset(CHANGELOG)).isEqualTo(7L);
        assertThat(store.committedOffset(other)).isNull();
        store.close();
        store = open();
        assertThat(store.committedOffset(CHANGELOG)).isEqualTo(7L);
        store.commit(Map.of());
        assertThat(store.committedOffset(CHANGELOG)).isNull();
        store.close();
        store = open();
        assertThat(store.committedOffset(CHANGELOG)).isNull();
    }

    @Test
    void restoreBatchesAndCommitsItselfDuringLongRestores() {
        MmapKeyValueStore store = open(StreamsConfig.EXACTLY_ONCE_V2, Map.of("mmapstore.restore.commit.bytes", "1000"));
        RecordBatchingStateRestoreCallback cb = (RecordBatchingStateRestoreCallback) restoreCallback;
        List<ConsumerRecord<byte[], byte[]>> batch = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            batch.add(new ConsumerRecord<>(CHANGELOG.topic(), CHANGELOG.partition(), 1000 + i, k("key" + i).get(), v("value-" + i)));
        }
        batch.add(new ConsumerRecord<>(CHANGELOG.topic(), CHANGELOG.partition(), 1100, k("key5").get(), null));
        cb.restoreBatch(batch);
        assertThat(store.get(k("key5"))).isNull();
        assertThat(store.get(k("key6"))).isEqualTo(v("value-6"));
        // more than restore.commit.bytes were applied: the store committed the last applied offset itself
        assertThat(store.committedOffset(CHANGELOG)).isEqualTo(1100L);
        store.simulateCrash();
        store = open(StreamsConfig.EXACTLY_ONCE_V2, Map.of());
        assertThat(store.committedOffset(CHANGELOG)).isEqualTo(1100L);
        assertThat(contents(store)).hasSize(99);
    }

    @Test
    void positionIsTrackedPersistedAndHonoured() {
        MmapKeyValueStore store = open();
        context.setRecordMetadata("input", 0, 17);
        store.put(k("a"), v("1"));
        context.setRecordMetadata("input", 0, 18);
        store.put(k("b"), v("2"));
        Position expected = Position.emptyPosition().withComponent("input", 0, 18);
        assertThat(store.getPosition()).isEqualTo(expected);

        QueryResult<byte[]> hit = store.query(KeyQuery.withKey(k("a")), PositionBound.at(expected), new QueryConfig(false));
        assertThat(hit.isSuccess()).isTrue();
        assertThat(hit.getResult()).isEqualTo(v("1"));

        Position ahead = Position.emptyPosition().withComponent("input", 0, 19);
        QueryResult<byte[]> behind = store.query(KeyQuery.withKey(k("a")), PositionBound.at(ahead), new QueryConfig(false));
        assertThat(behind.isFailure()).isTrue();
        assertThat(behind.getFailureReason()).isEqualTo(org.apache.kafka.streams.query.FailureReason.NOT_UP_TO_BOUND);

        QueryResult<KeyValueIterator<Bytes, byte[]>> range = store.query(
                RangeQuery.<Bytes, byte[]>withNoBounds().withDescendingKeys(), PositionBound.unbounded(), new QueryConfig(false));
        List<String> keys = new ArrayList<>();
        try (KeyValueIterator<Bytes, byte[]> it = range.getResult()) {
            it.forEachRemaining(kv -> keys.add(new String(kv.key.get(), StandardCharsets.UTF_8)));
        }
        assertThat(keys).containsExactly("b", "a");

        store.commit(Map.of(CHANGELOG, 1L));
        store.close();
        store = open();
        assertThat(store.getPosition()).isEqualTo(expected);
    }

    @Test
    void queriesFromOtherThreadsDuringWritesSeeConsistentSnapshots() throws Exception {
        MmapKeyValueStore store = open(StreamsConfig.AT_LEAST_ONCE, Map.of("mmapstore.memtable.bytes", "16384"));
        int keys = 200;
        for (int i = 0; i < keys; i++) {
            store.put(k(String.format("k%04d", i)), v("0"));
        }
        store.commit(Map.of(CHANGELOG, 0L));
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        CountDownLatch started = new CountDownLatch(2);
        List<Future<Long>> readers = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            readers.add(pool.submit(() -> {
                started.countDown();
                long checks = 0;
                while (!stop.get()) {
                    // Every round writes all keys with the same value, in key order. A snapshot therefore
                    // sees a non-increasing sequence of rounds in key order, never a hole.
                    QueryResult<KeyValueIterator<Bytes, byte[]>> r = store.query(RangeQuery.withNoBounds(),
                            PositionBound.unbounded(), new QueryConfig(false));
                    if (!r.isSuccess()) {
                        continue;
                    }
                    long prev = Long.MAX_VALUE;
                    int n = 0;
                    try (KeyValueIterator<Bytes, byte[]> it = r.getResult()) {
                        while (it.hasNext()) {
                            long round = Long.parseLong(new String(it.next().value, StandardCharsets.UTF_8));
                            if (round > prev) {
                                throw new AssertionError("snapshot mixes rounds: " + round + " after " + prev);
                            }
                            prev = round;
                            n++;
                        }
                    }
                    if (n != keys) {
                        throw new AssertionError("snapshot has " + n + " keys");
                    }
                    checks++;
                }
                return checks;
            }));
        }
        started.await();
        for (int round = 1; round < 150; round++) {
            for (int i = 0; i < keys; i++) {
                store.put(k(String.format("k%04d", i)), v(Integer.toString(round)));
            }
            if (round % 10 == 9) {
                store.commit(Map.of(CHANGELOG, (long) round));
            }
        }
        stop.set(true);
        long total = 0;
        for (Future<Long> f : readers) {
            total += f.get(30, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertThat(total).isPositive();
    }

    @Test
    void closedStoreAndItsIteratorsThrowKafkasException() {
        MmapKeyValueStore store = open();
        store.put(k("a"), v("1"));
        KeyValueIterator<Bytes, byte[]> it = store.all();
        store.close();
        assertThat(store.isOpen()).isFalse();
        assertThatThrownBy(it::hasNext).isInstanceOf(InvalidStateStoreException.class);
        assertThatThrownBy(() -> store.get(k("a"))).isInstanceOf(InvalidStateStoreException.class);
        assertThatThrownBy(() -> store.put(k("a"), v("2"))).isInstanceOf(InvalidStateStoreException.class);
        store.close(); // idempotent
    }

    @Test
    void oversizedValueIsRefusedAndChangesNothing() {
        MmapKeyValueStore store = open(StreamsConfig.AT_LEAST_ONCE, Map.of("mmapstore.max.value.bytes", "8"));
        store.put(k("a"), v("small"));
        assertThatThrownBy(() -> store.put(k("a"), v("much too large"))).hasMessageContaining("exceeds the maximum");
        assertThat(store.get(k("a"))).isEqualTo(v("small"));
    }

    @Test
    void badConfigurationIsAClearError() {
        assertThatThrownBy(() -> open(StreamsConfig.AT_LEAST_ONCE, Map.of("mmapstore.memtable.bytes", "lots")))
                .hasMessageContaining("mmapstore.memtable.bytes");
    }

    @Test
    void gaugesAreRegisteredInKafkasStateMetricsGroupAndRemovedOnClose() {
        MmapKeyValueStore store = open();
        store.put(k("a"), v("1"));
        store.commit(Map.of(CHANGELOG, 1L));
        Map<MetricName, ? extends org.apache.kafka.common.Metric> metrics = context.metrics().metrics();
        MetricName live = metrics.keySet().stream()
                .filter(m -> m.name().equals("mmapstore-live-entries") && m.group().equals("stream-state-metrics"))
                .findFirst().orElseThrow();
        assertThat(live.tags()).containsEntry("mmapstore-state-id", "store").containsEntry("task-id", "0_0");
        assertThat(metrics.get(live).metricValue()).isEqualTo(1.0);
        store.close();
        assertThat(context.metrics().metrics().keySet()).noneMatch(m -> m.name().startsWith("mmapstore-"));
    }

    @Test
    void storeFilesLiveUnderTheTaskDirectory() {
        open();
        assertThat(Files.isDirectory(stateDir.resolve("mmapstore").resolve("store"))).isTrue();
    }
}
