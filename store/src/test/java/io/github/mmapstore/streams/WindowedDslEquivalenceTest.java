package io.github.mmapstore.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.EmitStrategy;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.SlidingWindows;
import org.apache.kafka.streams.kstream.StreamJoined;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.state.BuiltInDslStoreSuppliers;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlySessionStore;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Windowed and join topologies of the DSL, run through TopologyTestDriver once with Kafka's RocksDB
 * stores and once with {@code dsl.store.suppliers.class=MmapDslStoreSuppliers}, on the same seeded input
 * (out of order and late records included): every output record (key, value, timestamp) and every final
 * store state must be identical, and the MmapStore run must not create any RocksDB directory.
 */
class WindowedDslEquivalenceTest {
    private static final String EMIT_INTERVAL = "__emit.interval.ms.kstreams.windowed.aggregation__";

    @TempDir
    Path tmp;

    enum Scenario {
        TUMBLING, HOPPING, SLIDING, SESSION, SUPPRESS, EOWC_TUMBLING, EOWC_SLIDING, EOWC_SESSION,
        STREAM_STREAM_JOIN, FOREIGN_KEY_JOIN, TABLE_TABLE_JOIN
    }

    static Stream<Arguments> scenarios() {
        List<Arguments> out = new ArrayList<>();
        for (Scenario s : Scenario.values()) {
            if (System.getProperty("scenario") == null || s.name().startsWith(System.getProperty("scenario"))) {
                out.add(Arguments.of(s, true));
                out.add(Arguments.of(s, false));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} caching={1}")
    @MethodSource("scenarios")
    void sameOutputAndStateAsRocksDb(Scenario scenario, boolean caching) {
        Run rocks = run(scenario, caching, false);
        Run mmap = run(scenario, caching, true);
        assertThat(rocks.output).as("RocksDB run produced output").isNotEmpty();
        assertThat(mmap.output).as("output records of %s", scenario).containsExactlyElementsOf(rocks.output);
        if (scenario == Scenario.EOWC_TUMBLING && caching) {
            // Kafka wraps its time-ordered store in a time-ordered cache (TimeOrderedCachingWindowStore, chosen
            // by an instanceof test on a package-private RocksDB class); any other store gets the key-ordered
            // CachingWindowStore, so interactive reads of this one store iterate in key order: same content.
            assertThat(mmap.state).as("final state of %s", scenario).containsExactlyInAnyOrderElementsOf(rocks.state);
        } else {
            assertThat(mmap.state).as("final state of %s", scenario).containsExactlyElementsOf(rocks.state);
        }
    }

    record Run(List<String> output, List<String> state) {
    }

    private Run run(Scenario scenario, boolean caching, boolean mmap) {
        StreamsBuilder builder = new StreamsBuilder();
        List<String> stores = build(builder, scenario, caching);
        Properties props = new Properties();
        String appId = "app-" + scenario.name().toLowerCase().replace('_', '-');
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:1234");
        Path stateDir = tmp.resolve((mmap ? "mmap-" : "rocks-") + scenario + "-" + caching);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        props.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, caching ? 10 * 1024 * 1024 : 0);
        props.put(EMIT_INTERVAL, 0L);
        props.put(StreamsConfig.DSL_STORE_SUPPLIERS_CLASS_CONFIG,
                mmap ? MmapDslStoreSuppliers.class : BuiltInDslStoreSuppliers.RocksDBDslStoreSuppliers.class);
        List<String> output = new ArrayList<>();
        List<String> state = new ArrayList<>();
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props, Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> left = driver.createInputTopic("left", new StringSerializer(), new StringSerializer());
            TestInputTopic<String, String> right = driver.createInputTopic("right", new StringSerializer(), new StringSerializer());
            feed(scenario, left, right);
            for (String topic : driver.producedTopicNames().stream().filter(t -> t.startsWith("out")).sorted().toList()) {
                for (TestRecord<String, String> r : driver.createOutputTopic(topic, new StringDeserializer(), new StringDeserializer())
                        .readRecordsToList()) {
                    output.add(topic + " " + r.key() + " = " + r.value() + " @" + r.timestamp());
                }
            }
            for (String store : stores) {
                state.addAll(snapshot(driver, store));
            }
            // TopologyTestDriver.close() deletes the state directory: look at it now
            Path taskDir = stateDir.resolve(appId).resolve("0_0");
            if (mmap) {
                assertThat(allDirectories(stateDir)).as("directories under the state dir")
                        .noneMatch(p -> p.getFileName().toString().equals("rocksdb"));
                for (Map.Entry<String, StateStore> e : driver.getAllStateStores().entrySet()) {
                    if (e.getValue().persistent()) {
                        assertThat(new File(taskDir.toFile(), e.getKey())).as("RocksDB segments of %s", e.getKey()).doesNotExist();
                        assertThat(taskDir.resolve("mmapstore").resolve(e.getKey())).as("MmapStore directory of %s", e.getKey()).isDirectory();
                    }
                }
            } else {
                assertThat(taskDir.resolve("mmapstore")).doesNotExist();
            }
        }
        return new Run(output, state);
    }

