package io.github.mmapstore.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mmapstore.streams.MmapStores;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Kafka 4.4's early commits (KIP-892): with {@code enable.transactional.statestores=true}, a stream thread commits
 * as soon as the bytes its stores report through {@code StateStore.approximateNumUncommittedBytes()} pass its share
 * of {@code statestore.uncommitted.max.bytes}, whatever {@code commit.interval.ms} says. An in-process Kafka Streams
 * (exactly_once_v2, one stream thread, caching off) materializes {@value #RECORDS} records of 1 KiB (4 MiB) under
 * distinct keys into one store, MmapStore or Kafka's RocksDB store, with {@code commit.interval.ms=60000} and a
 * limit of 64 KiB; the input is in the topic before the application starts.
 *
 * <p>Measured from Kafka's own figures: the thread's {@code stream-thread-metrics commit-total} and the consumer
 * group's committed offset, both read when the last record has been processed (well before 60 s). Asserted:
 * <ul>
 *   <li>flag on: at least {@value #MIN_EARLY_COMMITS} commits while processing (4 MiB over 64 KiB is 64 limits'
 *       worth; the commit interval alone would give at most one) and the group has committed most of the input;</li>
 *   <li>flag off: the same load commits at most once while processing (the interval has not passed; MmapStore, as
 *       Kafka's stores, reports 0 uncommitted bytes then) and the group has committed nothing.</li>
 * </ul>
 * Kafka 4.4 only: the sources use 4.4's API, so {@code it-tests-kafka43} and {@code -Pkafka-4.3} do not compile
 * this class. Summary: {@code target/it-summary-uncommitted-bytes.md}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UncommittedBytesIT {
    static final int RECORDS = 4096;
    static final int VALUE_BYTES = 1024;
    /**
     * {@code statestore.uncommitted.max.bytes}: 64 KiB ({@code -Dit.uncommitted.limit=-1} turns Kafka's early commits off,
     * which the flag-on cases must then detect as a failure).
     */
    static final long LIMIT = Long.getLong("it.uncommitted.limit", 64 * 1024);
    static final int MIN_EARLY_COMMITS = 10;
    static final AtomicLong PROCESSED_MMAP = new AtomicLong();
    static final AtomicLong PROCESSED_ROCKSDB = new AtomicLong();

    private final Path outDir = Path.of(System.getProperty("it.summary.dir", "target"));
    private final List<String> rows = Collections.synchronizedList(new ArrayList<>());
    private KafkaCluster cluster;

    @BeforeAll
    void startCluster() throws Exception {
        cluster = KafkaCluster.shared();
    }

    @AfterAll
    void writeSummary() throws Exception {
        StringBuilder md = new StringBuilder("# Integration test summary: early commits on uncommitted bytes (KIP-892)\n\n");
        md.append("- Kafka Streams ").append(ItSupport.kafkaVersion("streams")).append(", exactly_once_v2, one stream thread, ")
                .append(RECORDS).append(" records of ").append(VALUE_BYTES).append(" B under distinct keys into one store, ")
                .append("commit.interval.ms=60000, statestore.uncommitted.max.bytes=").append(LIMIT).append('\n');
        md.append("- commits: `stream-thread-metrics` `commit-total` from RUNNING to the last record processed; committed: the group's"
                + " committed offset of the input at that moment\n\n");
        md.append("| store | enable.transactional.statestores | processing ms | commits while processing | committed input offset | result |\n");
        md.append("|---|---|---|---|---|---|\n");
        rows.forEach(md::append);
        Files.createDirectories(outDir);
        Files.writeString(outDir.resolve("it-summary-uncommitted-bytes.md"), md);
        System.out.println(md);
        // the shared cluster stays up for the next class (closed at JVM exit)
    }

    @ParameterizedTest(name = "{0} transactional={1}")
    @CsvSource({"mmap, true", "rocksdb, true", "mmap, false", "rocksdb, false"})
    void earlyCommitsFollowTheUncommittedBytes(String storeKind, boolean txn) throws Exception {
        String sc = "uncommitted-" + storeKind + "-" + txn;
        String input = "t-" + sc + "-input";
        cluster.createTopics(1, List.of(input));
        Path stateDir = outDir.resolve("it-work").resolve(sc);
        ItSupport.deleteRecursively(stateDir);
        String value = "v".repeat(VALUE_BYTES);
        try (KafkaProducer<String, String> producer = ItSupport.producer(cluster)) {
            for (int i = 0; i < RECORDS; i++) {
                producer.send(new ProducerRecord<>(input, String.format("key-%06d", i), value));
            }
            producer.flush();
        }
        AtomicLong processed = storeKind.equals("mmap") ? PROCESSED_MMAP : PROCESSED_ROCKSDB;
        processed.set(0);

        Serde<String> s = Serdes.String();
        StreamsBuilder b = new StreamsBuilder();
        KeyValueBytesStoreSupplier supplier = storeKind.equals("mmap") ? MmapStores.persistentTimestampedKeyValueStore("table")
                : Stores.persistentTimestampedKeyValueStore("table");
        b.stream(input, Consumed.with(s, s))
                .groupByKey(Grouped.with(s, s))
                .reduce((old, v) -> v, Materialized.<String, String>as(supplier).withKeySerde(s).withValueSerde(s).withCachingDisabled())
                .toStream()
                .foreach((k, v) -> processed.incrementAndGet());
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, sc);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toAbsolutePath().toString());
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 60_000);
        // Kafka Streams refuses a commit interval longer than the transaction timeout (10 s by default under EOS)
        p.put(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG), 120_000);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0L);
        p.put(StreamsConfig.TRANSACTIONAL_STATE_STORES_CONFIG, txn);
        p.put(StreamsConfig.STATESTORE_UNCOMMITTED_MAX_BYTES_CONFIG, LIMIT);
        p.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");

        long commits;
        long ms;
        Long committedOffset;
        try (KafkaStreams streams = new KafkaStreams(b.build(), p)) {
            streams.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (streams.state() != KafkaStreams.State.RUNNING && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(streams.state()).as("state 60 s after start").isEqualTo(KafkaStreams.State.RUNNING);
            long commitsAtStart = commitTotal(streams);
            long t0 = System.nanoTime();
            // processing must finish well inside the 60 s commit interval for the counts to mean anything
            while (processed.get() < RECORDS && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(45)) {
                Thread.sleep(10);
            }
            ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(processed.get()).as("records processed within 45 s").isEqualTo(RECORDS);
            commits = commitTotal(streams) - commitsAtStart;
            committedOffset = committedOffset(sc, new TopicPartition(input, 0));
        }
        boolean ok = txn ? commits >= MIN_EARLY_COMMITS && committedOffset != null && committedOffset >= RECORDS / 2
                : commits <= 1 && (committedOffset == null || committedOffset == 0);
        rows.add("| " + storeKind + " | " + txn + " | " + ms + " | " + commits + " | " + committedOffset + " | " + (ok ? "PASS" : "FAIL") + " |\n");
        System.out.println("uncommitted bytes " + storeKind + " transactional=" + txn + ": " + commits + " commits in " + ms
                + " ms of processing, committed input offset " + committedOffset);
        if (txn) {
            assertThat(commits).as(storeKind + ": commits while processing 4 MiB with a 64 KiB limit and a 60 s interval")
                    .isGreaterThanOrEqualTo(MIN_EARLY_COMMITS);
            assertThat(committedOffset).as(storeKind + ": the group's committed input offset at the end of processing")
                    .isNotNull().isGreaterThanOrEqualTo(RECORDS / 2L);
        } else {
            assertThat(commits).as(storeKind + ": commits while processing without transactional stores (interval 60 s)")
                    .isLessThanOrEqualTo(1);
            assertThat(committedOffset == null || committedOffset == 0)
                    .as(storeKind + ": nothing committed before the interval, committed offset " + committedOffset).isTrue();
        }
    }

    /** The stream threads' {@code commit-total} ({@code stream-thread-metrics}). */
    static long commitTotal(KafkaStreams streams) {
        double total = 0;
        for (Map.Entry<MetricName, ? extends Metric> e : streams.metrics().entrySet()) {
            if (e.getKey().name().equals("commit-total") && e.getKey().group().equals("stream-thread-metrics")) {
                total += ((Number) e.getValue().metricValue()).doubleValue();
            }
        }
        return (long) total;
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
