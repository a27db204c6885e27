package io.github.mmapstore.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.mmapstore.streams.internals.MmapKeyValueStore;
import java.io.File;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.internals.ChangelogRecordDeserializationHelper;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.state.BuiltInDslStoreSuppliers;
import org.apache.kafka.streams.state.DslStoreSuppliers;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.TimestampedKeyValueStoreWithHeaders;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.apache.kafka.streams.state.ValueTimestampHeaders;
import org.apache.kafka.streams.state.internals.PositionSerde;
import org.apache.kafka.streams.state.internals.WrappedStateStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Differential test: real topologies run through {@link TopologyTestDriver} once on Kafka's RocksDB
 * stores and once on MmapStore, fed the same seeded random input, must produce the same records on every
 * topic the driver saw (outputs, repartition and changelog topics: key, value, timestamp, headers, in
 * order), the same final store contents (typed full scan, reverse scan, ranges and prefix scans through
 * the driver, plus the raw bytes of the innermost store), and the same IQ position.
 *
 * <p>The RocksDB run of each scenario is the reference; it is computed once per scenario and reused by the
 * mutation tests at the end, which prove the harness fails when the MmapStore side is subtly wrong.
 *
 * <p>Not covered here: persistence across a restart. {@code TopologyTestDriver.close()} deletes the state
 * directory, so a second driver on the same state dir starts empty; reopening is tested at the store level.
 *
 * <p>Knobs: {@code -Dequivalence.seed=N}, {@code -Dequivalence.records=N}, {@code -Dequivalence.memtable=BYTES}
 * (MmapStore memtable, default 4096), {@code -Dequivalence.fsync=true}, {@code -Dequivalence.debug=true}
 * (run times).
 */
class TopologyEquivalenceTest {
    /** Fixed so that failures reproduce; override with -Dequivalence.seed=N to explore. */
    private static final long SEED = Long.getLong("equivalence.seed", 20240611L);
    private static final int RECORDS = Integer.getInteger("equivalence.records", 2000);

    private static final Serde<String> S = Serdes.String();
    private static final Serde<Long> L = Serdes.Long();
    private static final Serializer<String> PREFIX_SERIALIZER = new StringSerializer();

    /** RocksDB reference results, by scenario id. */
    private static final Map<String, RunResult> REFERENCE = new ConcurrentHashMap<>();

    @TempDir
    Path tmp;
    private int runs;

    // ============================================================================================
    // Backends
    // ============================================================================================

    /** The value format of a key-value store, i.e. which of the three supplier factories to call. */
    enum Format { PLAIN, TIMESTAMPED, HEADERS }

    /**
     * One side of the comparison: where explicitly materialized stores come from, what backs the DSL's own
     * stores ({@code dsl.store.suppliers.class}), and the directory below the task directory its stores
     * live in.
     */
    record Backend(String label, BiFunction<String, Format, KeyValueBytesStoreSupplier> factory,
                   Class<? extends DslStoreSuppliers> dslStoreSuppliers, String storeDirectory, Map<String, Object> config) {
        KeyValueBytesStoreSupplier supplier(String name, Format format) {
            return factory.apply(name, format);
        }

        @Override
        public String toString() {
            return label;
        }
    }

    static final Backend ROCKSDB = new Backend("rocksdb", (name, format) -> switch (format) {
        case PLAIN -> Stores.persistentKeyValueStore(name);
        case TIMESTAMPED -> Stores.persistentTimestampedKeyValueStore(name);
        case HEADERS -> Stores.persistentTimestampedKeyValueStoreWithHeaders(name);
    }, BuiltInDslStoreSuppliers.RocksDBDslStoreSuppliers.class, "rocksdb", Map.of());

    /*
     * The DSL's internal stores (the foreign-key join's subscription store, the repartitioned table
     * aggregation's source, ...) are not reachable through Materialized.as(supplier): without more they
     * would be RocksDB in both runs. The MmapStore run therefore also sets dsl.store.suppliers.class to
     * MmapDslStoreSuppliers, so that every key-value store of the MmapStore run is an MmapStore; the
     * directory checks below assert exactly that (no rocksdb/ directory at all).
     */
    /*
     * TopologyTestDriver commits after every input record, and an MmapStore commit forces its log to the
     * device: with fsync on, a scenario with seven stores does ~20,000 fsyncs and takes minutes on a busy
     * disk (RocksDB does not sync on commit). Durability is not what this test compares, so fsync is off;
     * a small memtable makes the engine flush segments and compact during the run, so that reads merge
     * memtable and segments and tombstones shadow older segments, instead of everything living in the
     * 64 MiB default memtable.
     */
    static final Map<String, Object> MMAPSTORE_CONFIG = Map.of(
            MmapStoreConfig.PREFIX + MmapStoreConfig.FSYNC, Boolean.getBoolean("equivalence.fsync"),
            MmapStoreConfig.PREFIX + MmapStoreConfig.MEMTABLE_BYTES, Long.getLong("equivalence.memtable", 4096L),
            MmapStoreConfig.PREFIX + MmapStoreConfig.COMPACTION_TRIGGER_SEGMENTS, 2);

    static final Backend MMAPSTORE = new Backend("mmapstore", (name, format) -> switch (format) {
        case PLAIN -> MmapStores.persistentKeyValueStore(name);
        case TIMESTAMPED -> MmapStores.persistentTimestampedKeyValueStore(name);
        case HEADERS -> MmapStores.persistentTimestampedKeyValueStoreWithHeaders(name);
    }, MmapDslStoreSuppliers.class, "mmapstore", MMAPSTORE_CONFIG);

    // ============================================================================================
    // The tests
    // ============================================================================================

    /** (1) groupByKey().count() materialized with each of the three supplier formats. */
    @ParameterizedTest(name = "count, {0} supplier")
    @EnumSource(Format.class)
    void count(Format format) {
        RunResult ref = assertEquivalent(countScenario(format), MMAPSTORE);
        // the odd keys made it into the store: the empty key and one above 0x7F
        assertThat(ref.stores().get("counts")).anyMatch(l -> l.startsWith("all =")).anyMatch(l -> l.startsWith("all \u20ac="));
    }

    static List<Arguments> cachingAndLogging() {
        return List.of(Arguments.of(true, true), Arguments.of(true, false), Arguments.of(false, true), Arguments.of(false, false));
    }

    /** (2) a stream aggregate and a re-keyed table aggregate (adder and subtractor), caching and logging on and off. */
    @ParameterizedTest(name = "aggregate, caching={0}, logging={1}")
    @MethodSource("cachingAndLogging")
    void aggregate(boolean caching, boolean logging) {
        RunResult ref = assertEquivalent(aggregateScenario(caching, logging), MMAPSTORE);
        assertThat(ref.topics().keySet().stream().anyMatch(t -> t.endsWith("-changelog"))).isEqualTo(logging);
    }