    private static List<Path> allDirectories(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isDirectory).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static <K, V> Materialized<K, V, ?> mat(String name, boolean caching) {
        Materialized<K, V, org.apache.kafka.streams.processor.StateStore> m = Materialized.as(name);
        return caching ? m.withCachingEnabled() : m.withCachingDisabled();
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static List<String> build(StreamsBuilder b, Scenario scenario, boolean caching) {
        Consumed<String, String> c = Consumed.with(Serdes.String(), Serdes.String());
        KStream<String, String> left = b.stream("left", c);
        Produced<String, String> p = Produced.with(Serdes.String(), Serdes.String());
        TimeWindows tumbling = TimeWindows.ofSizeAndGrace(Duration.ofSeconds(10), Duration.ofSeconds(5));
        switch (scenario) {
            case TUMBLING -> left.groupByKey().windowedBy(tumbling).count((Materialized) mat("counts", caching))
                    .toStream().map((k, v) -> KeyValue.pair(w(k), String.valueOf(v))).to("out", p);
            case HOPPING -> left.groupByKey().windowedBy(tumbling.advanceBy(Duration.ofSeconds(3)))
                    .aggregate(() -> "", (k, v, agg) -> agg + v, (Materialized) mat("hops", caching))
                    .toStream().map((k, v) -> KeyValue.pair(w(k), String.valueOf(v))).to("out", p);
            case SLIDING -> left.groupByKey().windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(Duration.ofSeconds(5), Duration.ofSeconds(2)))
                    .count((Materialized) mat("sliding", caching))
                    .toStream().map((k, v) -> KeyValue.pair(w(k), String.valueOf(v))).to("out", p);
            case SESSION -> left.groupByKey().windowedBy(SessionWindows.ofInactivityGapAndGrace(Duration.ofSeconds(3), Duration.ofSeconds(2)))
                    .count((Materialized) mat("sessions", caching))
                    .toStream().map((k, v) -> KeyValue.pair(w(k), String.valueOf(v))).to("out", p);
            case SUPPRESS -> left.groupByKey().windowedBy(tumbling).count((Materialized) mat("counts", caching))
                    .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
                    .toStream().map((k, v) -> KeyValue.pair(w(k), String.valueOf(v))).to("out", p);
            case EOWC_TUMBLING -> left.groupByKey().windowedBy(tumbling.advanceBy(Duration.ofSeconds(5)))
                    .emitStrategy(EmitStrategy.onWindowClose()).count((Materialized) mat("counts", caching))
                    .toStream().map((k, v) -> KeyValue.pair(w(k), String.valueOf(v))).to("out", p);
            case EOWC_SLIDING -> left.groupByKey().windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(Duration.ofSeconds(5), Duration.ofSeconds(2)))
                    .emitStrategy(EmitStrategy.onWindowClose()).count((Materialized) mat("sliding", caching))
                    .toStream().map((k, v) -> KeyValue.pair(w(k), String.valueOf(v))).to("out", p);
            case EOWC_SESSION -> left.groupByKey().windowedBy(SessionWindows.ofInactivityGapAndGrace(Duration.ofSeconds(3), Duration.ofSeconds(2)))
                    .emitStrategy(EmitStrategy.onWindowClose()).count((Materialized) mat("sessions", caching))
                    .toStream().map((k, v) -> KeyValue.pair(w(k), String.valueOf(v))).to("out", p);
            case STREAM_STREAM_JOIN -> {
                KStream<String, String> right = b.stream("right", c);
                JoinWindows jw = JoinWindows.ofTimeDifferenceAndGrace(Duration.ofSeconds(5), Duration.ofSeconds(2));
                StreamJoined<String, String, String> sj = StreamJoined.<String, String, String>with(Serdes.String(), Serdes.String(), Serdes.String())
                        .withStoreName("ssj");
                left.join(right, (l, r) -> l + "+" + r, jw, sj).to("out-inner", p);
                left.leftJoin(right, (l, r) -> l + "+" + r, jw, sj.withStoreName("ssl")).to("out-left", p);
                left.outerJoin(right, (l, r) -> l + "+" + r, jw, sj.withStoreName("sso")).to("out-outer", p);
                return List.of();
            }
            case FOREIGN_KEY_JOIN -> {
                // left: order id -> "customer,amount"; right: customer -> name
                KTable<String, String> orders = left.toTable((Materialized) mat("orders", caching));
                KTable<String, String> customers = b.table("right", c, (Materialized) mat("customers", caching));
                orders.join(customers, v -> v.split(",")[0], (o, cu) -> o + "/" + cu, (Materialized) mat("fk", caching))
                        .toStream().to("out-inner", p);
                orders.leftJoin(customers, v -> v.split(",")[0], (o, cu) -> o + "/" + cu, (Materialized) mat("fkl", caching))
                        .toStream().to("out-left", p);
                return List.of("orders", "customers", "fk", "fkl");
            }
            case TABLE_TABLE_JOIN -> {
                KTable<String, String> l = left.toTable((Materialized) mat("lt", caching));
                KTable<String, String> r = b.table("right", c, (Materialized) mat("rt", caching));
                l.join(r, (a, x) -> a + "&" + x, (Materialized) mat("tti", caching)).toStream().to("out-inner", p);
                l.outerJoin(r, (a, x) -> a + "&" + x, (Materialized) mat("tto", caching)).toStream().to("out-outer", p);
                return List.of("lt", "rt", "tti", "tto");
            }
            default -> throw new IllegalStateException();
        }
        return switch (scenario) {
            case TUMBLING, SUPPRESS, EOWC_TUMBLING -> List.of("window:counts");
            case HOPPING -> List.of("window:hops");
            case SLIDING, EOWC_SLIDING -> List.of("window:sliding");
            case SESSION, EOWC_SESSION -> List.of("session:sessions");
            default -> List.of();
        };
    }

    private static String w(Object key) {
        Windowed<?> k = (Windowed<?>) key;
        return k.key() + "[" + k.window().start() + "," + k.window().end() + ")";
    }

    /** Seeded input: keys a..f, time moving forward in mostly small steps, some out of order, some late. */
    private static void feed(Scenario scenario, TestInputTopic<String, String> left, TestInputTopic<String, String> right) {
        Random random = new Random(42 + scenario.ordinal());
        long time = 1_000;
        boolean fk = scenario == Scenario.FOREIGN_KEY_JOIN;
        boolean twoInputs = fk || scenario == Scenario.STREAM_STREAM_JOIN || scenario == Scenario.TABLE_TABLE_JOIN;
        for (int i = 0; i < 400; i++) {
            int step = random.nextInt(10);
            time += step < 7 ? random.nextInt(700) : step < 9 ? 0 : 4_000;
            long ts = random.nextInt(10) == 0 ? Math.max(0, time - random.nextInt(20_000)) : time;
            String key = String.valueOf((char) ('a' + random.nextInt(6)));
            if (fk) {
                if (random.nextInt(3) == 0) {
                    right.pipeInput(new TestRecord<>("c" + random.nextInt(4), random.nextInt(5) == 0 ? null : "name" + i, Instant.ofEpochMilli(ts)));
                } else {
                    left.pipeInput(new TestRecord<>("o" + random.nextInt(12),
                            random.nextInt(8) == 0 ? null : "c" + random.nextInt(5) + "," + i, Instant.ofEpochMilli(ts)));
                }
            } else if (random.nextInt(3) == 0 && twoInputs) {
                right.pipeInput(new TestRecord<>(key, "r" + i, Instant.ofEpochMilli(ts)));
            } else {
                left.pipeInput(new TestRecord<>(key, "l" + i, Instant.ofEpochMilli(ts)));
            }
        }
    }

    /** Typed reads through the driver: every read the store offers, both directions. */
    private static List<String> snapshot(TopologyTestDriver driver, String spec) {
        List<String> lines = new ArrayList<>();
        Consumer<KeyValueIterator<?, ?>> drain = null;
        if (spec.startsWith("window:")) {
            String name = spec.substring(7);
            ReadOnlyWindowStore<String, ValueAndTimestamp<Object>> store = driver.getTimestampedWindowStore(name);
            assertThat(store).as("window store %s", name).isNotNull();
            add(lines, "all ", store.all());
            add(lines, "backwardAll ", store.backwardAll());
            add(lines, "fetchAll ", store.fetchAll(Instant.ofEpochMilli(0), Instant.ofEpochMilli(Long.MAX_VALUE / 2)));
            add(lines, "backwardFetchAll ", store.backwardFetchAll(Instant.ofEpochMilli(0), Instant.ofEpochMilli(Long.MAX_VALUE / 2)));
            add(lines, "fetch b..d ", store.fetch("b", "d", Instant.ofEpochMilli(0), Instant.ofEpochMilli(Long.MAX_VALUE / 2)));
            add(lines, "backwardFetch b..d ", store.backwardFetch("b", "d", Instant.ofEpochMilli(0), Instant.ofEpochMilli(Long.MAX_VALUE / 2)));
            for (String k : List.of("a", "c", "f", "z")) {
                add(lines, "fetch " + k + " ", store.fetch(k, Instant.ofEpochMilli(0), Instant.ofEpochMilli(Long.MAX_VALUE / 2)));
                add(lines, "backwardFetch " + k + " ", store.backwardFetch(k, Instant.ofEpochMilli(0), Instant.ofEpochMilli(Long.MAX_VALUE / 2)));
            }
        } else if (spec.startsWith("session:")) {
            String name = spec.substring(8);
            ReadOnlySessionStore<String, Object> store = driver.getSessionStore(name);
            assertThat(store).as("session store %s", name).isNotNull();
            add(lines, "fetch a..f ", store.fetch("a", "f"));
            add(lines, "backwardFetch a..f ", store.backwardFetch("a", "f"));
            for (String k : List.of("a", "c", "f", "z")) {
                add(lines, "fetch " + k + " ", store.fetch(k));
                add(lines, "findSessions " + k + " ", store.findSessions(k, 0, Long.MAX_VALUE));
                add(lines, "backwardFindSessions " + k + " ", store.backwardFindSessions(k, 0, Long.MAX_VALUE));
            }
        } else {
            var store = driver.getTimestampedKeyValueStore(spec);
            assertThat(store).as("key-value store %s", spec).isNotNull();
            add(lines, spec + " all ", store.all());
            add(lines, spec + " reverseAll ", store.reverseAll());
        }
        return lines;
    }

    private static void add(List<String> lines, String prefix, KeyValueIterator<?, ?> it) {
        try (it) {
            while (it.hasNext()) {
                KeyValue<?, ?> kv = it.next();
                Object k = kv.key instanceof Windowed<?> wk ? wk.key() + "[" + wk.window().start() + "," + wk.window().end() + ")" : kv.key;
                lines.add(prefix + k + " = " + kv.value);
            }
        }
    }

    @SuppressWarnings("unused")
    private static Map<String, Object> sorted(Map<String, Object> m) {
        return new TreeMap<>(m);
    }
}
