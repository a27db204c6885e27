package io.github.mmapstore.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mmapstore.streams.MmapStores;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.query.KeyQuery;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.query.RangeQuery;
import org.apache.kafka.streams.query.StateQueryRequest;
import org.apache.kafka.streams.query.WindowKeyQuery;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.apache.kafka.streams.state.WindowBytesStoreSupplier;
import org.apache.kafka.streams.state.WindowStoreIterator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Committed reads through a real Kafka Streams on a real broker (Kafka 4.4: {@code default.interactive.query.isolation.level},
 * {@code StateQueryRequest.withIsolationLevel}, {@code ReadOnlyKeyValueStore.readOnly(IsolationLevel)}). An in-process
 * application (exactly_once_v2, {@code commit.interval.ms=60000}, caching off, one input partition) materializes its input
 * into three DSL stores: {@code kv} (a table of the latest value per key, timestamped key-value store), {@code win} (the
 * same in 5-minute windows, timestamped window store) and {@code plain} (a store of plain values under a DSL table, which
 * Kafka wraps in its timestamped adapter). A gate processor commits on a {@code COMMIT} marker and, on a {@code BLOCK}
 * marker, holds the stream thread until the test releases it, then commits: batch A ends with {@code COMMIT}, batch B
 * (new keys and new values for some of A's) with {@code BLOCK}, so while the thread is held B's writes are in the stores
 * and not committed.
 *
 * <p>While held, the test reads through IQv2 ({@code KeyQuery}, {@code RangeQuery}, {@code WindowKeyQuery}, with an explicit
 * level and with the application's default) and IQv1 ({@code KafkaStreams.store} at the default level and through
 * {@code readOnly(level)}). Asserted where the store gives committed reads (MmapStore with the flag on or off, Kafka's RocksDB
 * store with the flag on): a READ_COMMITTED read sees exactly batch A, a READ_UNCOMMITTED read sees A and B; after the
 * release, READ_COMMITTED reads see B once, and not before, the group has committed B's input offsets. Recorded, not
 * asserted: reads through Kafka's adapters that drop the level (IQv1 through the plain {@code keyValueStore()} /
 * {@code windowStore()} types of a timestamped store, IQv1 of a plain store under a DSL table), and the RocksDB store with
 * the flag off. Each case runs with the application's default level set to READ_COMMITTED or READ_UNCOMMITTED.
 *
 * <p>Kafka 4.4 only (not compiled on 4.3). Summary: {@code target/it-summary-isolation.md}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IsolationIT {
    static final Map<String, Gate> GATES = new ConcurrentHashMap<>();
    static final Duration WINDOW = Duration.ofMinutes(5);
    /**
     * {@code -Dit.isolation.plantedFault=true}: expect READ_COMMITTED reads to see the uncommitted batch, as a store without
     * committed reads would show it; every case where the store isolates must then fail (a check of the check).
     */
    static final boolean PLANTED_FAULT = Boolean.getBoolean("it.isolation.plantedFault");

    static final class Gate {
        final CountDownLatch blocked = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        volatile boolean releasedAfterTimeout;
    }

    /** Commits on {@code COMMIT}; on {@code BLOCK} holds the stream thread until released, then commits. */
    static final class GateProcessor implements Processor<String, String, Void, Void> {
        private ProcessorContext<Void, Void> context;
        private Gate gate;

        @Override
        public void init(ProcessorContext<Void, Void> context) {
            this.context = context;
            this.gate = GATES.get(context.applicationId());
        }

        @Override
        public void process(Record<String, String> record) {
            if ("COMMIT".equals(record.value())) {
                context.commit();
            } else if ("BLOCK".equals(record.value()) && gate.blocked.getCount() > 0) {
                gate.blocked.countDown();
                try {
                    // well inside the transaction timeout (120 s here)
                    gate.releasedAfterTimeout = !gate.release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                context.commit();
            }
        }
    }

    private final Path outDir = Path.of(System.getProperty("it.summary.dir", "target"));
    private final List<String> report = Collections.synchronizedList(new ArrayList<>());
    private KafkaCluster cluster;

    @BeforeAll
    void startCluster() throws Exception {
        cluster = KafkaCluster.shared();
    }

    @AfterAll
    void writeSummary() throws Exception {
        StringBuilder md = new StringBuilder("# Integration test summary: isolation levels of Interactive Queries\n\n");
        md.append("- Kafka Streams ").append(ItSupport.kafkaVersion("streams")).append(", exactly_once_v2, commit.interval.ms=60000, "
                + "one input partition; while the stream thread is held after batch B, every read is classified as seeing `A` "
                + "(the committed state: batch A only), `A+B` (B's uncommitted writes too) or `other`\n");
        md.append("- `expect`: what the contract says (READ_COMMITTED -> A, READ_UNCOMMITTED -> A+B); `-` = recorded only\n\n");
        md.append("| store | transactional | default level | read | level asked | saw while held | expect | result |\n");
        md.append("|---|---|---|---|---|---|---|---|\n");
        report.forEach(md::append);
        Files.createDirectories(outDir);
        Files.writeString(outDir.resolve("it-summary-isolation.md"), md);
        System.out.println(md);
        // the shared cluster stays up for the next class (closed at JVM exit)
    }

    /** One read of the held state: what it returned for the batch keys (key -> value; absent keys left out). */
    record Read(String name, String level, boolean asserted, Supplier<Map<String, String>> read) {
    }

    @ParameterizedTest(name = "{0} transactional={1} default={2}")
    @CsvSource({
            "mmap, true, READ_COMMITTED",
            "mmap, true, READ_UNCOMMITTED",
            "rocksdb, true, READ_COMMITTED",
            "rocksdb, true, READ_UNCOMMITTED",
            "mmap, false, READ_COMMITTED",
            "rocksdb, false, READ_COMMITTED"})
    void uncommittedWritesAreInvisibleToCommittedReads(String storeKind, boolean txn, IsolationLevel defaultLevel) throws Exception {
        String sc = "isolation-" + storeKind + "-" + (txn ? "txn" : "off") + "-" + (defaultLevel == IsolationLevel.READ_COMMITTED ? "rc" : "ru");
        String input = "t-" + sc + "-input";
        cluster.createTopics(1, List.of(input));
        Path stateDir = outDir.resolve("it-work").resolve(sc);
        ItSupport.deleteRecursively(stateDir);
        Gate gate = new Gate();
        GATES.put(sc, gate);
        // committed reads are the contract for MmapStore whatever the flag, and for Kafka's RocksDB store with it on
        boolean isolates = txn || storeKind.equals("mmap");

        Serde<String> s = Serdes.String();
        StreamsBuilder b = new StreamsBuilder();
        KStream<String, String> in = b.stream(input, Consumed.with(s, s));
        in.process(GateProcessor::new);
        in.groupByKey(Grouped.with(s, s)).reduce((old, v) -> v,
                Materialized.<String, String>as(kvSupplier(storeKind, "kv", true)).withKeySerde(s).withValueSerde(s).withCachingDisabled());
        in.groupByKey(Grouped.with(s, s)).reduce((old, v) -> v,
                Materialized.<String, String>as(kvSupplier(storeKind, "plain", false)).withKeySerde(s).withValueSerde(s).withCachingDisabled());
        in.groupByKey(Grouped.with(s, s)).windowedBy(TimeWindows.ofSizeWithNoGrace(WINDOW)).reduce((old, v) -> v,
                Materialized.<String, String>as(windowSupplier(storeKind)).withKeySerde(s).withValueSerde(s).withCachingDisabled());
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, sc);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toAbsolutePath().toString());
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 60_000);
        p.put(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG), 120_000);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0L);
        p.put(StreamsConfig.TRANSACTIONAL_STATE_STORES_CONFIG, txn);
        p.put(StreamsConfig.DEFAULT_INTERACTIVE_QUERY_ISOLATION_LEVEL_CONFIG, defaultLevel.name());
        p.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");

        long t = System.currentTimeMillis();
        Map<String, String> batchA = new TreeMap<>();
        Map<String, String> batchAB = new TreeMap<>();
        for (int i = 0; i < 5; i++) {
            batchA.put("a" + i, "A");
            batchA.put("u" + i, "A");
        }
        batchAB.putAll(batchA);
        for (int i = 0; i < 5; i++) {
            batchAB.put("b" + i, "B");
            batchAB.put("u" + i, "B");
        }
        List<String> failures = new ArrayList<>();
        try (KafkaStreams streams = new KafkaStreams(b.build(), p);
             KafkaProducer<String, String> producer = ItSupport.producer(cluster)) {
            streams.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (streams.state() != KafkaStreams.State.RUNNING && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(streams.state()).as("state 60 s after start").isEqualTo(KafkaStreams.State.RUNNING);

            // batch A, committed by its marker
            long aEnd = send(producer, input, t, batchA, "COMMIT");
            assertThat(waitCommitted(sc, new TopicPartition(input, 0), aEnd + 1, Duration.ofSeconds(60)))
                    .as("batch A committed by the group").isTrue();
            // batch B, then the thread is held with B's writes in the stores
            Map<String, String> onlyB = new TreeMap<>();
            batchAB.forEach((k, v) -> {
                if (!v.equals(batchA.get(k))) {
                    onlyB.put(k, v);
                }
            });
            long bEnd = send(producer, input, t, onlyB, "BLOCK");
            assertThat(gate.blocked.await(60, TimeUnit.SECONDS)).as("the stream thread reached the BLOCK marker").isTrue();

            List<Read> reads = reads(streams, storeKind, txn, t, batchAB.keySet());
            try {
                for (int round = 0; round < 3; round++) {
                    for (Read r : reads) {
                        Map<String, String> got = r.read().get();
                        String saw = got.equals(batchA) ? "A" : got.equals(batchAB) ? "A+B" : "other " + got;
                        String effective = r.level().equals("default") ? defaultLevel.name() : r.level();
                        String expect = !r.asserted() ? "-" : !isolates ? "-"
                                : effective.equals(IsolationLevel.READ_COMMITTED.name()) && !PLANTED_FAULT ? "A" : "A+B";
                        if (!expect.equals("-") && !expect.equals(saw)) {
                            failures.add(r.name() + " at " + r.level() + " (round " + round + "): saw " + saw + ", expected " + expect);
                        }
                        if (round == 0) {
                            report.add("| " + storeKind + " | " + txn + " | " + defaultLevel + " | " + r.name() + " | " + r.level()
                                    + " | " + saw + " | " + expect + " | " + (expect.equals("-") || expect.equals(saw) ? "ok" : "FAIL") + " |\n");
                        }
                    }
                    Thread.sleep(200);
                }
                assertThat(gate.blocked.getCount()).isZero();
                assertThat(gate.release.getCount()).as("the thread is still held: these were reads of uncommitted writes").isEqualTo(1);
            } finally {
                gate.release.countDown();
            }

            if (isolates) {
                // after the release the gate commits; without transactional stores MmapStore commits itself at the
                // first write after Kafka's commit, so one more record follows
                if (!txn) {
                    send(producer, input, t, Map.of(), "AFTER");
                }
                Read committedKv = reads.get(0);
                long seenAt = -1;
                Long committedWhenSeen = null;
                long t0 = System.nanoTime();
                while (System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(30)) {
                    Map<String, String> got = committedKv.read().get();
                    if (got.equals(batchAB)) {
                        committedWhenSeen = committedOffset(sc, new TopicPartition(input, 0));
                        seenAt = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                        break;
                    }
                    Thread.sleep(20);
                }
                report.add("| " + storeKind + " | " + txn + " | " + defaultLevel + " | after the release: " + committedKv.name()
                        + " | READ_COMMITTED | A+B after " + seenAt + " ms, group committed offset then " + committedWhenSeen
                        + " (B ends at " + bEnd + ") | A+B once committed | "
                        + (seenAt >= 0 && committedWhenSeen != null && committedWhenSeen > bEnd ? "ok" : "FAIL") + " |\n");
                if (seenAt < 0) {
                    failures.add("READ_COMMITTED never saw batch B within 30 s of its commit");
                } else if (committedWhenSeen == null || committedWhenSeen <= bEnd) {
                    failures.add("READ_COMMITTED saw batch B before the group committed it (committed offset " + committedWhenSeen
                            + ", B ends at " + bEnd + ")");
                }
                // every asserted committed read now sees B
                for (Read r : reads) {
                    String effective = r.level().equals("default") ? defaultLevel.name() : r.level();
                    if (r.asserted() && effective.equals(IsolationLevel.READ_COMMITTED.name())) {
                        Map<String, String> got = r.read().get();
                        if (!got.equals(batchAB)) {
                            failures.add("after the commit, " + r.name() + " at " + r.level() + " saw " + got);
                        }
                    }
                }
            }
            assertThat(gate.releasedAfterTimeout).as("the gate was released by the test, not by its timeout").isFalse();
        } finally {
            gate.release.countDown();
            GATES.remove(sc);
        }
        System.out.println("isolation " + sc + ": " + (failures.isEmpty() ? "PASS" : "FAIL " + failures));
        assertThat(failures).as("isolation of " + sc).isEmpty();
    }

    private static KeyValueBytesStoreSupplier kvSupplier(String storeKind, String name, boolean timestamped) {
        if (storeKind.equals("mmap")) {
            return timestamped ? MmapStores.persistentTimestampedKeyValueStore(name) : MmapStores.persistentKeyValueStore(name);
        }
        return timestamped ? Stores.persistentTimestampedKeyValueStore(name) : Stores.persistentKeyValueStore(name);
    }

    private static WindowBytesStoreSupplier windowSupplier(String storeKind) {
        return storeKind.equals("mmap")
                ? MmapStores.persistentTimestampedWindowStore("win", Duration.ofHours(1), WINDOW, false)
                : Stores.persistentTimestampedWindowStore("win", Duration.ofHours(1), WINDOW, false);
    }

    /** Sends the batch and a marker, all at timestamp {@code t}; returns the marker's offset. */
    private static long send(KafkaProducer<String, String> producer, String topic, long t, Map<String, String> batch, String marker)
            throws Exception {
        for (Map.Entry<String, String> e : batch.entrySet()) {
            producer.send(new ProducerRecord<>(topic, 0, t, e.getKey(), e.getValue()));
        }
        RecordMetadata m = producer.send(new ProducerRecord<>(topic, 0, t, "m", marker)).get(30, TimeUnit.SECONDS);
        producer.flush();
        return m.offset();
    }

    /**
     * The reads compared while the thread is held. The first is the IQv2 key query at READ_COMMITTED (also used to wait
     * for the commit after the release).
     */
    private static List<Read> reads(KafkaStreams streams, String storeKind, boolean txn, long t, Set<String> keys) {
        List<Read> reads = new ArrayList<>();
        IsolationLevel rc = IsolationLevel.READ_COMMITTED;
        IsolationLevel ru = IsolationLevel.READ_UNCOMMITTED;
        reads.add(new Read("IQv2 KeyQuery kv", rc.name(), true, () -> iq2Keys(streams, "kv", keys, rc)));
        for (IsolationLevel level : new IsolationLevel[] {ru, null}) {
            reads.add(new Read("IQv2 KeyQuery kv", name(level), true, () -> iq2Keys(streams, "kv", keys, level)));
        }
        for (IsolationLevel level : new IsolationLevel[] {rc, ru, null}) {
            reads.add(new Read("IQv2 RangeQuery kv", name(level), true, () -> iq2Range(streams, "kv", level)));
            reads.add(new Read("IQv2 WindowKeyQuery win", name(level), true, () -> iq2Window(streams, keys, t, level)));
            // Kafka's timestamped adapter over a plain store passes the query config through to the store
            reads.add(new Read("IQv2 KeyQuery plain (store of plain values under a DSL table)", name(level), true,
                    () -> iq2Keys(streams, "plain", keys, level)));
        }
        // IQv1: the default level, and readOnly(level) on what KafkaStreams.store returns
        reads.add(new Read("IQv1 timestampedKeyValueStore() kv get", "default", true,
                () -> iq1Kv(streams, "kv", keys, null, false)));
        reads.add(new Read("IQv1 timestampedKeyValueStore() kv all()", "default", true,
                () -> iq1All(streams, "kv", null)));
        reads.add(new Read("IQv1 timestampedWindowStore() win fetch", "default", true,
                () -> iq1Window(streams, keys, t, null, false)));
        for (IsolationLevel level : new IsolationLevel[] {rc, ru}) {
            reads.add(new Read("IQv1 timestampedKeyValueStore() kv readOnly(level).get", level.name(), true,
                    () -> iq1Kv(streams, "kv", keys, level, false)));
            reads.add(new Read("IQv1 timestampedKeyValueStore() kv readOnly(level).all()", level.name(), true,
                    () -> iq1All(streams, "kv", level)));
            reads.add(new Read("IQv1 timestampedWindowStore() win readOnly(level).fetch", level.name(), true,
                    () -> iq1Window(streams, keys, t, level, false)));
        }
        // recorded only: where Kafka's own wrappers do not pass the level on
        reads.add(new Read("IQv1 keyValueStore() kv get (Kafka's facade over a timestamped store)", "default", false,
                () -> iq1Kv(streams, "kv", keys, null, true)));
        reads.add(new Read("IQv1 keyValueStore() kv readOnly(level).get (Kafka's facade)", rc.name(), false,
                () -> iq1Kv(streams, "kv", keys, rc, true)));
        reads.add(new Read("IQv1 windowStore() win readOnly(level).fetch (Kafka's facade)", rc.name(), false,
                () -> iq1Window(streams, keys, t, rc, true)));
        reads.add(new Read("IQv1 timestampedKeyValueStore() plain readOnly(level).get (Kafka's adapter over a plain store)", rc.name(),
                false, () -> iq1Kv(streams, "plain", keys, rc, false)));
        return reads;
    }

    private static String name(IsolationLevel level) {
        return level == null ? "default" : level.name();
    }

    private static Object plain(Object v) {
        return v instanceof ValueAndTimestamp<?> vt ? vt.value() : v;
    }

    private static <R> R iq2(KafkaStreams streams, StateQueryRequest<R> request, IsolationLevel level) {
        StateQueryRequest<R> req = request.withPartitions(Set.of(0));
        if (level != null) {
            req = req.withIsolationLevel(level);
        }
        QueryResult<R> r = streams.query(req).getPartitionResults().get(0);
        if (r == null || !r.isSuccess()) {
            throw new AssertionError("IQv2 " + request.getQuery() + " failed: "
                    + (r == null ? "no result" : r.getFailureReason() + " " + r.getFailureMessage()));
        }
        return r.getResult();
    }

    private static Map<String, String> iq2Keys(KafkaStreams streams, String store, Set<String> keys, IsolationLevel level) {
        Map<String, String> out = new TreeMap<>();
        for (String k : keys) {
            Object v = plain(iq2(streams, StateQueryRequest.inStore(store).withQuery(KeyQuery.<String, Object>withKey(k)), level));
            if (v != null) {
                out.put(k, v.toString());
            }
        }
        return out;
    }

    private static Map<String, String> iq2Range(KafkaStreams streams, String store, IsolationLevel level) {
        Map<String, String> out = new TreeMap<>();
        try (KeyValueIterator<String, Object> it = iq2(streams,
                StateQueryRequest.inStore(store).withQuery(RangeQuery.<String, Object>withNoBounds()), level)) {
            it.forEachRemaining(kv -> put(out, kv.key, plain(kv.value)));
        }
        return out;
    }

    private static Map<String, String> iq2Window(KafkaStreams streams, Set<String> keys, long t, IsolationLevel level) {
        Map<String, String> out = new TreeMap<>();
        for (String k : keys) {
            try (WindowStoreIterator<Object> it = iq2(streams, StateQueryRequest.inStore("win").withQuery(
                    WindowKeyQuery.<String, Object>withKeyAndWindowStartRange(k, Instant.ofEpochMilli(t).minus(WINDOW.multipliedBy(2)),
                            Instant.ofEpochMilli(t).plus(WINDOW))), level)) {
                it.forEachRemaining(kv -> put(out, k, plain(kv.value)));
            }
        }
        return out;
    }

    private static void put(Map<String, String> out, String key, Object value) {
        if (!key.equals("m") && value != null) {
            out.put(key, value.toString());
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static ReadOnlyKeyValueStore<String, Object> iq1KvStore(KafkaStreams streams, String store, IsolationLevel level,
            boolean plainType) {
        ReadOnlyKeyValueStore s = plainType
                ? streams.store(StoreQueryParameters.fromNameAndType(store, QueryableStoreTypes.<String, String>keyValueStore()))
                : streams.store(StoreQueryParameters.fromNameAndType(store, QueryableStoreTypes.<String, String>timestampedKeyValueStore()));
        return level == null ? s : s.readOnly(level);
    }

    private static Map<String, String> iq1Kv(KafkaStreams streams, String store, Set<String> keys, IsolationLevel level,
            boolean plainType) {
        ReadOnlyKeyValueStore<String, Object> s = iq1KvStore(streams, store, level, plainType);
        Map<String, String> out = new TreeMap<>();
        for (String k : keys) {
            put(out, k, plain(s.get(k)));
        }
        return out;
    }

    private static Map<String, String> iq1All(KafkaStreams streams, String store, IsolationLevel level) {
        Map<String, String> out = new TreeMap<>();
        try (KeyValueIterator<String, Object> it = iq1KvStore(streams, store, level, false).all()) {
            it.forEachRemaining(kv -> put(out, kv.key, plain(kv.value)));
        }
        return out;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Map<String, String> iq1Window(KafkaStreams streams, Set<String> keys, long t, IsolationLevel level, boolean plainType) {
        ReadOnlyWindowStore s = plainType
                ? streams.store(StoreQueryParameters.fromNameAndType("win", QueryableStoreTypes.<String, String>windowStore()))
                : streams.store(StoreQueryParameters.fromNameAndType("win", QueryableStoreTypes.<String, String>timestampedWindowStore()));
        ReadOnlyWindowStore<String, Object> view = level == null ? s : s.readOnly(level);
        Map<String, String> out = new TreeMap<>();
        for (String k : keys) {
            try (WindowStoreIterator<Object> it = view.fetch(k, Instant.ofEpochMilli(t).minus(WINDOW.multipliedBy(2)),
                    Instant.ofEpochMilli(t).plus(WINDOW))) {
                it.forEachRemaining((KeyValue<Long, Object> kv) -> put(out, k, plain(kv.value)));
            }
        }
        return out;
    }

    private boolean waitCommitted(String group, TopicPartition tp, long offset, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Long c = committedOffset(group, tp);
            if (c != null && c >= offset) {
                return true;
            }
            Thread.sleep(50);
        }
        return false;
    }

    private Long committedOffset(String group, TopicPartition tp) throws Exception {
        try (Admin admin = cluster.admin()) {
            Map<TopicPartition, OffsetAndMetadata> m = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()
                    .get(30, TimeUnit.SECONDS);
            OffsetAndMetadata o = m.get(tp);
            return o == null ? null : o.offset();
        }
    }
}