    /** (3) table-table inner and outer join, every table materialized with the supplier. */
    @Test
    void tableTableJoin() {
        RunResult ref = assertEquivalent(tableJoinScenario(), MMAPSTORE);
        // tombstones really flowed through the join
        assertThat(ref.topics().get("tt-join-out")).anyMatch(l -> l.contains("|null|"));
    }

    /** (4) foreign-key inner and left join; the subscription store is an MmapStore too, via dsl.store.suppliers.class. */
    @Test
    void foreignKeyJoin() {
        RunResult ref = assertEquivalent(foreignKeyJoinScenario(), MMAPSTORE);
        assertThat(ref.topics().get("fk-join-out")).anyMatch(l -> l.contains("|null|"));
        assertThat(ref.raw().keySet()).anyMatch(s -> s.contains("SUBSCRIPTION-STATE-STORE"));
    }

    /** (5) Processor API: putIfAbsent, delete, put(null), putAll, prefixScan, range, reverseRange, all. */
    @ParameterizedTest(name = "processor API events store, caching={0}")
    @EnumSource(value = Caching.class)
    void processorApiEvents(Caching caching) {
        RunResult ref = assertEquivalent(eventsScenario(caching == Caching.ON), MMAPSTORE);
        List<String> out = ref.topics().get("events-out");
        assertThat(out).anyMatch(l -> l.contains("putIfAbsent") && !l.contains("-> null"));
        assertThat(out).anyMatch(l -> l.contains("delete") && !l.contains("-> null"));
        assertThat(out).anyMatch(l -> l.contains("prefix") && !l.contains(" 0 []"));
    }

    enum Caching { ON, OFF }

    /** (6) Processor API on the headers format: values with timestamps and record headers. */
    @ParameterizedTest(name = "processor API headers store, caching={0}")
    @EnumSource(value = Caching.class)
    void processorApiHeaders(Caching caching) {
        RunResult ref = assertEquivalent(headersScenario(caching == Caching.ON), MMAPSTORE);
        assertThat(ref.stores().get("hstore")).anyMatch(l -> l.contains("prev="));
    }

    // ---- the harness must be able to fail ------------------------------------------------------

    /** Subtle store bugs, injected into MmapStore behind a proxy, and a scenario that must expose each. */
    enum Mutation {
        REVERSE_SCANS_RUN_FORWARD, DELETES_IGNORED, PREFIX_SCAN_UNBOUNDED, PUT_IF_ABSENT_OVERWRITES, RANGE_END_EXCLUSIVE
    }

    static Stream<Arguments> mutations() {
        return Stream.of(
                Arguments.of(Mutation.REVERSE_SCANS_RUN_FORWARD, "count"),
                Arguments.of(Mutation.DELETES_IGNORED, "table join"),
                Arguments.of(Mutation.DELETES_IGNORED, "events, caching off"),
                Arguments.of(Mutation.PREFIX_SCAN_UNBOUNDED, "events, caching off"),
                Arguments.of(Mutation.PUT_IF_ABSENT_OVERWRITES, "events, caching off"),
                Arguments.of(Mutation.PUT_IF_ABSENT_OVERWRITES, "headers, caching off"),
                Arguments.of(Mutation.RANGE_END_EXCLUSIVE, "count"));
    }

    @ParameterizedTest(name = "harness catches {0} in {1}")
    @MethodSource("mutations")
    void harnessCatchesMutation(Mutation mutation, String scenarioName) {
        Scenario scenario = switch (scenarioName) {
            case "count" -> countScenario(Format.TIMESTAMPED);
            case "table join" -> tableJoinScenario();
            case "events, caching off" -> eventsScenario(false);
            case "headers, caching off" -> headersScenario(false);
            default -> throw new IllegalArgumentException(scenarioName);
        };
        Backend mutant = new Backend("mmapstore+" + mutation,
                (name, format) -> mutate(MMAPSTORE.supplier(name, format), mutation), MmapDslStoreSuppliers.class, "mmapstore",
                MMAPSTORE_CONFIG);
        assertThatThrownBy(() -> assertEquivalent(scenario, mutant))
                .as("the harness must detect %s", mutation)
                .isInstanceOf(AssertionError.class);
    }

    /** A harness that ran RocksDB twice would pass vacuously: the directory checks rule that out. */
    @Test
    void directoryCheckRejectsRocksDbPosingAsMmapStore() {
        Backend impostor = new Backend("mmapstore", ROCKSDB.factory(), MmapDslStoreSuppliers.class, "mmapstore", MMAPSTORE_CONFIG);
        assertThatThrownBy(() -> assertEquivalent(countScenario(Format.TIMESTAMPED), impostor))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("mmapstore");
    }

    /**
     * Changelog records carry the store's position in a header, whose bytes follow the order of a hash map:
     * the harness compares it decoded, so the order of its entries does not count, but every topic, partition
     * and offset in it does.
     */
    @Test
    void positionHeaderIsComparedDecoded() {
        String leftRight = changelogLine(position(0, "tt-left", 0, 9, "tt-right", 0, 8));
        String rightLeft = changelogLine(position(0, "tt-right", 0, 8, "tt-left", 0, 9));
        assertThat(rightLeft).isEqualTo(leftRight).contains("position{tt-left{0=9};tt-right{0=8};}");
        assertSameLines("same position, other order", List.of(leftRight), List.of(rightLeft));

        for (byte[] other : List.of(
                position(0, "tt-right", 0, 8, "tt-left", 0, 10),      // another offset
                position(0, "tt-right", 1, 8, "tt-left", 0, 9),       // another partition
                position(0, "tt-right", 0, 8, "tt-lefT", 0, 9),       // another topic
                position(0, "tt-left", 0, 9),                         // an entry missing
                Arrays.copyOf(position(0, "tt-right", 0, 8, "tt-left", 0, 9), 300),  // other trailing bytes
                position(1, "tt-left", 0, 9, "tt-right", 0, 8))) {   // an unknown version: compared raw
            String line = changelogLine(other);
            assertThat(line).isNotEqualTo(leftRight);
            assertThatThrownBy(() -> assertSameLines("changelog", List.of(leftRight), List.of(line)))
                    .isInstanceOf(AssertionError.class);
        }
    }

    /** A changelog record's headers as the harness shows them. */
    static String changelogLine(byte[] position) {
        return renderRecordHeaders(new RecordHeaders()
                .add("v", new byte[] {0})
                .add(ChangelogRecordDeserializationHelper.CHANGELOG_POSITION_HEADER_KEY, position));
    }

