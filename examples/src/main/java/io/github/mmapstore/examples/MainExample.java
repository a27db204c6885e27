package io.github.mmapstore.examples;

import io.github.mmapstore.streams.Embedding;
import io.github.mmapstore.streams.EmbeddingSearch;
import io.github.mmapstore.streams.EmbeddingSerde;
import io.github.mmapstore.streams.KnnQuery;
import io.github.mmapstore.streams.KnnResult;
import io.github.mmapstore.streams.MmapStores;
import io.github.mmapstore.streams.Similarity;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.server.common.MetadataVersion;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StreamPartitioner;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.query.KeyQuery;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.query.StateQueryRequest;
import org.apache.kafka.streams.query.StateQueryResult;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The main example: a Kafka Streams application (exactly-once v2) whose state lives in MmapStore.
 *
 * <ol>
 *   <li>Page views per user, counted by the DSL in a timestamped MmapStore key-value store
 *       ({@code views-per-user}), the counts written to a topic.</li>
 *   <li>Product embeddings (64 dimensions, deterministic from a seed) loaded from a topic into an MmapStore
 *       embedding store ({@code products}, cosine), partitioned like the topic.</li>
 *   <li>"User interest" vectors (the mean embedding of the products each user viewed) joined against the
 *       products: each query is multicast to every partition, each task runs an exact top-5 search on its
 *       own store ({@link EmbeddingSearch#topK}), and a gather step keyed by query id merges the partial
 *       answers with {@link KnnResult#merge} into the overall top 5 (state in a third MmapStore store),
 *       written to a recommendations topic.</li>
 * </ol>
 *
 * <p>It produces the input, consumes the outputs with {@code read_committed} and checks them (every
 * user's count against the generated views, every recommendation against a brute-force search), asks
 * the stores through Interactive Queries v2, lists the store files, then closes the application and
 * starts it again on the same state directory to show how little had to be restored.
 *
 * <p>Usage: {@code MainExample [--bootstrap-servers host:port] [--state-dir dir] [--views n]
 * [--products n] [--queries n] [--partitions n] [--seed n]}. Without {@code --bootstrap-servers} an
 * in-process KRaft broker is started on localhost and stopped at the end. Without {@code --state-dir}
 * the state lives in a temporary directory, deleted at the end; a given one must be empty or absent
 * and is kept. Exit code 0 when every check passed, 1 otherwise, 2 for bad arguments.
 */
public final class MainExample {
    private static final Logger LOG = LoggerFactory.getLogger(MainExample.class);

    static final int DIM = 64;
    static final int K = 5;
    static final int USERS = 5_000;
    static final String VIEWS_STORE = "views-per-user";
    static final String PRODUCTS_STORE = "products";
    static final String PENDING_STORE = "pending-recommendations";
    static final List<String> CATEGORIES = List.of("books", "shoes", "laptops", "phones", "cameras", "garden",
            "toys", "kitchen", "music", "films", "games", "sports", "bikes", "camping", "beauty", "jewellery",
            "watches", "tools", "lighting", "furniture", "bedding", "pets", "baby", "office", "art", "travel",
            "audio", "fitness", "coffee", "tea");
    private static final Duration WAIT = Duration.ofSeconds(90);

    private final Options opts;
    private final AtomicReference<Throwable> streamsFailure = new AtomicReference<>();
    private final RestoreLog restoreLog = new RestoreLog();
    private int failures;

    private MainExample(Options opts) {
        this.opts = opts;
    }

    public static void main(String[] args) {
        int rc;
        Options opts;
        try {
            opts = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("MainExample: " + e.getMessage());
            System.err.println(Options.USAGE);
            System.exit(2);
            return;
        }
        if (opts == null) {
            System.out.println(Options.USAGE);
            System.exit(0);
            return;
        }
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(TimeUnit.SECONDS.toMillis(opts.timeoutSeconds));
                System.err.println("MainExample FAILED: still running after " + opts.timeoutSeconds + " s; giving up");
                Runtime.getRuntime().halt(1);
            } catch (InterruptedException e) {
                // finished in time
            }
        }, "example-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        try {
            rc = new MainExample(opts).run();
        } catch (Throwable t) {
            System.out.flush();
            System.err.println();
            System.err.println("MainExample FAILED: " + t);
            t.printStackTrace();
            rc = 1;
        }
        watchdog.interrupt();
        System.out.flush();
        System.exit(rc);
    }

    // ------------------------------------------------------------------------------------------------
    // The run
    // ------------------------------------------------------------------------------------------------

    private int run() throws Exception {
        long t0 = System.nanoTime();
        boolean tempState = opts.stateDir == null;
        Path stateDir = tempState ? Files.createTempDirectory("mmapstore-example-") : prepareStateDir(opts.stateDir);
        KafkaClusterTestKit broker = null;
        KafkaStreams streams = null;
        Names names = new Names(opts.bootstrapServers == null ? "" : "-" + UUID.randomUUID().toString().substring(0, 8));
        String bootstrap = opts.bootstrapServers;
        try {
            say("MmapStore main example: Kafka Streams %s, exactly_once_v2, %d partitions per topic, state dir %s",
                    org.apache.kafka.common.utils.AppInfoParser.getVersion(), opts.partitions, stateDir);
            if (bootstrap == null) {
                long b0 = System.nanoTime();
                broker = startBroker();
                bootstrap = broker.bootstrapServers();
                say("in-process KRaft broker (1 combined node) started in %s at %s", secs(System.nanoTime() - b0), bootstrap);
            } else {
                say("using the broker at %s", bootstrap);
            }

            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                createTopics(admin, names, bootstrap);
                Dataset data = Dataset.generate(opts);
                say("generated %,d products (%d-dim embeddings, %d categories), %,d page views by %,d users, %,d interest queries (seed %d)",
                        opts.products, DIM, CATEGORIES.size(), opts.views, data.activeUsers(), data.queries.size(), opts.seed);

                // ---- first run -------------------------------------------------------------------------
                section("1. processing");
                long s0 = System.nanoTime();
                streams = startStreams(bootstrap, stateDir, names);
                waitRunning(streams, "first start");
                say("Kafka Streams RUNNING after %s (%d tasks)", secs(System.nanoTime() - s0), taskCount(streams));

                Map<String, Integer> latestCount;
                Map<String, Reco> recos;
                try (KafkaProducer<byte[], byte[]> producer = producer(bootstrap);
                     KafkaConsumer<byte[], byte[]> consumer = consumer(bootstrap, names)) {
                    long p0 = System.nanoTime();
                    EmbeddingSerde es = new EmbeddingSerde(DIM);
                    for (int p = 0; p < opts.products; p++) {
                        producer.send(new ProducerRecord<>(names.products, utf8(productId(p)), es.serializer().serialize(names.products, data.productEmbedding(p))));
                    }
                    producer.flush();
                    waitUntil("all products in the embedding store", () -> committedEqualsEnd(admin, names.app, names.products));
                    long p1 = System.nanoTime();
                    say("loaded %,d product embeddings into '%s' in %s (%,.0f records/s, produce + process + EOS commit)",
                            opts.products, PRODUCTS_STORE, secs(p1 - p0), opts.products / ((p1 - p0) / 1e9));

                    // page views and interest queries, interleaved
                    long v0 = System.nanoTime();
                    int qi = 0;
                    int every = Math.max(1, opts.views / Math.max(1, data.queries.size()));
                    for (int v = 0; v < opts.views; v++) {
                        producer.send(new ProducerRecord<>(names.views, utf8(userId(data.viewUser[v])), utf8(productId(data.viewProduct[v]))));
                        if (v % every == every - 1 && qi < data.queries.size()) {
                            sendQuery(producer, es, names, data.queries.get(qi++));
                        }
                    }
                    while (qi < data.queries.size()) {
                        sendQuery(producer, es, names, data.queries.get(qi++));
                    }
                    producer.flush();
                    long v1 = System.nanoTime();
                    say("produced %,d page views and %,d interest queries in %s", opts.views, data.queries.size(), secs(v1 - v0));

                    latestCount = new HashMap<>();
                    recos = new LinkedHashMap<>();
                    long[] total = {0};
                    long deadline = System.nanoTime() + WAIT.toNanos();
                    while (total[0] < opts.views || recos.size() < data.queries.size()) {
                        checkStreams();
                        if (System.nanoTime() > deadline) {
                            throw new TimeoutException("after " + WAIT.toSeconds() + " s the outputs show " + total[0] + " of "
                                    + opts.views + " views counted and " + recos.size() + " of " + data.queries.size() + " recommendations");
                        }
                        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(50))) {
                            String key = str(r.key());
                            if (r.topic().equals(names.viewCounts)) {
                                int c = (int) (long) Serdes.Long().deserializer().deserialize(r.topic(), r.value());
                                Integer old = latestCount.put(key, c);
                                total[0] += c - (old == null ? 0 : old);
                            } else {
                                Reco reco = Reco.parse(key, str(r.value()));
                                if (recos.put(reco.queryId, reco) != null) {
                                    fail("recommendation for query " + reco.queryId + " emitted twice (exactly-once violated)");
                                }
                            }
                        }
                    }
                    long v2 = System.nanoTime();
                    int records = opts.views + data.queries.size();
                    say("all %,d records processed and visible to read_committed consumers %s after the first send: %,.0f records/s end to end",
                            records, secs(v2 - v0), records / ((v2 - v0) / 1e9));
                }

                // ---- checks of the outputs -------------------------------------------------------------
                section("2. results");
                checkCounts(data, latestCount);
                checkRecommendations(data, recos);
                printRecommendations(data, recos);

                // ---- Interactive Queries v2 ------------------------------------------------------------
                section("3. Interactive Queries v2");
                Snapshot before = interactiveQueries(streams, data, recos, true);

                // ---- close, look at the files, restart -----------------------------------------------
                section("4. stores on disk, restart on the same state directory");
                Map<String, Long> changelogEnd = changelogEndOffsets(admin, names);
                long c0 = System.nanoTime();
                closeStreams(streams);
                streams = null;
                say("closed the application in %s", secs(System.nanoTime() - c0));
                printStoreFiles(stateDir.resolve(names.app));

                restoreLog.reset();
                long r0 = System.nanoTime();
                streams = startStreams(bootstrap, stateDir, names);
                waitRunning(streams, "restart");
                long r1 = System.nanoTime();
                Snapshot after = waitForQueries(streams, data, recos);
                long r2 = System.nanoTime();
                say("restarted: RUNNING after %s, every partition of every store answering queries after %s", secs(r1 - r0), secs(r2 - r0));
                printRestore(changelogEnd);
                if (!after.equals(before)) {
                    fail("Interactive Queries after the restart differ: before " + before + ", after " + after);
                } else {
                    say("the same IQv2 answers as before the restart (counts of %d users, the merged top-%d)", before.counts.size(), K);
                }
                long c1 = System.nanoTime();
                closeStreams(streams);
                streams = null;
                say("closed the application in %s", secs(System.nanoTime() - c1));
                if (opts.bootstrapServers != null) {
                    deleteTopics(admin, names);
                }
            }
        } finally {
            if (streams != null) {
                closeStreams(streams);
            }
            if (broker != null) {
                long b0 = System.nanoTime();
                broker.close();
                say("broker stopped in %s", secs(System.nanoTime() - b0));
            }
            if (tempState) {
                deleteRecursively(stateDir);
            }
        }
        section("summary");
        say("total time %s; %s", secs(System.nanoTime() - t0), failures == 0 ? "all checks passed" : failures + " check(s) FAILED");
        if (!tempState) {
            say("state kept in %s", stateDir);
        }
        return failures == 0 ? 0 : 1;
    }

    // ------------------------------------------------------------------------------------------------
    // Topology
    // ------------------------------------------------------------------------------------------------

    static Topology topology(Names n, int partitions, Properties config) {
        StreamsBuilder b = new StreamsBuilder(new TopologyConfig(new StreamsConfig(config)));
        Serde<Embedding> embeddings = new EmbeddingSerde(DIM);

        // (1) page views per user: a DSL aggregation in a timestamped MmapStore key-value store
        b.stream(n.views, Consumed.with(Serdes.String(), Serdes.String()))
                .groupByKey()
                .count(Materialized.<String, Long>as(MmapStores.persistentTimestampedKeyValueStore(VIEWS_STORE))
                        .withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()))
                .toStream()
                .to(n.viewCounts, Produced.with(Serdes.String(), Serdes.Long()));

        // (2) product embeddings, loaded into an embedding store (caching must be off for searches)
        b.addStateStore(Stores.keyValueStoreBuilder(MmapStores.embeddingStore(PRODUCTS_STORE, DIM, Similarity.COSINE),
                Serdes.String(), embeddings).withCachingDisabled());
        b.stream(n.products, Consumed.with(Serdes.String(), embeddings))
                .process(ProductLoader::new, PRODUCTS_STORE);

        // (3) interest vectors -> every partition -> local exact top-k -> gathered by query id -> merged top-k
        b.addStateStore(Stores.keyValueStoreBuilder(MmapStores.persistentKeyValueStore(PENDING_STORE),
                Serdes.String(), Partial.SERDE).withCachingEnabled());
        StreamPartitioner<String, Embedding> everyPartition =
                (topic, key, value, numPartitions) -> Optional.of(IntStream.range(0, numPartitions).boxed().collect(Collectors.toSet()));
        b.stream(n.interests, Consumed.with(Serdes.String(), embeddings))
                .repartition(Repartitioned.<String, Embedding>as("interest-fanout")
                        .withKeySerde(Serdes.String()).withValueSerde(embeddings)
                        .withNumberOfPartitions(partitions).withStreamPartitioner(everyPartition))
                .process(LocalSearch::new, PRODUCTS_STORE)
                .repartition(Repartitioned.<String, Partial>as("partial-results")
                        .withKeySerde(Serdes.String()).withValueSerde(Partial.SERDE).withNumberOfPartitions(partitions))
                .process(() -> new Gather(partitions), PENDING_STORE)
                .to(n.recommendations, Produced.with(Serdes.String(), Serdes.String()));
        return b.build(config);
    }

    /** Writes product embeddings into the embedding store (a null value deletes the product). */
    static final class ProductLoader implements Processor<String, Embedding, Void, Void> {
        private KeyValueStore<String, Embedding> store;

        @Override
        public void init(ProcessorContext<Void, Void> context) {
            store = context.getStateStore(PRODUCTS_STORE);
        }

        @Override
        public void process(Record<String, Embedding> record) {
            store.put(record.key(), record.value());
        }
    }

    /** Top-k of one interest vector among this partition's products; forwards the partial answer keyed by query id. */
    static final class LocalSearch implements Processor<String, Embedding, String, Partial> {
        private ProcessorContext<String, Partial> context;
        private StateStore store;

        @Override
        public void init(ProcessorContext<String, Partial> context) {
            this.context = context;
            this.store = context.getStateStore(PRODUCTS_STORE);
        }

        @Override
        public void process(Record<String, Embedding> record) {
            String queryId = new String(record.value().metadata(), StandardCharsets.UTF_8);
            KnnResult local = EmbeddingSearch.topK(store, KnnQuery.nearest(record.value().vector(), K));
            context.forward(record.withKey(queryId).withValue(new Partial(record.key(), 1, local.matches())));
        }
    }

    /** Merges the partial answers of one query; when every partition has answered, emits the top-k by user. */
    static final class Gather implements Processor<String, Partial, String, String> {
        private final int partitions;
        private ProcessorContext<String, String> context;
        private KeyValueStore<String, Partial> pending;

        Gather(int partitions) {
            this.partitions = partitions;
        }

        @Override
        public void init(ProcessorContext<String, String> context) {
            this.context = context;
            this.pending = context.getStateStore(PENDING_STORE);
        }

        @Override
        public void process(Record<String, Partial> record) {
            Partial in = record.value();
            Partial sofar = pending.get(record.key());
            Partial merged = sofar == null ? in : new Partial(in.user, sofar.parts + in.parts,
                    KnnResult.merge(Similarity.COSINE, K, List.of(sofar.result(), in.result())).matches());
            if (merged.parts < partitions) {
                pending.put(record.key(), merged);
                return;
            }
            pending.delete(record.key());
            StringBuilder sb = new StringBuilder(record.key());
            for (KnnResult.Match m : merged.matches) {
                sb.append(' ').append(m.key(Serdes.String().deserializer())).append(':')
                        .append(String.format(Locale.ROOT, "%.6f", m.score()));
            }
            context.forward(record.withKey(in.user).withValue(sb.toString()));
        }
    }

    /** A partial (or running) top-k answer: the user who asked, how many partitions answered, the best matches. */
    record Partial(String user, int parts, List<KnnResult.Match> matches) {
        static final Serde<Partial> SERDE = Serdes.serdeFrom((topic, p) -> p == null ? null : p.encode(),
                (topic, bytes) -> bytes == null ? null : decode(bytes));

        KnnResult result() {
            return new KnnResult(Similarity.COSINE, matches);
        }

        byte[] encode() {
            try {
                ByteArrayOutputStream bos = new ByteArrayOutputStream(64 + 24 * matches.size());
                DataOutputStream out = new DataOutputStream(bos);
                out.writeUTF(user);
                out.writeInt(parts);
                out.writeInt(matches.size());
                for (KnnResult.Match m : matches) {
                    byte[] k = m.key().get();
                    out.writeInt(k.length);
                    out.write(k);
                    out.writeFloat(m.score());
                }
                return bos.toByteArray();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        static Partial decode(byte[] bytes) {
            try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(bytes))) {
                String user = in.readUTF();
                int parts = in.readInt();
                int n = in.readInt();
                List<KnnResult.Match> matches = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    byte[] k = new byte[in.readInt()];
                    in.readFully(k);
                    matches.add(new KnnResult.Match(Bytes.wrap(k), in.readFloat(), null));
                }
                return new Partial(user, parts, matches);
            } catch (IOException e) {
                throw new SerializationException("bad partial result", e);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Kafka plumbing
    // ------------------------------------------------------------------------------------------------

    /** Topic and application names; with an external broker they carry a run id so runs never mix. */
    record Names(String app, String views, String viewCounts, String products, String interests, String recommendations) {
        Names(String suffix) {
            this("mmapstore-example" + suffix, "page-views" + suffix, "views-per-user" + suffix, "products" + suffix,
                    "user-interests" + suffix, "recommendations" + suffix);
        }

        List<String> topics() {
            return List.of(views, viewCounts, products, interests, recommendations);
        }

        List<String> changelogs() {
            return Stream.of(VIEWS_STORE, PRODUCTS_STORE, PENDING_STORE).map(s -> app + "-" + s + "-changelog").toList();
        }
    }

    private static KafkaClusterTestKit startBroker() throws Exception {
        KafkaClusterTestKit kit = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                .setCombined(true)
                .setNumBrokerNodes(1)
                .setNumControllerNodes(1)
                // what a 4.3.1 broker formats by default (the test kit would pick the newest, unreleased one)
                .setBootstrapMetadataVersion(MetadataVersion.LATEST_PRODUCTION)
                .build())
                .setConfigProp("offsets.topic.replication.factor", "1")
                .setConfigProp("offsets.topic.num.partitions", "4")
                .setConfigProp("transaction.state.log.replication.factor", "1")
                .setConfigProp("transaction.state.log.min.isr", "1")
                .setConfigProp("transaction.state.log.num.partitions", "4")
                .setConfigProp("group.initial.rebalance.delay.ms", "0")
                .setConfigProp("default.replication.factor", "1")
                .setConfigProp("min.insync.replicas", "1")
                .setConfigProp("auto.create.topics.enable", "false")
                .build();
        java.io.PrintStream out = System.out;
        try {
            // format() prints the bootstrap metadata records to System.out: keep them out of the report
            System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
            try {
                kit.format();
            } finally {
                System.setOut(out);
            }
            kit.startup();
            kit.waitForReadyBrokers();
            return kit;
        } catch (Exception e) {
            kit.close();
            throw e;
        }
    }

    private void createTopics(Admin admin, Names n, String bootstrap) throws Exception {
        List<NewTopic> topics = n.topics().stream()
                .map(t -> new NewTopic(t, Optional.of(opts.partitions), Optional.empty()))
                .toList();
        try {
            admin.createTopics(topics).all().get(30, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException("no answer from the broker at " + bootstrap + " within 30 s: is it running and reachable?", e);
        }
    }

    private static void deleteTopics(Admin admin, Names n) {
        try {
            List<String> all = admin.listTopics().names().get(30, TimeUnit.SECONDS).stream()
                    .filter(t -> n.topics().contains(t) || t.startsWith(n.app + "-"))
                    .toList();
            admin.deleteTopics(all).all().get(30, TimeUnit.SECONDS);
            say("deleted this run's %d topics from the external broker", all.size());
        } catch (Exception e) {
            LOG.warn("could not delete the example's topics: {}", e.toString());
        }
    }

    private KafkaStreams startStreams(String bootstrap, Path stateDir, Names n) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, n.app);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 2);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
        // a transaction's first send often meets the previous one's markers still being written
        // (CONCURRENT_TRANSACTIONS): retry after 10 ms instead of backing off up to a second
        p.put(StreamsConfig.producerPrefix(ProducerConfig.RETRY_BACKOFF_MS_CONFIG), 10);
        p.put(StreamsConfig.producerPrefix(ProducerConfig.RETRY_BACKOFF_MAX_MS_CONFIG), 50);
        // small memtables, so the stores write segment files during the run and searches read mapped segments
        p.put("mmapstore.memtable.bytes", 256 * 1024);
        KafkaStreams s = new KafkaStreams(topology(n, opts.partitions, p), p);
        s.setUncaughtExceptionHandler(e -> {
            streamsFailure.compareAndSet(null, e);
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        s.setGlobalStateRestoreListener(restoreLog);
        s.start();
        return s;
    }

    private void waitRunning(KafkaStreams s, String what) throws Exception {
        waitUntil("Kafka Streams RUNNING (" + what + ")", () -> s.state() == KafkaStreams.State.RUNNING);
    }

    private static int taskCount(KafkaStreams s) {
        return s.metadataForLocalThreads().stream().mapToInt(t -> t.activeTasks().size()).sum();
    }

    private void closeStreams(KafkaStreams s) {
        if (!s.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                .withTimeout(Duration.ofSeconds(30)))) {
            fail("Kafka Streams did not close within 30 s");
        }
    }

    private void checkStreams() {
        Throwable t = streamsFailure.get();
        if (t != null) {
            throw new IllegalStateException("a stream thread failed: " + t, t);
        }
    }

    private void waitUntil(String what, BooleanSupplier done) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!done.getAsBoolean()) {
            checkStreams();
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("gave up waiting for " + what + " after " + WAIT.toSeconds() + " s");
            }
            Thread.sleep(50);
        }
    }

    /** True when the application's committed offsets reached the end of every partition of {@code topic}. */
    private boolean committedEqualsEnd(Admin admin, String group, String topic) {
        try {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
            Map<TopicPartition, OffsetSpec> specs = new HashMap<>();
            for (int p = 0; p < opts.partitions; p++) {
                specs.put(new TopicPartition(topic, p), OffsetSpec.latest());
            }
            var ends = admin.listOffsets(specs).all().get(10, TimeUnit.SECONDS);
            for (var e : ends.entrySet()) {
                OffsetAndMetadata c = committed.get(e.getKey());
                if (e.getValue().offset() > 0 && (c == null || c.offset() < e.getValue().offset())) {
                    return false;
                }
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException | TimeoutException e) {
            return false;
        }
    }

    private Map<String, Long> changelogEndOffsets(Admin admin, Names n) throws Exception {
        Map<TopicPartition, OffsetSpec> specs = new HashMap<>();
        for (String t : n.changelogs()) {
            for (int p = 0; p < opts.partitions; p++) {
                specs.put(new TopicPartition(t, p), OffsetSpec.latest());
            }
        }
        Map<String, Long> end = new TreeMap<>();
        admin.listOffsets(specs).all().get(30, TimeUnit.SECONDS).forEach((tp, info) ->
                end.merge(storeOfChangelog(n, tp.topic()), info.offset(), Long::sum));
        return end;
    }

    private static String storeOfChangelog(Names n, String topic) {
        return topic.substring(n.app.length() + 1, topic.length() - "-changelog".length());
    }

    private static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
        Map<String, Object> c = new HashMap<>();
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ProducerConfig.ACKS_CONFIG, "all");
        c.put(ProducerConfig.LINGER_MS_CONFIG, 10);
        c.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        return new KafkaProducer<>(c, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private KafkaConsumer<byte[], byte[]> consumer(String bootstrap, Names n) {
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> tps = new ArrayList<>();
        for (int p = 0; p < opts.partitions; p++) {
            tps.add(new TopicPartition(n.viewCounts, p));
            tps.add(new TopicPartition(n.recommendations, p));
        }
        consumer.assign(tps);
        consumer.seekToBeginning(tps);
        return consumer;
    }

    private static void sendQuery(KafkaProducer<byte[], byte[]> producer, EmbeddingSerde es, Names n, Query q) {
        Embedding e = new Embedding(q.vector, 1.0f, System.currentTimeMillis(), utf8(q.id));
        producer.send(new ProducerRecord<>(n.interests, utf8(userId(q.user)), es.serializer().serialize(n.interests, e)));
    }

    // ------------------------------------------------------------------------------------------------
    // Checks and reports
    // ------------------------------------------------------------------------------------------------

    private void checkCounts(Dataset data, Map<String, Integer> latest) {
        int wrong = 0;
        int users = 0;
        for (int u = 0; u < USERS; u++) {
            int expected = data.views[u];
            if (expected == 0) {
                continue;
            }
            users++;
            Integer got = latest.get(userId(u));
            if (got == null || got != expected) {
                if (wrong++ < 3) {
                    say("  count of %s: expected %d, output %s", userId(u), expected, got);
                }
            }
        }
        if (wrong > 0 || latest.size() != users) {
            fail(wrong + " of " + users + " users have a wrong count in the output topic (" + latest.size() + " users seen)");
        } else {
            say("views-per-user: the latest count of each of the %,d users in the output topic equals its generated page views (sum %,d): exactly once",
                    users, opts.views);
        }
    }

    private void checkRecommendations(Dataset data, Map<String, Reco> recos) {
        long b0 = System.nanoTime();
        int wrong = 0;
        int inFavourite = 0;
        int total = 0;
        for (Query q : data.queries) {
            Reco r = recos.get(q.id);
            List<Scored> exact = data.bruteForce(q.vector, K);
            boolean ok = r != null && r.user.equals(userId(q.user)) && r.products.size() == exact.size();
            for (int i = 0; ok && i < exact.size(); i++) {
                // the same scores rank by rank (products may swap only on equal scores) and each score is the product's own
                int p = parseProductId(r.products.get(i));
                ok = Math.abs(r.scores.get(i) - exact.get(i).score) < 1e-4 && Math.abs(r.scores.get(i) - data.cosine(q.vector, p)) < 1e-4;
            }
            if (!ok && wrong++ < 3) {
                say("  query %s: stream answered %s, brute force %s", q.id, r, exact);
            }
            if (r != null) {
                for (String pid : r.products) {
                    total++;
                    if (data.categoryOf(parseProductId(pid)) == data.favourite[q.user]) {
                        inFavourite++;
                    }
                }
            }
        }
        if (wrong > 0) {
            fail(wrong + " of " + data.queries.size() + " recommendations differ from a brute-force search");
        } else {
            say("recommendations: all %,d equal a brute-force exact top-%d over the %,d products (checked in %s); "
                    + "%.1f%% of the recommended products are in the user's favourite category",
                    data.queries.size(), K, opts.products, secs(System.nanoTime() - b0), 100.0 * inFavourite / Math.max(1, total));
        }
    }

    private void printRecommendations(Dataset data, Map<String, Reco> recos) {
        say("a few recommendations (user, favourite category, page views -> top %d products: category and cosine):", K);
        recos.values().stream().limit(4).forEach(r -> {
            int u = Integer.parseInt(r.user.substring(2));
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < r.products.size(); i++) {
                int p = parseProductId(r.products.get(i));
                sb.append(i == 0 ? "" : ", ").append(r.products.get(i)).append(' ').append(CATEGORIES.get(data.categoryOf(p)))
                        .append(String.format(Locale.ROOT, " %.3f", r.scores.get(i)));
            }
            say("  %s (%s, %d views) -> %s", r.user, CATEGORIES.get(data.favourite[u]), data.views[u], sb);
        });
    }

    /** What the stores answer through IQv2: counts of the heaviest users, and the merged top-k for one interest vector. */
    record Snapshot(Map<String, Long> counts, List<String> topK) {
    }

    private Snapshot interactiveQueries(KafkaStreams streams, Dataset data, Map<String, Reco> recos, boolean print) {
        Map<String, Long> counts = new LinkedHashMap<>();
        long k0 = System.nanoTime();
        List<Integer> heaviest = IntStream.range(0, USERS).boxed()
                .sorted(Comparator.comparingInt((Integer u) -> -data.views[u]).thenComparing(u -> u)).limit(3).toList();
        for (int u : heaviest) {
            StateQueryResult<Long> r = streams.query(StateQueryRequest.inStore(VIEWS_STORE)
                    .withQuery(KeyQuery.<String, Long>withKey(userId(u))));
            Long value = null;
            for (QueryResult<Long> pr : r.getPartitionResults().values()) {
                if (pr.isFailure()) {
                    throw new IllegalStateException("KeyQuery failed: " + pr.getFailureReason() + " " + pr.getFailureMessage());
                }
                if (pr.getResult() != null) {
                    value = pr.getResult();
                }
            }
            counts.put(userId(u), value);
            if (print) {
                boolean ok = value != null && value == data.views[u];
                say("KeyQuery   %s(%s) = %s  (%s)", VIEWS_STORE, userId(u), value, ok ? "matches the generated views" : "expected " + data.views[u]);
                if (!ok) {
                    fail("KeyQuery for " + userId(u) + " answered " + value + ", expected " + data.views[u]);
                }
            }
        }
        long k1 = System.nanoTime();

        Query q = data.queries.get(0);
        KnnQuery knn = KnnQuery.nearest(q.vector, K);
        StateQueryResult<KnnResult> r = streams.query(StateQueryRequest.inStore(PRODUCTS_STORE).withQuery(knn));
        List<KnnResult> parts = new ArrayList<>();
        for (var e : new TreeMap<>(r.getPartitionResults()).entrySet()) {
            QueryResult<KnnResult> pr = e.getValue();
            if (pr.isFailure()) {
                throw new IllegalStateException("KnnQuery failed on partition " + e.getKey() + ": " + pr.getFailureReason() + " " + pr.getFailureMessage());
            }
            parts.add(pr.getResult());
        }
        KnnResult merged = KnnResult.merge(Similarity.COSINE, K, parts);
        long k2 = System.nanoTime();
        List<String> top = merged.matches().stream().map(m -> (String) m.key(Serdes.String().deserializer())).toList();
        if (print) {
            say("KnnQuery   %s, interest vector of %s (query %s), %d partitions merged with KnnResult.merge:",
                    PRODUCTS_STORE, userId(q.user), q.id, parts.size());
            for (KnnResult.Match m : merged.matches()) {
                String pid = m.key(Serdes.String().deserializer());
                say("             %s %-10s cosine %.4f", pid, CATEGORIES.get(data.categoryOf(parseProductId(pid))), m.score());
            }
            Reco stream = recos.get(q.id);
            boolean same = stream != null && stream.products.equals(top);
            say("           %s the stream's recommendation for that query; %d KeyQuerys in %s, the KnnQuery in %s",
                    same ? "same as" : "DIFFERENT from", heaviest.size(), ms(k1 - k0), ms(k2 - k1));
            if (!same) {
                fail("the IQv2 KnnQuery answer " + top + " differs from the stream's " + stream);
            }
        }
        return new Snapshot(counts, top);
    }

    private Snapshot waitForQueries(KafkaStreams streams, Dataset data, Map<String, Reco> recos) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            checkStreams();
            try {
                Snapshot s = interactiveQueries(streams, data, recos, false);
                if (s.counts.values().stream().allMatch(v -> v != null) && s.topK.size() == K) {
                    return s;
                }
            } catch (RuntimeException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("stores did not answer queries within " + WAIT.toSeconds() + " s after the restart");
            }
            Thread.sleep(20);
        }
    }

    private void printStoreFiles(Path appDir) throws IOException {
        record Usage(Set<String> tasks, long[] filesBytes) {
        }
        Map<String, Usage> byStore = new TreeMap<>();
        Map<String, long[]> byKind = new TreeMap<>();
        try (Stream<Path> s = Files.walk(appDir)) {
            for (Path f : (Iterable<Path>) s.filter(Files::isRegularFile)::iterator) {
                Path rel = appDir.relativize(f);
                if (rel.getNameCount() < 4 || !rel.getName(1).toString().equals("mmapstore")) {
                    continue; // Kafka's own files: locks, process metadata
                }
                String store = rel.getName(2).toString();
                long size = Files.size(f);
                Usage u = byStore.computeIfAbsent(store, x -> new Usage(new java.util.TreeSet<>(), new long[2]));
                u.tasks.add(rel.getName(0).toString());
                u.filesBytes[0]++;
                u.filesBytes[1] += size;
                String name = f.getFileName().toString();
                int dot = name.lastIndexOf('.');
                String kind = dot > 0 ? name.substring(dot + 1) : name.replaceAll("[0-9]+", "N");
                long[] k = byKind.computeIfAbsent(kind, x -> new long[2]);
                k[0]++;
                k[1] += size;
            }
        }
        say("MmapStore files under %s/<task>/mmapstore/ (after a clean close; no RocksDB anywhere):", appDir);
        long files = 0;
        long bytes = 0;
        for (var e : byStore.entrySet()) {
            long[] fb = e.getValue().filesBytes;
            say("  %-24s %d partitions %4d files %12s", e.getKey(), e.getValue().tasks.size(), fb[0], bytes(fb[1]));
            files += fb[0];
            bytes += fb[1];
        }
        say("  %-24s %17d files %12s   by kind: %s", "total", files, bytes(bytes), byKind.entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue()[0] + " (" + bytes(e.getValue()[1]) + ")").collect(Collectors.joining(", ")));
        try (Stream<Path> s = Files.walk(appDir)) {
            if (s.anyMatch(f -> f.getFileName().toString().equals("rocksdb"))) {
                fail("a RocksDB directory exists: some store is not an MmapStore store");
            }
        }
    }

    private void printRestore(Map<String, Long> changelogEnd) {
        Map<String, long[]> restored = restoreLog.byStore();
        say("restore on restart (StateRestoreListener), per store: records restored / changelog records (end offsets, incl. transaction markers):");
        long sumRestored = 0;
        long sumChangelog = 0;
        for (var e : changelogEnd.entrySet()) {
            long[] r = restored.getOrDefault(e.getKey(), new long[3]);
            say("  %-24s %,8d / %,9d   (%d partitions checked; %s from restore start to end, summed)", e.getKey(), r[0], e.getValue(), r[1], ms(r[2]));
            sumRestored += r[0];
            sumChangelog += e.getValue();
        }
        say("  %-24s %,8d / %,9d   (%.2f%%: a full restore would replay every changelog record)", "total", sumRestored, sumChangelog,
                100.0 * sumRestored / Math.max(1, sumChangelog));
        if (sumRestored > Math.max(1000, sumChangelog / 20)) {
            fail("the restart restored " + sumRestored + " of " + sumChangelog + " changelog records; a clean close should leave only a small tail");
        }
    }

    /** Collects restore events per store: records restored, restores started, nanoseconds from start to end. */
    static final class RestoreLog implements StateRestoreListener {
        private final Map<String, long[]> stores = new ConcurrentHashMap<>();
        private final Map<TopicPartition, Long> started = new ConcurrentHashMap<>();
        private final AtomicLong events = new AtomicLong();

        void reset() {
            stores.clear();
            started.clear();
            events.set(0);
        }

        Map<String, long[]> byStore() {
            return stores;
        }

        @Override
        public void onRestoreStart(TopicPartition tp, String store, long startingOffset, long endingOffset) {
            started.put(tp, System.nanoTime());
            stores.computeIfAbsent(store, s -> new long[3])[1]++;
            events.incrementAndGet();
            LOG.debug("restore of {} {} starts: offsets {} to {}", store, tp, startingOffset, endingOffset);
        }

        @Override
        public void onBatchRestored(TopicPartition tp, String store, long batchEndOffset, long numRestored) {
        }

        @Override
        public void onRestoreEnd(TopicPartition tp, String store, long totalRestored) {
            Long t = started.remove(tp);
            long[] s = stores.computeIfAbsent(store, x -> new long[3]);
            synchronized (s) {
                s[0] += totalRestored;
                s[2] += t == null ? 0 : System.nanoTime() - t;
            }
            LOG.debug("restore of {} {} done: {} records", store, tp, totalRestored);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Data
    // ------------------------------------------------------------------------------------------------

    record Query(String id, int user, float[] vector) {
    }

    record Scored(int product, double score) {
        @Override
        public String toString() {
            return productId(product) + String.format(Locale.ROOT, ":%.6f", score);
        }
    }

    /** One line of the recommendations topic: query id, then product:score pairs best first. */
    record Reco(String user, String queryId, List<String> products, List<Float> scores) {
        static Reco parse(String user, String line) {
            String[] parts = line.split(" ");
            List<String> products = new ArrayList<>();
            List<Float> scores = new ArrayList<>();
            for (int i = 1; i < parts.length; i++) {
                int c = parts[i].lastIndexOf(':');
                products.add(parts[i].substring(0, c));
                scores.add(Float.parseFloat(parts[i].substring(c + 1)));
            }
            return new Reco(user, parts[0], products, scores);
        }
    }

    /**
     * The generated input. Products belong to categories; a product's embedding is its category's
     * centroid plus noise. Each user has a favourite category and views its products 70% of the time.
     * A user's interest vector is the mean embedding of the products the user viewed.
     */
    static final class Dataset {
        final float[][] products;
        final double[] norms;
        final int[] favourite = new int[USERS];
        final int[] views = new int[USERS];
        final int[] viewUser;
        final int[] viewProduct;
        final List<Query> queries = new ArrayList<>();

        private Dataset(int nProducts, int nViews) {
            products = new float[nProducts][];
            norms = new double[nProducts];
            viewUser = new int[nViews];
            viewProduct = new int[nViews];
        }

        static Dataset generate(Options o) {
            Random rnd = new Random(o.seed);
            Dataset d = new Dataset(o.products, o.views);
            int cats = CATEGORIES.size();
            float[][] centroids = new float[cats][DIM];
            for (float[] c : centroids) {
                for (int i = 0; i < DIM; i++) {
                    c[i] = (float) rnd.nextGaussian();
                }
            }
            for (int p = 0; p < o.products; p++) {
                float[] v = new float[DIM];
                float[] c = centroids[p % cats];
                double n = 0;
                for (int i = 0; i < DIM; i++) {
                    v[i] = c[i] + (float) rnd.nextGaussian();
                    n += (double) v[i] * v[i];
                }
                d.products[p] = v;
                d.norms[p] = Math.sqrt(n);
            }
            for (int u = 0; u < USERS; u++) {
                d.favourite[u] = rnd.nextInt(cats);
            }
            int perCategory = Math.max(1, o.products / cats);
            double[][] interest = new double[USERS][];
            for (int v = 0; v < o.views; v++) {
                double r = rnd.nextDouble();
                int u = (int) (USERS * r * r); // a few heavy users, a long tail
                int p = rnd.nextDouble() < 0.7
                        ? Math.min(o.products - 1, d.favourite[u] + cats * rnd.nextInt(perCategory))
                        : rnd.nextInt(o.products);
                d.viewUser[v] = u;
                d.viewProduct[v] = p;
                d.views[u]++;
                double[] acc = interest[u] == null ? (interest[u] = new double[DIM]) : interest[u];
                for (int i = 0; i < DIM; i++) {
                    acc[i] += d.products[p][i];
                }
            }
            List<Integer> candidates = IntStream.range(0, USERS).filter(u -> d.views[u] >= 3).boxed()
                    .collect(Collectors.toCollection(ArrayList::new));
            java.util.Collections.shuffle(candidates, rnd);
            for (int i = 0; i < Math.min(o.queries, candidates.size()); i++) {
                int u = candidates.get(i);
                float[] q = new float[DIM];
                for (int j = 0; j < DIM; j++) {
                    q[j] = (float) (interest[u][j] / d.views[u]);
                }
                d.queries.add(new Query(String.format(Locale.ROOT, "q-%06d", i), u, q));
            }
            return d;
        }

        int activeUsers() {
            return (int) Arrays.stream(views).filter(v -> v > 0).count();
        }

        int categoryOf(int product) {
            return product % CATEGORIES.size();
        }

        Embedding productEmbedding(int p) {
            return new Embedding(products[p], 1.0f, 0L, CATEGORIES.get(categoryOf(p)).getBytes(StandardCharsets.UTF_8));
        }

        double cosine(float[] q, int p) {
            double dot = 0;
            double qn = 0;
            for (int i = 0; i < DIM; i++) {
                dot += (double) q[i] * products[p][i];
                qn += (double) q[i] * q[i];
            }
            return dot / (Math.sqrt(qn) * norms[p]);
        }

        /** Exact top-k by a plain loop in double precision: best score first, then the smaller product id. */
        List<Scored> bruteForce(float[] q, int k) {
            double qn = 0;
            for (float f : q) {
                qn += (double) f * f;
            }
            qn = Math.sqrt(qn);
            int[] best = new int[k];
            double[] score = new double[k];
            int n = 0;
            for (int p = 0; p < products.length; p++) {
                double dot = 0;
                float[] v = products[p];
                for (int i = 0; i < DIM; i++) {
                    dot += (double) q[i] * v[i];
                }
                double c = dot / (qn * norms[p]);
                if (n == k && c <= score[k - 1]) {
                    continue; // ids ascend: on a tie the earlier product stays ahead
                }
                int at = n < k ? n++ : k - 1;
                while (at > 0 && score[at - 1] < c) {
                    score[at] = score[at - 1];
                    best[at] = best[at - 1];
                    at--;
                }
                score[at] = c;
                best[at] = p;
            }
            List<Scored> top = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                top.add(new Scored(best[i], score[i]));
            }
            return top;
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Options and small helpers
    // ------------------------------------------------------------------------------------------------

    record Options(String bootstrapServers, Path stateDir, int views, int products, int queries, int partitions, long seed,
                   int timeoutSeconds) {
        static final String USAGE = "usage: MainExample [--bootstrap-servers host:port] [--state-dir empty-or-absent-dir] "
                + "[--views 200000] [--products 3000] [--queries 2000] [--partitions 2] [--seed 42] [--timeout-s 300]";

        /** Parses the arguments; null for --help. */
        static Options parse(String[] args) {
            Map<String, String> m = new HashMap<>();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.isBlank()) {
                    continue;
                }
                if (a.equals("--help") || a.equals("-h")) {
                    return null;
                }
                if (!a.startsWith("--")) {
                    throw new IllegalArgumentException("unexpected argument '" + a + "'");
                }
                String key = a.substring(2);
                String value;
                int eq = key.indexOf('=');
                if (eq >= 0) {
                    value = key.substring(eq + 1);
                    key = key.substring(0, eq);
                } else if (i + 1 < args.length) {
                    value = args[++i];
                } else {
                    throw new IllegalArgumentException("option --" + key + " needs a value");
                }
                if (!Set.of("bootstrap-servers", "state-dir", "views", "products", "queries", "partitions", "seed", "timeout-s").contains(key)) {
                    throw new IllegalArgumentException("unknown option --" + key);
                }
                m.put(key, value);
            }
            Options o = new Options(m.get("bootstrap-servers"), m.containsKey("state-dir") ? Paths.get(m.get("state-dir")).toAbsolutePath() : null,
                    intOpt(m, "views", 200_000, 1), intOpt(m, "products", 3_000, K * CATEGORIES.size()),
                    intOpt(m, "queries", 2_000, 1), intOpt(m, "partitions", 2, 1),
                    Long.parseLong(m.getOrDefault("seed", "42")), intOpt(m, "timeout-s", 300, 10));
            return o;
        }

        private static int intOpt(Map<String, String> m, String key, int def, int min) {
            String v = m.get(key);
            if (v == null) {
                return def;
            }
            int n;
            try {
                n = Integer.parseInt(v.replace("_", "").replace(",", ""));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--" + key + " must be a whole number, was '" + v + "'");
            }
            if (n < min) {
                throw new IllegalArgumentException("--" + key + " must be at least " + min + ", was " + n);
            }
            return n;
        }
    }

    private static Path prepareStateDir(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> s = Files.list(dir)) {
                if (s.findAny().isPresent()) {
                    throw new IllegalArgumentException("--state-dir " + dir + " is not empty: give an empty or absent directory");
                }
            }
        }
        return Files.createDirectories(dir);
    }

    private void fail(String message) {
        failures++;
        System.out.println("CHECK FAILED: " + message);
    }

    static String userId(int u) {
        return String.format(Locale.ROOT, "u-%05d", u);
    }

    static String productId(int p) {
        return String.format(Locale.ROOT, "p-%05d", p);
    }

    static int parseProductId(String id) {
        return Integer.parseInt(id.substring(2));
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String str(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    private static void section(String title) {
        System.out.println();
        System.out.println("== " + title);
    }

    private static void say(String format, Object... args) {
        System.out.println(String.format(Locale.ROOT, format, args));
    }

    private static String secs(long nanos) {
        return String.format(Locale.ROOT, "%.2f s", nanos / 1e9);
    }

    private static String ms(long nanos) {
        return String.format(Locale.ROOT, "%.1f ms", nanos / 1e6);
    }

    private static String bytes(long b) {
        if (b < 1024) {
            return b + " B";
        }
        if (b < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", b / 1024.0);
        }
        return String.format(Locale.ROOT, "%.1f MiB", b / (1024.0 * 1024));
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            LOG.warn("could not delete {}: {}", dir, e.toString());
        }
    }
}
