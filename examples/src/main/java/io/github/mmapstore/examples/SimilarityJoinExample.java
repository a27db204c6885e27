package io.github.mmapstore.examples;

import static io.github.mmapstore.examples.shared.Report.bytes;
import static io.github.mmapstore.examples.shared.Report.ms;
import static io.github.mmapstore.examples.shared.Report.rate;
import static io.github.mmapstore.examples.shared.Report.say;
import static io.github.mmapstore.examples.shared.Report.secs;
import static io.github.mmapstore.examples.shared.Report.section;

import io.github.mmapstore.examples.ClusteredMemories.Scored;
import io.github.mmapstore.examples.shared.Args;
import io.github.mmapstore.examples.shared.EmbeddedKafka;
import io.github.mmapstore.examples.shared.KafkaVersion;
import io.github.mmapstore.examples.shared.OutputReader;
import io.github.mmapstore.examples.shared.ProgressBar;
import io.github.mmapstore.examples.shared.RestoreProgress;
import io.github.mmapstore.examples.shared.StateDirs;
import io.github.mmapstore.examples.shared.StoreFigures;
import io.github.mmapstore.examples.shared.StreamsApp;
import io.github.mmapstore.examples.shared.Threads;
import io.github.mmapstore.examples.shared.Topics;
import io.github.mmapstore.examples.shared.ExampleMain;
import io.github.mmapstore.streams.EmbeddingSerde;
import io.github.mmapstore.streams.KnnFanOut;
import io.github.mmapstore.streams.KnnQuery;
import io.github.mmapstore.streams.KnnResult;
import io.github.mmapstore.streams.KnnResultSerde;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The main example: a Kafka Streams application (exactly-once v2) that joins a stream of query embeddings
 * to a table of "memory" embeddings by top-k cosine similarity, the table kept in an MmapStore embedding
 * store and searched in place ({@link SimilarityJoinTopology}).
 *
 * <ol>
 *   <li>Generates clustered memories and queries ({@link ClusteredMemories}), produces the memories
 *       and waits until the application has loaded and committed them all.</li>
 *   <li>Produces the queries and reads the matches with {@code read_committed}.</li>
 *   <li>Prints sample matches, precision@k against the known clusters, and checks every answer against a
 *       brute-force exact search over the same memories; asks the store through Interactive Queries
 *       ({@link KnnFanOut}) too; shows the store's figures.</li>
 *   <li>Closes the application and restarts it on the same state directory: a {@link RestoreProgress}
 *       listener shows how little is replayed (MmapStore keeps its changelog offsets with its data).</li>
 *   <li>Closes it again, deletes the local state and starts once more, as a new machine would: the whole
 *       table is restored from its changelog, with a progress bar.</li>
 * </ol>
 *
 * <p>Usage: see {@link Options#USAGE}. Without {@code --bootstrap-servers} a one-node KRaft broker runs in
 * this JVM. Exit code 0 when every check passed, 1 otherwise, 2 for bad arguments.
 */
public final class SimilarityJoinExample {
    private final Options opts;
    private final List<String> failures = new ArrayList<>();

    /** What a run found: the figures the report prints, for tests and callers. */
    public record Result(List<String> failures, int queries, int exactAnswers, double precisionAtK, double memoriesPerSecond,
                         double queriesPerSecond, long restoredAfterRestart, long restoredAfterWipe, List<String> leftoverThreads) {
        public boolean passed() {
            return failures.isEmpty();
        }
    }

    /** The options; see {@link #USAGE}. */
    public record Options(String bootstrapServers, Path stateDir, int memories, int queries, int clusters, int dimensions, int k,
                          int partitions, int batch, long seed, double spread, int timeoutSeconds) {
        static final String USAGE = """
                usage: SimilarityJoinExample [--bootstrap-servers host:port] [--state-dir empty-or-absent-dir]
                         [--memories 20000] [--queries 2000] [--clusters 16] [--dimensions 64] [--k 10]
                         [--partitions 2] [--batch 200] [--seed 42] [--spread 1.0] [--timeout-s 300]
                  --bootstrap-servers  use this Kafka cluster (topics get a run id and are deleted at the end);
                                       default: a one-node KRaft broker in this JVM
                  --state-dir          keep the Kafka Streams state here; default: a temporary directory
                  --batch              queries answered together in one pass over the store (1: each on its own)
                  --spread             standard deviation of the noise around each cluster centroid""";
        static final Set<String> KEYS = Set.of("bootstrap-servers", "state-dir", "memories", "queries", "clusters", "dimensions",
                "k", "partitions", "batch", "seed", "spread", "timeout-s");

        /** Parses {@code args}; null for {@code --help}. */
        public static Options parse(String... args) {
            Args a = Args.parse(args, KEYS);
            if (a.help()) {
                return null;
            }
            Options o = new Options(a.string("bootstrap-servers", null), a.path("state-dir"), a.integer("memories", 20_000, 1),
                    a.integer("queries", 2_000, 1), a.integer("clusters", 16, 1), a.integer("dimensions", 64, 2), a.integer("k", 10, 1),
                    a.integer("partitions", 2, 1), a.integer("batch", 200, 1), a.longValue("seed", 42), a.decimal("spread", 1.0, 0), a.integer("timeout-s", 300, 10));
            if (o.k > o.memories) {
                throw new IllegalArgumentException("--k " + o.k + " is more than the " + o.memories + " memories");
            }
            return o;
        }
    }

    private SimilarityJoinExample(Options opts) {
        this.opts = opts;
    }

    public static void main(String[] args) {
        ExampleMain.main("SimilarityJoinExample", args, Options::parse, Options.USAGE, Options::timeoutSeconds,
                opts -> run(opts).passed());
    }

    /** Runs the example with {@code opts}, printing its report; exceptions mean it could not run to the end. */
    public static Result run(Options opts) throws Exception {
        return new SimilarityJoinExample(opts).run();
    }

    private Result run() throws Exception {
        long t0 = System.nanoTime();
        Set<Thread> threadsBefore = Threads.nonDaemon();
        boolean tempState = opts.stateDir() == null;
        Path stateDir = StateDirs.prepare(opts.stateDir(), "mmapstore-similarity-join-");
        boolean external = opts.bootstrapServers() != null;
        // on a shared cluster every run gets its own topics and application id
        String suffix = external ? "-" + UUID.randomUUID().toString().substring(0, 8) : "";
        String app = "similarity-join" + suffix;
        String memoriesTopic = "memories" + suffix;
        String queriesTopic = "queries" + suffix;
        String matchesTopic = "matches" + suffix;
        Result result;
        EmbeddedKafka broker = null;
        try {
            say("MmapStore similarity-join example: Kafka Streams %s, exactly_once_v2, %d partitions, state dir %s",
                    KafkaVersion.streams(), opts.partitions(), stateDir);
            String bootstrap = opts.bootstrapServers();
            if (!external) {
                long b0 = System.nanoTime();
                broker = EmbeddedKafka.start();
                bootstrap = broker.bootstrapServers();
                say("in-process KRaft broker (1 combined node) started in %s at %s", secs(System.nanoTime() - b0), bootstrap);
            } else {
                say("using the Kafka cluster at %s (topics and application id end in %s)", bootstrap, suffix);
            }
            try (Topics topics = new Topics(bootstrap)) {
                topics.create(List.of(memoriesTopic, queriesTopic, matchesTopic), opts.partitions());
                try {
                    result = new Run(bootstrap, stateDir, topics, app, memoriesTopic, queriesTopic, matchesTopic).execute();
                } finally {
                    if (external) {
                        say("deleted this run's %d topics from the cluster",
                                topics.deleteMatching(t -> t.contains(suffix)));
                    }
                }
            }
        } finally {
            if (broker != null) {
                long b0 = System.nanoTime();
                broker.close();
                say("broker stopped in %s", secs(System.nanoTime() - b0));
            }
            if (tempState) {
                StateDirs.deleteRecursively(stateDir);
            }
        }
        // With the in-process broker everything this run started is stopped by now. A cluster given by
        // --bootstrap-servers may live in this JVM too (as in the tests) and start threads of its own
        // meanwhile, which cannot be told apart: then no check.
        List<String> leftover = external ? List.of() : Threads.startedSince(threadsBefore);
        if (!leftover.isEmpty()) {
            fail("threads still running after the shutdown: " + leftover);
        }
        section("summary");
        say("total time %s; %s", secs(System.nanoTime() - t0), failures.isEmpty() ? "all checks passed" : failures.size() + " check(s) FAILED");
        if (!tempState) {
            say("state kept in %s", stateDir);
        }
        return new Result(List.copyOf(failures), result.queries(), result.exactAnswers(), result.precisionAtK(),
                result.memoriesPerSecond(), result.queriesPerSecond(), result.restoredAfterRestart(), result.restoredAfterWipe(), leftover);
    }

    private void fail(String message) {
        failures.add(message);
        System.out.println("CHECK FAILED: " + message);
    }

    /** One run against a broker: the phases of the class comment. */
    private final class Run {
        private final String bootstrap;
        private final Path stateDir;
        private final Topics topics;
        private final String app;
        private final String memoriesTopic;
        private final String queriesTopic;
        private final String matchesTopic;
        private final ClusteredMemories data;
        private final EmbeddingSerde serde;

        Run(String bootstrap, Path stateDir, Topics topics, String app, String memoriesTopic, String queriesTopic, String matchesTopic) {
            this.bootstrap = bootstrap;
            this.stateDir = stateDir;
            this.topics = topics;
            this.app = app;
            this.memoriesTopic = memoriesTopic;
            this.queriesTopic = queriesTopic;
            this.matchesTopic = matchesTopic;
            this.serde = new EmbeddingSerde(opts.dimensions());
            long g0 = System.nanoTime();
            this.data = ClusteredMemories.generate(opts.memories(), opts.queries(), opts.clusters(), opts.dimensions(), opts.spread(), opts.seed());
            say("generated %,d memories in %d clusters (%d dimensions, noise %.2f around each centroid) and %,d queries near those clusters, "
                            + "seed %d, in %s", opts.memories(), opts.clusters(), opts.dimensions(), opts.spread(), opts.queries(), opts.seed(),
                    secs(System.nanoTime() - g0));
        }

        Result execute() throws Exception {
            StreamsApp streams = start(new RestoreProgress("restoring"));
            Map<Integer, KnnResult> matches;
            double memoriesPerSecond;
            double queriesPerSecond;
            KnnResult iqAnswer;
            try {
                streams.awaitRunning();
                say("Kafka Streams RUNNING after %s (%d tasks)", secs(streams.elapsedNanos()), streams.activeTasks());

                section("1. memories: topic -> table in an MmapStore embedding store");
                memoriesPerSecond = loadMemories(streams);

                section("2. queries: joined to their top " + opts.k() + " memories"
                        + (opts.batch() > 1 ? " (batches of up to " + opts.batch() + " per pass over the store)" : ""));
                long q0 = System.nanoTime();
                matches = joinQueries(streams);
                long q1 = System.nanoTime();
                queriesPerSecond = opts.queries() / ((q1 - q0) / 1e9);
                say("all %,d queries answered in %s: %s end to end (produce, fan-out, search, merge, exactly-once commit, "
                        + "read_committed)", opts.queries(), secs(q1 - q0), rate(opts.queries(), q1 - q0, "queries"));

                section("3. results");
                printSamples(matches);
                iqAnswer = interactiveQuery(streams, matches);
                printStoreFigures(streams);
            } finally {
                close(streams);
            }
            double precision = precisionAtK(matches);
            int exact = checkAgainstBruteForce(matches);

            section("4. restart on the same state directory");
            say("state on disk after a clean close: %s under %s", bytes(StateDirs.sizeOf(stateDir.resolve(app))), stateDir.resolve(app));
            long restoredAfterRestart = restart("restart", iqAnswer, false);

            section("5. restart on an empty state directory (a new machine)");
            StateDirs.deleteRecursively(stateDir.resolve(app));
            say("deleted the application's local state (%s): every store is rebuilt from its changelog", stateDir.resolve(app));
            long restoredAfterWipe = restart("restore", iqAnswer, true);
            return new Result(List.of(), opts.queries(), exact, precision, memoriesPerSecond, queriesPerSecond, restoredAfterRestart,
                    restoredAfterWipe, List.of());
        }

        private StreamsApp start(RestoreProgress restore) {
            Properties p = StreamsApp.exactlyOnceConfig(app, bootstrap, stateDir.toString(), 2);
            // small memtables (default 64 MiB), so that at these sizes the store writes segment files and
            // searches read mapped segments, as they would with a production-sized table
            p.put("mmapstore.memtable.bytes", 256 * 1024);
            return StreamsApp.start(SimilarityJoinTopology.build(memoriesTopic, queriesTopic, matchesTopic, opts.dimensions(), opts.k(),
                    opts.partitions(), opts.batch(), p), p, restore);
        }

        private void close(StreamsApp streams) {
            long c0 = System.nanoTime();
            if (!streams.closeCleanly()) {
                fail("Kafka Streams did not close within 30 s");
            }
            say("closed the application in %s", secs(System.nanoTime() - c0));
        }

        /** Produces every memory, waits until the application committed them all; returns memories per second. */
        private double loadMemories(StreamsApp streams) throws Exception {
            long p0 = System.nanoTime();
            try (KafkaProducer<String, byte[]> producer = producer();
                 ProgressBar bar = new ProgressBar("producing memories", opts.memories(), "records")) {
                for (int m = 0; m < opts.memories(); m++) {
                    producer.send(new ProducerRecord<>(memoriesTopic, ClusteredMemories.memoryKey(m),
                            serde.serializer().serialize(memoriesTopic, data.memory(m, System.currentTimeMillis()))), (md, e) -> {
                        if (e == null) {
                            bar.step(1);
                        }
                    });
                }
                producer.flush();
            }
            try (ProgressBar bar = new ProgressBar("loading into the table", opts.memories(), "records")) {
                streams.await("all memories in the table", () -> {
                    long behind = topics.uncommitted(app, List.of(memoriesTopic));
                    if (behind >= 0) {
                        bar.set(opts.memories() - behind);
                    }
                    return behind == 0;
                });
            }
            long p1 = System.nanoTime();
            say("loaded %,d memories into table '%s' (MmapStores.timestampedEmbeddingStore, cosine) in %s: %s "
                    + "(produce, process, exactly-once commit)", opts.memories(), SimilarityJoinTopology.MEMORY_STORE, secs(p1 - p0),
                    rate(opts.memories(), p1 - p0, "memories"));
            return opts.memories() / ((p1 - p0) / 1e9);
        }

        /** Produces every query and reads the matches until each query has its answer. */
        private Map<Integer, KnnResult> joinQueries(StreamsApp streams) throws Exception {
            Map<Integer, KnnResult> matches = new TreeMap<>();
            try (OutputReader<String, KnnResult> reader = new OutputReader<>(bootstrap, List.of(matchesTopic), new StringDeserializer(),
                    new KnnResultSerde().deserializer())) {
                try (KafkaProducer<String, byte[]> producer = producer();
                     ProgressBar bar = new ProgressBar("producing queries", opts.queries(), "records")) {
                    for (int q = 0; q < opts.queries(); q++) {
                        producer.send(new ProducerRecord<>(queriesTopic, ClusteredMemories.queryKey(q),
                                serde.serializer().serialize(queriesTopic, data.query(q, System.currentTimeMillis()))), (md, e) -> {
                            if (e == null) {
                                bar.step(1);
                            }
                        });
                    }
                    producer.flush();
                }
                long deadline = System.nanoTime() + StreamsApp.WAIT.toNanos();
                try (ProgressBar bar = new ProgressBar("matches read", opts.queries(), "queries")) {
                    while (matches.size() < opts.queries()) {
                        streams.checkHealthy();
                        if (System.nanoTime() > deadline) {
                            throw new TimeoutException("after " + StreamsApp.WAIT.toSeconds() + " s only " + matches.size() + " of "
                                    + opts.queries() + " queries have their matches");
                        }
                        for (ConsumerRecord<String, KnnResult> r : reader.poll(Duration.ofMillis(100))) {
                            if (matches.put(ClusteredMemories.queryIndex(r.key()), r.value()) != null) {
                                fail("query " + r.key() + " answered twice (exactly-once violated)");
                            }
                        }
                        bar.set(matches.size());
                    }
                }
            }
            return matches;
        }

        private KafkaProducer<String, byte[]> producer() {
            Map<String, Object> c = new HashMap<>();
            c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            c.put(ProducerConfig.ACKS_CONFIG, "all");
            c.put(ProducerConfig.LINGER_MS_CONFIG, 10);
            c.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
            return new KafkaProducer<>(c, new StringSerializer(), new org.apache.kafka.common.serialization.ByteArraySerializer());
        }

        private int clusterOf(KnnResult.Match m) {
            return data.memoryCluster[ClusteredMemories.memoryIndex(m.key(Serdes.String().deserializer()))];
        }

        private void printSamples(Map<Integer, KnnResult> matches) {
            int shown = Math.min(5, opts.k());
            say("sample matches (query near cluster -> its top %d memories: cluster and cosine%s):", opts.k(),
                    shown < opts.k() ? ", first " + shown : "");
            matches.entrySet().stream().limit(4).forEach(e -> {
                String top = e.getValue().matches().stream().limit(shown)
                        .map(m -> String.format(Locale.ROOT, "%s %.3f", data.clusterName(clusterOf(m)), m.score()))
                        .collect(Collectors.joining(", "));
                say("  %s (%s) -> %s%s", ClusteredMemories.queryKey(e.getKey()), data.clusterName(data.queryCluster[e.getKey()]), top,
                        shown < opts.k() ? ", ..." : "");
            });
        }

        /** Share of all returned matches that belong to their query's cluster (precision@k, averaged over queries). */
        private double precisionAtK(Map<Integer, KnnResult> matches) {
            long hits = 0;
            int worst = opts.k();
            int worstQuery = -1;
            for (var e : matches.entrySet()) {
                int c = data.queryCluster[e.getKey()];
                int h = (int) e.getValue().matches().stream().filter(m -> clusterOf(m) == c).count();
                hits += h;
                if (h < worst) {
                    worst = h;
                    worstQuery = e.getKey();
                }
            }
            double precision = (double) hits / ((long) matches.size() * opts.k());
            say("precision@%d against the known clusters: %.4f (%,d of %,d matches share their query's cluster; worst query %s)",
                    opts.k(), precision, hits, (long) matches.size() * opts.k(),
                    worstQuery < 0 ? "none below " + opts.k() + "/" + opts.k() : ClusteredMemories.queryKey(worstQuery) + " with " + worst + "/" + opts.k());
            return precision;
        }

        /**
         * Compares every answer to an exact search by a plain loop in double precision: the same scores
         * rank by rank (two memories may swap only when their scores tie within float rounding) and every
         * returned memory's score is its own cosine to the query. Returns how many answers matched.
         */
        private int checkAgainstBruteForce(Map<Integer, KnnResult> matches) {
            long b0 = System.nanoTime();
            int exact = 0;
            int reported = 0;
            for (int q = 0; q < opts.queries(); q++) {
                KnnResult got = matches.get(q);
                List<Scored> want = data.bruteForce(data.queries[q], opts.k());
                boolean ok = got != null && got.matches().size() == want.size();
                for (int i = 0; ok && i < want.size(); i++) {
                    KnnResult.Match m = got.matches().get(i);
                    int memory = ClusteredMemories.memoryIndex(m.key(Serdes.String().deserializer()));
                    ok = Math.abs(m.score() - want.get(i).score()) < 1e-4 && Math.abs(m.score() - data.cosine(data.queries[q], memory)) < 1e-4;
                }
                if (ok) {
                    exact++;
                } else if (reported++ < 3) {
                    say("  %s: the join answered %s, brute force %s", ClusteredMemories.queryKey(q), describe(got), want);
                }
            }
            if (exact != opts.queries()) {
                fail((opts.queries() - exact) + " of " + opts.queries() + " answers differ from a brute-force exact search");
            } else {
                say("exact: all %,d answers equal a brute-force top-%d over the %,d memories (checked in %s)", opts.queries(), opts.k(),
                        opts.memories(), secs(System.nanoTime() - b0));
            }
            return exact;
        }

        private String describe(KnnResult r) {
            return r == null ? "nothing" : r.matches().stream()
                    .map(m -> m.key(Serdes.String().deserializer()) + String.format(Locale.ROOT, ":%.6f", m.score()))
                    .collect(Collectors.joining(" ", "[", "]"));
        }

        /** The first query again, through Interactive Queries v2 over all local partitions; must equal the join's answer. */
        private KnnResult interactiveQuery(StreamsApp streams, Map<Integer, KnnResult> matches) {
            long k0 = System.nanoTime();
            KnnResult answer = KnnFanOut.localOnly(streams.streams())
                    .query(SimilarityJoinTopology.MEMORY_STORE, KnnQuery.nearest(data.queries[0], opts.k()));
            long k1 = System.nanoTime();
            boolean same = keys(answer).equals(keys(matches.get(0)));
            say("Interactive Queries v2: KnnFanOut over the %d local partitions of '%s' answers %s in %s: %s the join's answer",
                    opts.partitions(), SimilarityJoinTopology.MEMORY_STORE, ClusteredMemories.queryKey(0), ms(k1 - k0),
                    same ? "the same as" : "DIFFERENT from");
            if (!same) {
                fail("the Interactive Query for " + ClusteredMemories.queryKey(0) + " answered " + describe(answer)
                        + ", the join " + describe(matches.get(0)));
            }
            return answer;
        }

        private List<String> keys(KnnResult r) {
            return r == null ? List.of() : r.matches().stream().map(m -> (String) m.key(Serdes.String().deserializer())).toList();
        }

        private void printStoreFigures(StreamsApp streams) {
            StoreFigures f = StoreFigures.of(streams.streams(), SimilarityJoinTopology.MEMORY_STORE);
            say("store '%s' (metrics, summed over %d partitions): %,d rows, %d segment files, %s mapped, %s in memtables, "
                            + "%d flushes, %d compactions", SimilarityJoinTopology.MEMORY_STORE, f.partitions(), f.liveEntries(), f.segments(),
                    bytes(f.mappedBytes()), bytes(f.memtableBytes()), f.flushes(), f.compactions());
            if (f.liveEntries() != opts.memories()) {
                // approximate by definition, but exact for a table loaded once with distinct keys
                say("  (the live-entries gauge is approximate; %,d memories were loaded)", opts.memories());
            }
        }

        /**
         * Starts the application again with a restore listener, waits until its stores answer the first
         * query as before, and reports what was replayed; returns the records restored.
         */
        private long restart(String what, KnnResult expected, boolean fullRestoreExpected) throws Exception {
            Map<String, Long> changelogEnd = changelogEndOffsets();
            RestoreProgress restore = new RestoreProgress(fullRestoreExpected ? "restoring from changelog" : "restoring");
            StreamsApp streams = start(restore);
            try {
                streams.awaitRunning();
                long running = streams.elapsedNanos();
                KnnResult[] answer = new KnnResult[1];
                streams.await("the restored store answering queries", () -> {
                    try {
                        answer[0] = KnnFanOut.localOnly(streams.streams())
                                .query(SimilarityJoinTopology.MEMORY_STORE, KnnQuery.nearest(data.queries[0], opts.k()));
                        return answer[0].matches().size() == opts.k();
                    } catch (RuntimeException notYet) {
                        return false;
                    }
                });
                long answering = streams.elapsedNanos();
                Map<String, RestoreProgress.StoreRestore> restored = restore.finish();
                say("%s: RUNNING after %s, the table answering queries after %s", what, secs(running), secs(answering));
                say("restored per store (StateRestoreListener): records replayed / records in the changelog (end offsets, incl. transaction markers)");
                long sumRestored = 0;
                long sumChangelog = 0;
                for (var e : changelogEnd.entrySet()) {
                    RestoreProgress.StoreRestore r = restored.getOrDefault(e.getKey(), new RestoreProgress.StoreRestore(0, 0, 0));
                    say("  %-18s %,9d / %,9d   (%d partitions restored, %s summed over them)", e.getKey(), r.records(), e.getValue(),
                            r.partitions(), ms(r.nanos()));
                    sumRestored += r.records();
                    sumChangelog += e.getValue();
                }
                boolean same = keys(answer[0]).equals(keys(expected));
                say("  the table answers %s as before the restart: %s", ClusteredMemories.queryKey(0), same ? "yes" : "NO");
                if (!same) {
                    fail("after the " + what + " the store answered " + describe(answer[0]) + " instead of " + describe(expected));
                }
                if (fullRestoreExpected) {
                    long memoryRecords = restored.getOrDefault(SimilarityJoinTopology.MEMORY_STORE, new RestoreProgress.StoreRestore(0, 0, 0)).records();
                    if (memoryRecords < opts.memories()) {
                        fail("the full restore replayed " + memoryRecords + " memory records, fewer than the " + opts.memories() + " memories");
                    }
                    say("  %,d records replayed in %s (from start to the table answering): %s", sumRestored, secs(answering),
                            rate(sumRestored, answering, "records"));
                } else {
                    say("  %,d of %,d changelog records replayed (%.2f%%): MmapStore committed its changelog offsets with its data, "
                                    + "so only what came after its last commit is read again", sumRestored, sumChangelog,
                            100.0 * sumRestored / Math.max(1, sumChangelog));
                    if (sumRestored > Math.max(1_000, sumChangelog / 20)) {
                        fail("the restart replayed " + sumRestored + " of " + sumChangelog
                                + " changelog records; after a clean close only a small tail should be left");
                    }
                }
                return sumRestored;
            } finally {
                restore.finish();
                close(streams);
            }
        }

        private Map<String, Long> changelogEndOffsets() throws Exception {
            Map<String, Long> end = new TreeMap<>();
            for (String store : List.of(SimilarityJoinTopology.MEMORY_STORE, SimilarityJoinTopology.PENDING_STORE)) {
                String topic = app + "-" + store + "-changelog";
                for (Map.Entry<TopicPartition, Long> e : topics.endOffsets(List.of(topic)).entrySet()) {
                    end.merge(store, e.getValue(), Long::sum);
                }
            }
            return end;
        }
    }
}