    /**
     * Kafka's position encoding, written out by hand in the given order (version, topic count, then per topic
     * its name, partition count and partition/offset pairs; one partition per topic here), padded with zeros
     * to a fixed length as Kafka's encoder pads it.
     */
    static byte[] position(int version, Object... topicPartitionOffset) {
        ByteBuffer buffer = ByteBuffer.allocate(256);
        buffer.put((byte) version).putInt(topicPartitionOffset.length / 3);
        for (int i = 0; i < topicPartitionOffset.length; i += 3) {
            byte[] topic = ((String) topicPartitionOffset[i]).getBytes(StandardCharsets.UTF_8);
            buffer.putInt(topic.length).put(topic).putInt(1);
            buffer.putInt((Integer) topicPartitionOffset[i + 1]).putLong(((Number) topicPartitionOffset[i + 2]).longValue());
        }
        return buffer.array();
    }

    // ============================================================================================
    // Scenarios
    // ============================================================================================

    /** One input record. */
    record In(String topic, String key, String value, Headers headers, long timestamp) {
    }

    /** How to read a store back through the driver. */
    enum View { KEY_VALUE, TIMESTAMPED, HEADERS }

    record Bounds(String from, String to) {
    }

    /**
     * A topology (built per backend), its input, the stores to compare with how to read them, and the
     * ranges and prefixes to query them with.
     */
    record Scenario(String id, Function<Backend, Topology> topology, List<In> input, Map<String, View> stores,
                    List<Bounds> ranges, List<String> prefixes) {
    }

    static Random random(String id) {
        return new Random(SEED ^ id.hashCode());
    }

    /** Advancing timestamps, with an occasional out-of-order record. */
    static final class Clock {
        private final Random rnd;
        private long now = 1_700_000_000_000L;

        Clock(Random rnd) {
            this.rnd = rnd;
        }

        long next() {
            now += rnd.nextInt(50);
            return rnd.nextInt(20) == 0 ? now - rnd.nextInt(500) : now;
        }
    }

    static String word(Random rnd, int maxLength) {
        int n = 1 + rnd.nextInt(maxLength);
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            sb.append((char) ('a' + rnd.nextInt(6)));
        }
        return sb.toString();
    }

    /**
     * Mostly {@code <p><n>}, of different lengths so that byte order ("w1" < "w10" < "w2") matters; now and
     * then an odd key: empty, NUL bytes, and UTF-8 bytes above 0x7F (which must sort unsigned, after ASCII).
     */
    static String key(Random rnd, String p, int n) {
        if (rnd.nextInt(25) == 0) {
            return List.of("", "\u0000", p + "\u0000", p + "1\u0000", p + "\u00e9", p + "\u00ff", "\u20ac", "\uD83D\uDE00", "\uffff")
                    .get(rnd.nextInt(9));
        }
        return p + rnd.nextInt(n);
    }

    /** Ranges over keys from {@link #key}: ordinary, open-ended, single-key, inverted (empty), non-ASCII. */
    static List<Bounds> wordKeyRanges(String p) {
        return List.of(new Bounds(p + "1", p + "3"), new Bounds(p + "10", p + "19"), new Bounds(null, p + "2"),
                new Bounds(p + "5", null), new Bounds(p + "4", p + "4"), new Bounds(p + "25x", p + "3"),
                new Bounds(p + "7", p + "2"), new Bounds("", "~"), new Bounds(p + "9", p + "\u00f0"),
                new Bounds("\u0000", p), new Bounds("\u20ac", "\uffff"));
    }

    static Scenario countScenario(Format format) {
        String id = "count-" + format.name().toLowerCase();
        Random rnd = random(id);
        Clock clock = new Clock(rnd);
        List<In> input = new ArrayList<>();
        for (int i = 0; i < RECORDS; i++) {
            // null values are skipped by the stream aggregation, in both runs
            String value = rnd.nextInt(20) == 0 ? null : word(rnd, 8);
            input.add(new In("count-in", key(rnd, "w", 60), value, new RecordHeaders(), clock.next()));
        }
        Function<Backend, Topology> topology = b -> {
            StreamsBuilder sb = new StreamsBuilder();
            sb.stream("count-in", Consumed.with(S, S))
                    .groupByKey()
                    .count(Materialized.<String, Long>as(b.supplier("counts", format)))
                    .toStream()
                    .to("count-out", Produced.with(S, L));
            return sb.build();
        };
        View view = format == Format.HEADERS ? View.HEADERS : View.TIMESTAMPED;
        return new Scenario(id, topology, input, Map.of("counts", view), wordKeyRanges("w"), List.of("w1", "w5", "x", "", "w\u0000", "\u20ac"));
    }

    static <V> Materialized<String, V, KeyValueStore<Bytes, byte[]>> materialized(
            Backend b, String name, Serde<V> valueSerde, boolean caching, boolean logging) {
        Materialized<String, V, KeyValueStore<Bytes, byte[]>> m = Materialized.<String, V>as(b.supplier(name, Format.TIMESTAMPED))
                .withKeySerde(S).withValueSerde(valueSerde);
        m = caching ? m.withCachingEnabled() : m.withCachingDisabled();
        return logging ? m.withLoggingEnabled(Map.of()) : m.withLoggingDisabled();
    }

    static Scenario aggregateScenario(boolean caching, boolean logging) {
        String id = "aggregate-c" + caching + "-l" + logging;
        Random rnd = random("aggregate");
        Clock clock = new Clock(rnd);
        List<In> input = new ArrayList<>();
        for (int i = 0; i < RECORDS; i++) {
            if (rnd.nextBoolean()) {
                input.add(new In("agg-in", "a" + rnd.nextInt(80), rnd.nextInt(25) == 0 ? null : word(rnd, 6),
                        new RecordHeaders(), clock.next()));
            } else {
                // a table: tombstones delete and make the re-keyed aggregation subtract
                input.add(new In("agg-table-in", "t" + rnd.nextInt(60), rnd.nextInt(8) == 0 ? null : word(rnd, 10),
                        new RecordHeaders(), clock.next()));
            }
        }
        Function<Backend, Topology> topology = b -> {
            StreamsBuilder sb = new StreamsBuilder();
            sb.stream("agg-in", Consumed.with(S, S))
                    .groupByKey()
                    .aggregate(() -> "0|",
                            (k, v, agg) -> {
                                int bar = agg.indexOf('|');
                                long sum = Long.parseLong(agg.substring(0, bar)) + v.length();
                                String tail = agg.substring(bar + 1) + v;
                                return sum + "|" + tail.substring(Math.max(0, tail.length() - 24));
                            },
                            materialized(b, "agg-sum", S, caching, logging))
                    .toStream()
                    .to("agg-out", Produced.with(S, S));
            sb.table("agg-table-in", Consumed.with(S, S), materialized(b, "agg-source", S, caching, logging))
                    .groupBy((k, v) -> KeyValue.pair("g" + v.charAt(0), v), Grouped.with(S, S))
                    .aggregate(() -> 0L, (k, v, agg) -> agg + v.length(), (k, v, agg) -> agg - v.length(),
                            materialized(b, "agg-regrouped", L, caching, logging))
                    .toStream()
                    .to("agg-regrouped-out", Produced.with(S, L));
            return sb.build();
        };
        Map<String, View> stores = Map.of("agg-sum", View.TIMESTAMPED, "agg-source", View.TIMESTAMPED,
                "agg-regrouped", View.TIMESTAMPED);
        return new Scenario(id, topology, input, stores,
                List.of(new Bounds("a1", "a3"), new Bounds("t10", "t4"), new Bounds(null, "ga"), new Bounds("gc", null),
                        new Bounds("t5", "t1")),
                List.of("a1", "t", "g"));
    }

    static Scenario tableJoinScenario() {
        String id = "table-join";
        Random rnd = random(id);
        Clock clock = new Clock(rnd);
        List<In> input = new ArrayList<>();
        for (int i = 0; i < RECORDS; i++) {
            String topic = rnd.nextBoolean() ? "tt-left" : "tt-right";
            String value = rnd.nextInt(6) == 0 ? null : word(rnd, 5);
            input.add(new In(topic, key(rnd, "k", 40), value, new RecordHeaders(), clock.next()));
        }
        Function<Backend, Topology> topology = b -> {
            StreamsBuilder sb = new StreamsBuilder();
            KTable<String, String> left = sb.table("tt-left", Consumed.with(S, S), materialized(b, "tt-left-store", S, true, true));
            KTable<String, String> right = sb.table("tt-right", Consumed.with(S, S), materialized(b, "tt-right-store", S, false, true));
            left.join(right, (l, r) -> l + "+" + r, materialized(b, "tt-join-store", S, true, true))
                    .toStream().to("tt-join-out", Produced.with(S, S));
            left.outerJoin(right, (l, r) -> l + "*" + r, materialized(b, "tt-outer-store", S, false, false))
                    .toStream().to("tt-outer-out", Produced.with(S, S));
            return sb.build();
        };
        Map<String, View> stores = Map.of("tt-left-store", View.TIMESTAMPED, "tt-right-store", View.TIMESTAMPED,
                "tt-join-store", View.TIMESTAMPED, "tt-outer-store", View.TIMESTAMPED);
        return new Scenario(id, topology, input, stores, wordKeyRanges("k"), List.of("k1", "k3"));
    }

    static Scenario foreignKeyJoinScenario() {
        String id = "fk-join";
        Random rnd = random(id);
        Clock clock = new Clock(rnd);
        List<In> input = new ArrayList<>();
        // fewer records: each one makes several more on the subscription and response topics
        for (int i = 0; i < RECORDS * 3 / 5; i++) {
            if (rnd.nextInt(3) == 0) {
                String name = rnd.nextInt(6) == 0 ? null : word(rnd, 7);
                input.add(new In("fk-customers", "c" + rnd.nextInt(30), name, new RecordHeaders(), clock.next()));
            } else {
                String order = rnd.nextInt(8) == 0 ? null : "c" + rnd.nextInt(35) + "|" + rnd.nextInt(1000);
                input.add(new In("fk-orders", "o" + rnd.nextInt(150), order, new RecordHeaders(), clock.next()));
            }
        }
        Function<Backend, Topology> topology = b -> {
            StreamsBuilder sb = new StreamsBuilder();
            KTable<String, String> orders = sb.table("fk-orders", Consumed.with(S, S), materialized(b, "fk-orders-store", S, true, true));
            KTable<String, String> customers = sb.table("fk-customers", Consumed.with(S, S),
                    materialized(b, "fk-customers-store", S, true, true));
            Function<String, String> customerOf = order -> order.substring(0, order.indexOf('|'));
            // The subscription store that this join creates internally is not reachable through
            // Materialized; in the MmapStore run it is an MmapStore through dsl.store.suppliers.class.
            orders.join(customers, customerOf, (o, c) -> o + "@" + c, materialized(b, "fk-join-store", S, true, true))
                    .toStream().to("fk-join-out", Produced.with(S, S));
            orders.leftJoin(customers, customerOf, (o, c) -> o + "@" + c, materialized(b, "fk-left-store", S, false, true))
                    .toStream().to("fk-left-out", Produced.with(S, S));
            return sb.build();
        };
        Map<String, View> stores = Map.of("fk-orders-store", View.TIMESTAMPED, "fk-customers-store", View.TIMESTAMPED,
                "fk-join-store", View.TIMESTAMPED, "fk-left-store", View.TIMESTAMPED);
        return new Scenario(id, topology, input, stores, wordKeyRanges("o"), List.of("o1", "c2"));
    }

    // ---- (5) Processor API on a plain key-value store -----------------------------------------

    static final String EVENTS = "events";

    static Scenario eventsScenario(boolean caching) {
        String id = "events-c" + caching;
        Random rnd = random("events");
        Clock clock = new Clock(rnd);
        List<In> input = new ArrayList<>();
        for (int i = 0; i < RECORDS; i++) {
            String user = "user:" + rnd.nextInt(15);
            String event = "e" + rnd.nextInt(12);
            int op = rnd.nextInt(100);
            String value;
            if (op < 30) {
                value = "add " + event + " " + word(rnd, 6);
            } else if (op < 42) {
                value = "set " + event + " " + word(rnd, 6);
            } else if (op < 54) {
                value = "del " + event;
            } else if (op < 58) {
                value = "tomb " + event;
            } else if (op < 64) {
                StringBuilder sb = new StringBuilder("batch");
                for (int j = rnd.nextInt(4); j >= 0; j--) {
                    sb.append(' ').append("e").append(rnd.nextInt(12)).append('=').append(rnd.nextInt(4) == 0 ? "" : word(rnd, 4));
                }
                value = sb.toString();
            } else if (op < 76) {
                value = "count";
            } else if (op < 80) {
                value = "loose";
            } else if (op < 88) {
                value = "range " + bound(rnd) + " " + bound(rnd);
            } else if (op < 96) {
                value = "rrange " + bound(rnd) + " " + bound(rnd);
            } else {
                value = "all";
            }
            input.add(new In("events-in", user, value, new RecordHeaders(), clock.next()));
        }
        Function<Backend, Topology> topology = b -> {
            StoreBuilder<KeyValueStore<String, String>> store = Stores.keyValueStoreBuilder(b.supplier(EVENTS, Format.PLAIN), S, S);
            store = caching ? store.withCachingEnabled() : store.withCachingDisabled();
            Topology t = new Topology();
            t.addSource("source", S.deserializer(), S.deserializer(), "events-in");
            t.addProcessor("events", EventsProcessor::new, "source");
            t.addStateStore(store.withLoggingEnabled(Map.of()), "events");
            t.addSink("sink", "events-out", S.serializer(), S.serializer(), "events");
            return t;
        };
        return new Scenario(id, topology, input, Map.of(EVENTS, View.KEY_VALUE),
                List.of(new Bounds("user:1:", "user:2:"), new Bounds("user:10", "user:12:e5"), new Bounds(null, "user:1:e3"),
                        new Bounds("user:7", null), new Bounds("user:9", "user:3")),
                List.of("user:1", "user:1:", "user:14:e1", "user:"));
    }

    /** A range bound: a user prefix, an exact key, or open ("-"). */
    static String bound(Random rnd) {
        return switch (rnd.nextInt(4)) {
            case 0 -> "-";
            case 1 -> "user:" + rnd.nextInt(15);
            case 2 -> "user:" + rnd.nextInt(15) + ":";
            default -> "user:" + rnd.nextInt(15) + ":e" + rnd.nextInt(12);
        };
    }

    static String openBound(String b) {
        return b.equals("-") ? null : b;
    }

    /** Store keys are {@code user:<id>:<event>}; answers what it did and what it saw. */
    static final class EventsProcessor implements Processor<String, String, String, String> {
        private ProcessorContext<String, String> context;
        private KeyValueStore<String, String> store;

        @Override
        public void init(ProcessorContext<String, String> context) {
            this.context = context;
            this.store = context.getStateStore(EVENTS);
        }

        @Override
        public void process(Record<String, String> record) {
            String user = record.key();
            String[] op = record.value().split(" ");
            String out = switch (op[0]) {
                case "add" -> "putIfAbsent " + op[1] + " -> " + store.putIfAbsent(user + ":" + op[1], op[2]);
                case "set" -> {
                    store.put(user + ":" + op[1], op[2]);
                    yield "put " + op[1];
                }
                case "del" -> "delete " + op[1] + " -> " + store.delete(user + ":" + op[1]);
                case "tomb" -> {
                    store.put(user + ":" + op[1], null);
                    yield "tombstone " + op[1];
                }
                case "batch" -> {
                    List<KeyValue<String, String>> batch = new ArrayList<>();
                    for (int i = 1; i < op.length; i++) {
                        String[] kv = op[i].split("=", -1);
                        batch.add(KeyValue.pair(user + ":" + kv[0], kv[1].isEmpty() ? null : kv[1]));
                    }
                    store.putAll(batch);
                    yield "putAll " + batch.size();
                }
                case "count" -> "prefix " + scan(store.prefixScan(user + ":", PREFIX_SERIALIZER));
                case "loose" -> "loose prefix " + scan(store.prefixScan(user, PREFIX_SERIALIZER));
                case "range" -> "range " + scan(store.range(openBound(op[1]), openBound(op[2])));
                case "rrange" -> "reverseRange " + scan(store.reverseRange(openBound(op[1]), openBound(op[2])));
                case "all" -> "all " + scan(store.all()) + " / " + scan(store.reverseAll());
                default -> throw new IllegalArgumentException(record.value());
            };
            context.forward(record.withValue(out));
        }

        private static String scan(KeyValueIterator<String, String> it) {
            try (it) {
                List<String> keys = new ArrayList<>();
                while (it.hasNext()) {
                    KeyValue<String, String> kv = it.next();
                    keys.add(kv.key + "=" + kv.value);
                }
                return keys.size() + " " + keys;
            }
        }
    }

    // ---- (6) Processor API on the headers format -----------------------------------------------

    static final String HSTORE = "hstore";

    static Scenario headersScenario(boolean caching) {
        String id = "headers-c" + caching;
        Random rnd = random("headers");
        Clock clock = new Clock(rnd);
        List<In> input = new ArrayList<>();
        for (int i = 0; i < RECORDS; i++) {
            RecordHeaders headers = new RecordHeaders();
            for (int h = rnd.nextInt(4); h > 0; h--) {
                String key = List.of("a", "b", "trace").get(rnd.nextInt(3));
                headers.add(key, rnd.nextInt(6) == 0 ? null : word(rnd, 5).getBytes(StandardCharsets.UTF_8));
            }
            int op = rnd.nextInt(100);
            String value;
            if (op < 40) {
                value = "put " + word(rnd, 6);
            } else if (op < 60) {
                value = "pia " + word(rnd, 6);
            } else if (op < 72) {
                value = "del";
            } else if (op < 76) {
                value = "tomb";
            } else if (op < 88) {
                value = "range";
            } else {
                value = "prefix";
            }
            input.add(new In("headers-in", key(rnd, "h", 50), value, headers, clock.next()));
        }
        Function<Backend, Topology> topology = b -> {
            StoreBuilder<TimestampedKeyValueStoreWithHeaders<String, String>> store =
                    Stores.timestampedKeyValueStoreWithHeadersBuilder(b.supplier(HSTORE, Format.HEADERS), S, S);
            store = caching ? store.withCachingEnabled() : store.withCachingDisabled();
            Topology t = new Topology();
            t.addSource("source", S.deserializer(), S.deserializer(), "headers-in");
            t.addProcessor("headers", HeadersProcessor::new, "source");
            t.addStateStore(store.withLoggingEnabled(Map.of()), "headers");
            t.addSink("sink", "headers-out", S.serializer(), S.serializer(), "headers");
            return t;
        };
        return new Scenario(id, topology, input, Map.of(HSTORE, View.HEADERS), wordKeyRanges("h"), List.of("h1", "h4", "", "h\u00e9"));
    }

    static final class HeadersProcessor implements Processor<String, String, String, String> {
        private ProcessorContext<String, String> context;
        private TimestampedKeyValueStoreWithHeaders<String, String> store;

        @Override
        public void init(ProcessorContext<String, String> context) {
            this.context = context;
            this.store = context.getStateStore(HSTORE);
        }

        @Override
        public void process(Record<String, String> record) {
            String key = record.key();
            String[] op = record.value().split(" ");
            Headers headers = new RecordHeaders(record.headers().toArray());
            String out = switch (op[0]) {
                case "put" -> {
                    ValueTimestampHeaders<String> old = store.get(key);
                    headers.add("prev", old == null ? null : old.value().getBytes(StandardCharsets.UTF_8));
                    long ts = old == null ? record.timestamp() : Math.max(old.timestamp(), record.timestamp());
                    store.put(key, ValueTimestampHeaders.make(op[1], ts, headers));
                    yield "put " + render(old);
                }
                case "pia" -> "putIfAbsent " + render(store.putIfAbsent(key,
                        ValueTimestampHeaders.make(op[1], record.timestamp(), headers)));
                case "del" -> "delete " + render(store.delete(key));
                case "tomb" -> {
                    store.put(key, null);
                    yield "tombstone";
                }
                case "range" -> "range " + scan(() -> store.range(key, key + "~")) + " reverse " + scan(() -> store.reverseRange(key, null));
                case "prefix" -> "prefix " + scan(() -> store.prefixScan(key.substring(0, Math.min(2, key.length())), PREFIX_SERIALIZER));
                default -> throw new IllegalArgumentException(record.value());
            };
            context.forward(record.withValue(out).withHeaders(headers));
        }

        private String scan(Supplier<KeyValueIterator<String, ValueTimestampHeaders<String>>> query) {
            try (KeyValueIterator<String, ValueTimestampHeaders<String>> it = query.get()) {
                List<String> entries = new ArrayList<>();
                while (it.hasNext()) {
                    KeyValue<String, ValueTimestampHeaders<String>> kv = it.next();
                    entries.add(kv.key + "=" + render(kv.value));
                }
                return entries.size() + " " + entries;
            } catch (RuntimeException e) {
                // e.g. Kafka's caching layer cannot prefix-scan the empty prefix: both runs must agree
                return "threw " + e.getClass().getName();
            }
        }
    }

    // ============================================================================================
    // Harness
    // ============================================================================================

    /**
     * What one run produced: every topic's records, every compared store's typed scans, the raw bytes of
     * every persistent store's innermost layer, and the innermost stores' positions.
     */
    record RunResult(Map<String, List<String>> topics, Map<String, List<String>> stores, Map<String, List<String>> raw,
                     Map<String, Position> positions) {
    }

    /** Runs the scenario on RocksDB (cached) and on {@code candidate}, and asserts they agree. Returns the reference. */
    RunResult assertEquivalent(Scenario scenario, Backend candidate) {
        RunResult expected = REFERENCE.get(scenario.id());
        if (expected == null) {
            long t0 = System.nanoTime();
            expected = run(scenario, ROCKSDB);
            debug("%s on rocksdb: %d ms", scenario.id(), (System.nanoTime() - t0) / 1_000_000);
            REFERENCE.put(scenario.id(), expected);
        }
        long t0 = System.nanoTime();
        RunResult actual = run(scenario, candidate);
        debug("%s on %s: %d ms", scenario.id(), candidate, (System.nanoTime() - t0) / 1_000_000);

        // the comparison is only as good as what it compares: the reference must have done real work
        assertThat(expected.topics().values().stream().mapToInt(List::size).sum()).as("records produced").isGreaterThan(RECORDS / 4);
        for (String store : scenario.stores().keySet()) {
            assertThat(expected.stores().get(store)).as("reference contents of %s", store).anyMatch(l -> l.startsWith("all "));
        }

        assertThat(actual.topics().keySet()).as("topics produced to").isEqualTo(expected.topics().keySet());
        for (String topic : expected.topics().keySet()) {
            assertSameLines("records on topic " + topic, expected.topics().get(topic), actual.topics().get(topic));
        }
        assertThat(actual.stores().keySet()).as("stores").isEqualTo(expected.stores().keySet());
        for (String store : expected.stores().keySet()) {
            assertSameLines("contents of store " + store, expected.stores().get(store), actual.stores().get(store));
        }
        for (String store : expected.raw().keySet()) {
            assertSameLines("raw bytes of store " + store, expected.raw().get(store), actual.raw().get(store));
        }
        assertThat(actual.positions()).as("IQ positions").isEqualTo(expected.positions());
        return expected;
    }

    /** Run times, with -Dequivalence.debug=true. */
    static void debug(String format, Object... args) {
        if (Boolean.getBoolean("equivalence.debug")) {
            System.out.println(String.format(format, args));
        }
    }

    static void assertSameLines(String what, List<String> rocksdb, List<String> candidate) {
        if (candidate == null) {
            fail(what + ": missing in the candidate run");
        }
        int n = Math.min(rocksdb.size(), candidate.size());
        for (int i = 0; i < n; i++) {
            if (!rocksdb.get(i).equals(candidate.get(i))) {
                fail(what + ": first difference at #" + i + " of " + rocksdb.size() + "/" + candidate.size()
                        + "\n  rocksdb:   " + rocksdb.get(i) + "\n  candidate: " + candidate.get(i));
            }
        }
        if (rocksdb.size() != candidate.size()) {
            fail(what + ": rocksdb has " + rocksdb.size() + " lines, candidate " + candidate.size() + "; first extra: "
                    + (rocksdb.size() > n ? rocksdb.get(n) : candidate.get(n)));
        }
    }

    RunResult run(Scenario scenario, Backend backend) {
        Path stateDir = tmp.resolve(backend.label().replaceAll("[^A-Za-z0-9_-]", "_") + "-" + (runs++));
        String appId = "equivalence-" + scenario.id();
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        props.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        props.put(StreamsConfig.DSL_STORE_SUPPLIERS_CLASS_CONFIG, backend.dslStoreSuppliers());
        // changelog records then carry the stores' positions as headers: compared with everything else
        props.put(StreamsConfig.InternalConfig.IQ_CONSISTENCY_OFFSET_VECTOR_ENABLED, true);
        props.putAll(backend.config());

        Topology topology = scenario.topology().apply(backend);
        Map<String, List<String>> topics = new LinkedHashMap<>();
        Map<String, List<String>> stores = new LinkedHashMap<>();
        Map<String, List<String>> raw = new LinkedHashMap<>();
        Map<String, Position> positions = new LinkedHashMap<>();
        try (TopologyTestDriver driver = new TopologyTestDriver(topology, props)) {
            Map<String, TestInputTopic<String, String>> inputs = new LinkedHashMap<>();
            for (In in : scenario.input()) {
                inputs.computeIfAbsent(in.topic(), t -> driver.createInputTopic(t, S.serializer(), S.serializer()))
                        .pipeInput(new TestRecord<>(in.key(), in.value(), new RecordHeaders(in.headers().toArray()), in.timestamp()));
            }
            for (String topic : new TreeSet<>(driver.producedTopicNames())) {
                List<String> lines = new ArrayList<>();
                for (TestRecord<byte[], byte[]> r : driver.createOutputTopic(topic, new ByteArrayDeserializer(), new ByteArrayDeserializer())
                        .readRecordsToList()) {
                    lines.add(show(r.key()) + "|" + show(r.value()) + "|" + r.timestamp() + "|" + renderRecordHeaders(r.headers()));
                }
                topics.put(topic, lines);
            }
            for (Map.Entry<String, View> store : new java.util.TreeMap<>(scenario.stores()).entrySet()) {
                stores.put(store.getKey(), snapshot(driver, store.getKey(), store.getValue(), scenario));
            }
            Set<String> persistent = new TreeSet<>();
            for (Map.Entry<String, StateStore> e : driver.getAllStateStores().entrySet()) {
                if (!e.getValue().persistent()) {
                    continue;
                }
                persistent.add(e.getKey());
                StateStore inner = innermost(e.getValue());
                @SuppressWarnings("unchecked")
                KeyValueStore<Bytes, byte[]> bytes = (KeyValueStore<Bytes, byte[]>) inner;
                raw.put(e.getKey(), rawSnapshot(bytes, scenario));
                positions.put(e.getKey(), inner.getPosition().copy());
                if (backend == MMAPSTORE && !inner.getClass().getSimpleName().contains("Adapter")) {
                    assertThat(inner).as("innermost layer of %s", e.getKey()).isInstanceOf(MmapKeyValueStore.class);
                }
            }
            // the state directory is deleted by close(): look at it now
            assertStoreDirectories(stateDir.resolve(appId).resolve("0_0").toFile(), backend, persistent, scenario);
        }
        return new RunResult(topics, stores, raw, positions);
    }

    /**
     * Each persistent store lives in {@code <task dir>/<backend dir>/<store>}; the MmapStore run has no RocksDB
     * directory at all (explicit stores come from our supplier, the DSL's own from MmapDslStoreSuppliers),
     * and the RocksDB run no MmapStore directory.
     */
    static void assertStoreDirectories(File taskDir, Backend backend, Set<String> persistentStores, Scenario scenario) {
        assertThat(persistentStores).as("persistent stores").containsAll(scenario.stores().keySet());
        String other = backend.storeDirectory().equals("mmapstore") ? "rocksdb" : "mmapstore";
        for (String store : persistentStores) {
            assertThat(new File(new File(taskDir, backend.storeDirectory()), store))
                    .as("%s directory of store %s", backend.storeDirectory(), store).isDirectory();
            assertThat(new File(new File(taskDir, other), store)).as("%s directory of store %s", other, store).doesNotExist();
        }
        assertThat(new File(taskDir, other)).as("%s directory in %s", other, taskDir).doesNotExist();
    }

    /**
     * The innermost bytes store read directly: with caching on, reads through the driver are partly served
     * by Kafka's cache (which keeps entries after flushing them), so they alone could hide a store bug.
     */
    static List<String> rawSnapshot(KeyValueStore<Bytes, byte[]> store, Scenario scenario) {
        List<String> lines = new ArrayList<>();
        lines.addAll(rawLines("all ", store::all));
        lines.addAll(rawLines("reverseAll ", store::reverseAll));
        for (Bounds b : scenario.ranges()) {
            Bytes from = b.from() == null ? null : Bytes.wrap(b.from().getBytes(StandardCharsets.UTF_8));
            Bytes to = b.to() == null ? null : Bytes.wrap(b.to().getBytes(StandardCharsets.UTF_8));
            lines.addAll(rawLines("range " + b + " ", () -> store.range(from, to)));
            lines.addAll(rawLines("reverseRange " + b + " ", () -> store.reverseRange(from, to)));
        }
        for (String p : scenario.prefixes()) {
            lines.addAll(rawLines("prefixScan " + p + " ", () -> store.prefixScan(p, PREFIX_SERIALIZER)));
        }
        return lines;
    }

    static List<String> rawLines(String label, Supplier<KeyValueIterator<Bytes, byte[]>> query) {
        List<String> lines = new ArrayList<>();
        try (KeyValueIterator<Bytes, byte[]> it = query.get()) {
            while (it.hasNext()) {
                KeyValue<Bytes, byte[]> kv = it.next();
                lines.add(label + show(kv.key.get()) + "=" + HexFormat.of().formatHex(kv.value));
            }
        } catch (RuntimeException e) {
            lines.add(label + "threw " + e.getClass().getName());
        }
        if (lines.isEmpty()) {
            lines.add(label + "(empty)");
        }
        return lines;
    }

    static StateStore innermost(StateStore store) {
        StateStore s = store;
        while (s instanceof WrappedStateStore<?, ?, ?> w) {
            s = w.wrapped();
        }
        return s;
    }

    /** Typed reads through the driver: full scan, reverse scan, each range both ways, each prefix. */
    static List<String> snapshot(TopologyTestDriver driver, String name, View view, Scenario scenario) {
        KeyValueStore<String, ?> store = switch (view) {
            case KEY_VALUE -> driver.<String, Object>getKeyValueStore(name);
            case TIMESTAMPED -> driver.<String, Object>getTimestampedKeyValueStore(name);
            case HEADERS -> driver.<String, Object>getTimestampedKeyValueStoreWithHeaders(name);
        };
        assertThat(store).as("store %s read as %s", name, view).isNotNull();
        List<String> lines = new ArrayList<>();
        lines.addAll(lines("all ", store::all));
        lines.addAll(lines("reverseAll ", store::reverseAll));
        for (Bounds b : scenario.ranges()) {
            lines.addAll(lines("range " + b + " ", () -> store.range(b.from(), b.to())));
            lines.addAll(lines("reverseRange " + b + " ", () -> store.reverseRange(b.from(), b.to())));
        }
        for (String p : scenario.prefixes()) {
            lines.addAll(lines("prefixScan " + p + " ", () -> store.prefixScan(p, PREFIX_SERIALIZER)));
        }
        // point reads of every key seen, present or not
        Set<String> keys = new LinkedHashSet<>();
        scenario.input().forEach(in -> keys.add(in.key()));
        for (String key : new TreeSet<>(keys)) {
            Object v = store.get(key);
            if (v != null) {
                lines.add("get " + key + "=" + render(v));
            }
        }
        lines.add("get-misses " + keys.stream().filter(k -> store.get(k) == null).count());
        return lines;
    }

    /** The entries a query returns, or the exception it throws (which must then be the same in both runs). */
    static List<String> lines(String label, Supplier<? extends KeyValueIterator<String, ?>> query) {
        List<String> lines = new ArrayList<>();
        try (KeyValueIterator<String, ?> it = query.get()) {
            while (it.hasNext()) {
                KeyValue<String, ?> kv = it.next();
                lines.add(label + kv.key + "=" + render(kv.value));
            }
        } catch (RuntimeException e) {
            lines.add(label + "threw " + e.getClass().getName());
        }
        if (lines.isEmpty()) {
            lines.add(label + "(empty)");
        }
        return lines;
    }

    /**
     * A record's headers as {@link #render(Object)} shows them, except Kafka's changelog position header
     * ({@value ChangelogRecordDeserializationHelper#CHANGELOG_POSITION_HEADER_KEY}, written because the runs set
     * {@code IQ_CONSISTENCY_OFFSET_VECTOR_ENABLED}), which is decoded: Kafka writes a position's topics and
     * partitions in its map's iteration order, and Kafka 4.4's RocksDB store copies its position map, so the
     * same position can come out in another order. The decoded position is shown with topics and partitions
     * sorted, followed by the bytes after it; any other difference (a topic, partition or offset, the count of
     * either, the version byte, the length of the value) still shows. A value that does not decode is shown raw.
     */
    static String renderRecordHeaders(Headers headers) {
        StringBuilder sb = new StringBuilder("[");
        for (Header h : headers) {
            if (sb.length() > 1) {
                sb.append(',');
            }
            sb.append(h.key()).append('=');
            String position = h.key().equals(ChangelogRecordDeserializationHelper.CHANGELOG_POSITION_HEADER_KEY)
                    ? renderPosition(h.value()) : null;
            sb.append(position != null ? position : show(h.value()));
        }
        return sb.append(']').toString();
    }

    /** An encoded position (Kafka's {@link PositionSerde}) in a canonical order, or null if it does not decode. */
    static String renderPosition(byte[] value) {
        if (value == null) {
            return null;
        }
        ByteBuffer buffer = ByteBuffer.wrap(value);
        Position position;
        try {
            position = PositionSerde.deserialize(buffer);
        } catch (RuntimeException e) {
            return null;
        }
        StringBuilder sb = new StringBuilder("position{");
        for (String topic : new TreeSet<>(position.getTopics())) {
            sb.append(topic).append(new java.util.TreeMap<>(position.getPartitionPositions(topic))).append(';');
        }
        sb.append('}');
        byte[] rest = new byte[buffer.remaining()];
        buffer.get(rest);
        boolean zeros = true;
        for (byte b : rest) {
            zeros &= b == 0;
        }
        return sb.append(zeros ? "+" + rest.length + " zero bytes" : "+0x" + HexFormat.of().formatHex(rest)).toString();
    }

    static String render(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof ValueAndTimestamp<?> vt) {
            return vt.value() + "@" + vt.timestamp();
        }
        if (value instanceof ValueTimestampHeaders<?> vth) {
            return vth.value() + "@" + vth.timestamp() + render(vth.headers());
        }
        if (value instanceof Headers headers) {
            StringBuilder sb = new StringBuilder("[");
            for (Header h : headers) {
                if (sb.length() > 1) {
                    sb.append(',');
                }
                sb.append(h.key()).append('=').append(show(h.value()));
            }
            return sb.append(']').toString();
        }
        return value.toString();
    }

    /** Printable ASCII as a string, anything else as hex. */
    static String show(byte[] bytes) {
        if (bytes == null) {
            return "null";
        }
        for (byte b : bytes) {
            if (b < 0x20 || b > 0x7e) {
                return "0x" + HexFormat.of().formatHex(bytes);
            }
        }
        return "'" + new String(bytes, StandardCharsets.US_ASCII) + "'";
    }

    // ============================================================================================
    // Mutants
    // ============================================================================================

    /** The supplier, with its stores wrapped in a proxy that keeps every marker interface (timestamped, headers). */
    static KeyValueBytesStoreSupplier mutate(KeyValueBytesStoreSupplier real, Mutation mutation) {
        return (KeyValueBytesStoreSupplier) Proxy.newProxyInstance(TopologyEquivalenceTest.class.getClassLoader(),
                interfaces(real.getClass()), (proxy, method, args) -> {
                    Object result = call(real, method, args);
                    if (method.getName().equals("get") && method.getParameterCount() == 0) {
                        @SuppressWarnings("unchecked")
                        KeyValueStore<Bytes, byte[]> store = (KeyValueStore<Bytes, byte[]>) result;
                        return mutate(store, mutation);
                    }
                    return result;
                });
    }

    @SuppressWarnings("unchecked")
    static Object mutate(KeyValueStore<Bytes, byte[]> real, Mutation mutation) {
        return Proxy.newProxyInstance(TopologyEquivalenceTest.class.getClassLoader(), interfaces(real.getClass()),
                (proxy, method, args) -> {
                    String m = method.getName();
                    switch (mutation) {
                        case REVERSE_SCANS_RUN_FORWARD -> {
                            if (m.equals("reverseRange")) {
                                return real.range((Bytes) args[0], (Bytes) args[1]);
                            }
                            if (m.equals("reverseAll")) {
                                return real.all();
                            }
                        }
                        case DELETES_IGNORED -> {
                            if (m.equals("put") && args[1] == null) {
                                return null;
                            }
                            if (m.equals("delete")) {
                                return real.get((Bytes) args[0]);
                            }
                            if (m.equals("putAll")) {
                                List<KeyValue<Bytes, byte[]>> kept = new ArrayList<>();
                                for (KeyValue<Bytes, byte[]> kv : (List<KeyValue<Bytes, byte[]>>) args[0]) {
                                    if (kv.value != null) {
                                        kept.add(kv);
                                    }
                                }
                                real.putAll(kept);
                                return null;
                            }
                        }
                        case PREFIX_SCAN_UNBOUNDED -> {
                            if (m.equals("prefixScan")) {
                                byte[] prefix = ((Serializer<Object>) args[1]).serialize(null, args[0]);
                                return real.range(Bytes.wrap(prefix), null);
                            }
                        }
                        case PUT_IF_ABSENT_OVERWRITES -> {
                            if (m.equals("putIfAbsent")) {
                                byte[] old = real.get((Bytes) args[0]);
                                real.put((Bytes) args[0], (byte[]) args[1]);
                                return old;
                            }
                        }
                        case RANGE_END_EXCLUSIVE -> {
                            if ((m.equals("range") || m.equals("reverseRange")) && args[1] != null) {
                                List<KeyValue<Bytes, byte[]>> kept = new ArrayList<>();
                                try (KeyValueIterator<Bytes, byte[]> it = (KeyValueIterator<Bytes, byte[]>) call(real, method, args)) {
                                    it.forEachRemaining(kv -> {
                                        if (!kv.key.equals(args[1])) {
                                            kept.add(kv);
                                        }
                                    });
                                }
                                return new ListIterator(kept);
                            }
                        }
                    }
                    return call(real, method, args);
                });
    }

    static Class<?>[] interfaces(Class<?> type) {
        Set<Class<?>> all = new LinkedHashSet<>();
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            all.addAll(List.of(c.getInterfaces()));
        }
        return all.toArray(Class<?>[]::new);
    }

    static Object call(Object target, Method method, Object[] args) throws Throwable {
        try {
            method.setAccessible(true);
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    static final class ListIterator implements KeyValueIterator<Bytes, byte[]> {
        private final List<KeyValue<Bytes, byte[]>> entries;
        private int next;

        ListIterator(List<KeyValue<Bytes, byte[]>> entries) {
            this.entries = entries;
        }

        @Override
        public boolean hasNext() {
            return next < entries.size();
        }

        @Override
        public KeyValue<Bytes, byte[]> next() {
            if (!hasNext()) {
                throw new java.util.NoSuchElementException();
            }
            return entries.get(next++);
        }

        @Override
        public Bytes peekNextKey() {
            if (!hasNext()) {
                throw new java.util.NoSuchElementException();
            }
            return entries.get(next).key;
        }

        @Override
        public void close() {
        }
    }
}
