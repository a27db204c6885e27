package io.github.mmapstore.examples;

import static io.github.mmapstore.examples.shared.Report.bytes;
import static io.github.mmapstore.examples.shared.Report.rate;
import static io.github.mmapstore.examples.shared.Report.say;
import static io.github.mmapstore.examples.shared.Report.secs;
import static io.github.mmapstore.examples.shared.Report.section;

import io.github.mmapstore.examples.shared.Args;
import io.github.mmapstore.examples.shared.CrashedChild;
import io.github.mmapstore.examples.shared.EmbeddedKafka;
import io.github.mmapstore.examples.shared.KafkaVersion;
import io.github.mmapstore.examples.shared.OutputReader;
import io.github.mmapstore.examples.shared.ProgressBar;
import io.github.mmapstore.examples.shared.RestoreProgress;
import io.github.mmapstore.examples.shared.StateDirs;
import io.github.mmapstore.examples.shared.StreamsApp;
import io.github.mmapstore.examples.shared.Threads;
import io.github.mmapstore.examples.shared.Topics;
import io.github.mmapstore.examples.shared.ExampleMain;
import io.github.mmapstore.streams.MmapDslStoreSuppliers;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.query.KeyQuery;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.query.StateQueryRequest;

/**
 * Moving an ordinary DSL application ({@link OrdersTopology}: a count, a windowed aggregation, a
 * stream-table join) from RocksDB to MmapStore with one line of configuration:
 *
 * <pre>
 * dsl.store.suppliers.class=io.github.mmapstore.streams.MmapDslStoreSuppliers
 * </pre>
 *
 * The same input is processed twice, by two applications (exactly-once v2) that differ only in that
 * line, each with its own state directory and output topics. For each it measures:
 * <ul>
 *   <li>processing: from start to every result in the output topics (read_committed);</li>
 *   <li>a clean close and restart: records restored and time to RUNNING;</li>
 *   <li>a restart after a real crash: more orders arrive, the application processes them in a child JVM on
 *       the same state directory and is killed there with SIGKILL once it has committed them; then it
 *       restarts here: records restored and time to RUNNING. Under exactly-once, Kafka wipes a RocksDB store that was not closed cleanly
 *       and restores it in full; an MmapStore store keeps the changelog offsets of its last commit with
 *       its data and replays only what came after;</li>
 *   <li>state on disk after the close, and heap and resident memory grown while running (both are
 *       whole-JVM figures, taken after a full GC: indicative, not a store-only measurement; RocksDB's
 *       memory is native and shows only in the resident size).</li>
 * </ul>
 * Both outputs must equal each other and the results computed directly from the input.
 *
 * <p>Usage: see {@link Options#USAGE}. Exit code 0 when every check passed, 1 otherwise, 2 for bad arguments.
 */
public final class RocksDbSwapExample {
    /** The backends, in the order they run by default. */
    public enum Backend {
        ROCKSDB("RocksDB (Kafka's default)"), MMAPSTORE("MmapStore");

        final String label;

        Backend(String label) {
            this.label = label;
        }

        String run() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** What one backend's application measured. */
    public record Figures(Backend backend, long processingNanos, long restartRestored, long restartNanos, long crashRestored,
                          long crashNanos, long crashChangelogWritten, long totalChangelog, long diskBytes, long heapGrowthBytes, long rssGrowthBytes, boolean usedRocksDb,
                          boolean usedMmapStore) {
    }

    /** The outcome: both backends' figures and whether their outputs were identical. */
    public record Result(List<String> failures, boolean identicalOutputs, Map<Backend, Figures> figures, List<String> leftoverThreads) {
        public boolean passed() {
            return failures.isEmpty();
        }
    }

    /** The options; see {@link #USAGE}. */
    public record Options(String bootstrapServers, Path stateDir, int orders, int customers, int partitions, long seed,
                          Backend first, int timeoutSeconds) {
        static final String USAGE = """
                usage: RocksDbSwapExample [--bootstrap-servers host:port] [--state-dir empty-or-absent-dir]
                         [--orders 50000] [--customers 2000] [--partitions 2] [--seed 7] [--first rocksdb|mmapstore] [--timeout-s 300]
                  --first   which backend runs first (the first run also warms up the JVM, which flatters the second)""";
        static final Set<String> KEYS = Set.of("bootstrap-servers", "state-dir", "orders", "customers", "partitions", "seed", "first",
                "timeout-s");

        /** Parses {@code args}; null for {@code --help}. */
        public static Options parse(String... args) {
            Args a = Args.parse(args, KEYS);
            if (a.help()) {
                return null;
            }
            String first = a.string("first", "rocksdb");
            Backend b = switch (first) {
                case "rocksdb" -> Backend.ROCKSDB;
                case "mmapstore" -> Backend.MMAPSTORE;
                default -> throw new IllegalArgumentException("--first must be rocksdb or mmapstore, was '" + first + "'");
            };
            return new Options(a.string("bootstrap-servers", null), a.path("state-dir"), a.integer("orders", 50_000, 1),
                    a.integer("customers", 2_000, 1), a.integer("partitions", 2, 1), a.longValue("seed", 7), b, a.integer("timeout-s", 300, 10));
        }
    }

    private static final String CRASH_CHILD = "--crash-child";

    private final Options opts;
    private final List<String> failures = new ArrayList<>();

    private RocksDbSwapExample(Options opts) {
        this.opts = opts;
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals(CRASH_CHILD)) {
            crashChild(args);
            return;
        }
        ExampleMain.main("RocksDbSwapExample", args, Options::parse, Options.USAGE, Options::timeoutSeconds,
                opts -> run(opts).passed());
    }

    /** Runs the example with {@code opts}, printing its report; exceptions mean it could not run to the end. */
    public static Result run(Options opts) throws Exception {
        return new RocksDbSwapExample(opts).run();
    }

    private Result run() throws Exception {
        long t0 = System.nanoTime();
        Set<Thread> threadsBefore = Threads.nonDaemon();
        boolean tempState = opts.stateDir() == null;
        Path stateDir = StateDirs.prepare(opts.stateDir(), "mmapstore-rocksdb-swap-");
        boolean external = opts.bootstrapServers() != null;
        String suffix = external ? "-" + UUID.randomUUID().toString().substring(0, 8) : "";
        String ordersTopic = "orders" + suffix;
        String customersTopic = "customers" + suffix;
        Map<Backend, Figures> figures = new LinkedHashMap<>();
        Map<Backend, Map<String, Map<String, Long>>> outputs = new LinkedHashMap<>();
        EmbeddedKafka broker = null;
        try {
            say("MmapStore rocksdb-swap example: Kafka Streams %s, exactly_once_v2, %d partitions, state dir %s",
                    KafkaVersion.streams(), opts.partitions(), stateDir);
            String bootstrap = opts.bootstrapServers();
            if (!external) {
                long b0 = System.nanoTime();
                broker = EmbeddedKafka.start();
                bootstrap = broker.bootstrapServers();
                say("in-process KRaft broker (1 combined node) started in %s at %s", secs(System.nanoTime() - b0), bootstrap);
            } else {
                say("using the Kafka cluster at %s (topics and application ids end in %s)", bootstrap, suffix);
            }
            try (Topics topics = new Topics(bootstrap)) {
                List<String> all = new ArrayList<>(List.of(ordersTopic, customersTopic));
                for (Backend b : Backend.values()) {
                    for (String r : List.of(OrdersTopology.COUNTS, OrdersTopology.HOURLY, OrdersTopology.REGIONS)) {
                        all.add(OrdersTopology.outputTopic(b.run() + suffix, r));
                    }
                }
                topics.create(all, opts.partitions());
                try {
                    int later = Math.max(1, opts.orders() / 5);
                    OrdersData data = OrdersData.generate(opts.customers(), opts.orders() + later, opts.seed());
                    produce(bootstrap, data, ordersTopic, customersTopic, 0, opts.orders(), true);
                    List<Backend> order = opts.first() == Backend.ROCKSDB ? List.of(Backend.ROCKSDB, Backend.MMAPSTORE)
                            : List.of(Backend.MMAPSTORE, Backend.ROCKSDB);
                    Map<Backend, BackendRun> runs = new LinkedHashMap<>();
                    int step = 1;
                    for (Backend b : order) {
                        section(step++ + ". " + b.label + ": processing, clean restart");
                        BackendRun r = new BackendRun(b, bootstrap, stateDir, topics, suffix, ordersTopic, customersTopic);
                        r.processAndRestart(data.expected(opts.orders()));
                        runs.put(b, r);
                    }
                    section(step++ + ". more orders");
                    produce(bootstrap, data, ordersTopic, customersTopic, opts.orders(), opts.orders() + later, false);
                    for (Backend b : order) {
                        section(step++ + ". " + b.label + ": crash and restart");
                        BackendRun r = runs.get(b);
                        figures.put(b, r.crashAndRestart(data.expected(opts.orders() + later)));
                        outputs.put(b, r.outputs);
                    }
                } finally {
                    if (external) {
                        say("deleted this run's %d topics from the cluster", topics.deleteMatching(t -> t.contains(suffix)));
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
        boolean identical = outputs.size() == 2 && outputs.get(Backend.ROCKSDB).equals(outputs.get(Backend.MMAPSTORE));
        section("what changed");
        printComparison(figures, outputs, identical);
        // With the in-process broker everything this run started is stopped by now. A cluster given by
        // --bootstrap-servers may live in this JVM too (as in the tests) and start threads of its own
        // meanwhile, which cannot be told apart: then no check.
        List<String> leftover = external ? List.of() : Threads.startedSince(threadsBefore);
        if (!leftover.isEmpty()) {
            fail("threads still running after the shutdown: " + leftover);
        }
        section("summary");
        say("total time %s; %s", secs(System.nanoTime() - t0), failures.isEmpty() ? "all checks passed" : failures.size() + " check(s) FAILED");
        return new Result(List.copyOf(failures), identical, figures, leftover);
    }

    private void fail(String message) {
        failures.add(message);
        System.out.println("CHECK FAILED: " + message);
    }

    /** Produces the customers (if {@code withCustomers}) and orders {@code from} to {@code to} (exclusive). */
    private void produce(String bootstrap, OrdersData data, String ordersTopic, String customersTopic, int from, int to,
                         boolean withCustomers) {
        Map<String, Object> c = new HashMap<>();
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ProducerConfig.ACKS_CONFIG, "all");
        c.put(ProducerConfig.LINGER_MS_CONFIG, 10);
        c.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        int customers = withCustomers ? data.customerRegion.length : 0;
        try (KafkaProducer<String, Object> producer = new KafkaProducer<>(c, new StringSerializer(), (topic, v) ->
                v instanceof Long l ? new LongSerializer().serialize(topic, l) : new StringSerializer().serialize(topic, (String) v));
             ProgressBar bar = new ProgressBar("producing input", customers + to - from, "records")) {
            for (int i = 0; i < customers; i++) {
                producer.send(new ProducerRecord<>(customersTopic, null, data.customersTimestamp, OrdersData.customerId(i),
                        data.customerRegion[i]), (md, e) -> bar.step(e == null ? 1 : 0));
            }
            for (int o = from; o < to; o++) {
                producer.send(new ProducerRecord<>(ordersTopic, null, data.orderTimestamp[o], OrdersData.customerId(data.orderCustomer[o]),
                        data.orderAmount[o]), (md, e) -> bar.step(e == null ? 1 : 0));
            }
            producer.flush();
        }
        if (withCustomers) {
            say("input: %,d customers in %d regions (a table), %,d orders over %.1f hours (a stream), produced before either application starts",
                    customers, OrdersData.REGIONS.size(), to - from, (data.orderTimestamp[to - 1] - data.orderTimestamp[from]) / 3.6e6);
        } else {
            say("input: %,d more orders, the next %.1f hours", to - from, (data.orderTimestamp[to - 1] - data.orderTimestamp[from]) / 3.6e6);
        }
    }

    private void printComparison(Map<Backend, Figures> figures, Map<Backend, Map<String, Map<String, Long>>> outputs, boolean identical) {
        if (figures.size() < 2) {
            return;
        }
        Figures r = figures.get(Backend.ROCKSDB);
        Figures m = figures.get(Backend.MMAPSTORE);
        int keys = outputs.get(Backend.ROCKSDB).values().stream().mapToInt(Map::size).sum();
        say("the one line: %s=%s", StreamsConfig.DSL_STORE_SUPPLIERS_CLASS_CONFIG, MmapDslStoreSuppliers.class.getName());
        say("outputs: %s (the final value of each of the %,d keys in the three result topics)",
                identical ? "identical" : "DIFFERENT", keys);
        if (!identical) {
            fail("the RocksDB and MmapStore applications produced different results");
        }
        say("%-44s %16s %16s", "", Backend.ROCKSDB.label, Backend.MMAPSTORE.label);
        row("processing, start to all results visible", secs(r.processingNanos()), secs(m.processingNanos()));
        row("clean restart: records restored", String.format("%,d", r.restartRestored()), String.format("%,d", m.restartRestored()));
        row("clean restart: start to RUNNING", secs(r.restartNanos()), secs(m.restartNanos()));
        row("changelog offsets written by the crashed run", String.format("%,d", r.crashChangelogWritten()),
                String.format("%,d", m.crashChangelogWritten()));
        row("after a crash (SIGKILL): records restored", String.format("%,d", r.crashRestored()), String.format("%,d", m.crashRestored()));
        row("after a crash: start to RUNNING", secs(r.crashNanos()), secs(m.crashNanos()));
        row("state directory on disk after close", bytes(r.diskBytes()), bytes(m.diskBytes()));
        row("heap grown while running (after full GC)", bytes(r.heapGrowthBytes()), bytes(m.heapGrowthBytes()));
        row("resident memory grown while running", bytes(r.rssGrowthBytes()), bytes(m.rssGrowthBytes()));
        say("(one run each, on a shared machine. After the crash Kafka Streams restores a RocksDB store from the offsets it"
                + " last checkpointed, and under exactly-once wipes it and restores it in full when it finds data but no offsets"
                + " (its WARN lines above name those stores). MmapStore keeps the offsets of its own last commit with its data"
                + " and replays only what came after: it commits on its first write after a Kafka transaction, at most every"
                + " mmapstore.eos.checkpoint.interval.ms (1 s by default), so here, where the child processed the later orders in"
                + " about a second and then wrote nothing more, up to what the crashed run wrote. The heap and resident figures"
                + " are the whole JVM's and indicative only: RocksDB's memory is native and counts only in the resident size,"
                + " MmapStore's memtables are on the heap and its mapped pages count in the resident size.)");
    }

    private static void row(String what, String rocks, String mmap) {
        say("%-44s %16s %16s", what, rocks, mmap);
    }

    /** One application (one backend) through processing, a clean restart and a restart without checkpoints. */
    private final class BackendRun {
        private final Backend backend;
        private final String bootstrap;
        private final Path stateDir;
        private final Topics topics;
        private final String app;
        private final String ordersTopic;
        private final String customersTopic;
        private Map<String, Map<String, Long>> expected;
        private final Map<String, Map<String, Long>> outputs = new HashMap<>();
        private long processing;
        private long heap;
        private long rss;
        private long disk;
        private boolean rocks;
        private boolean mmap;
        private long[] restart;

        BackendRun(Backend backend, String bootstrap, Path root, Topics topics, String suffix, String ordersTopic, String customersTopic)
                throws IOException {
            this.backend = backend;
            this.bootstrap = bootstrap;
            this.stateDir = Files.createDirectories(root.resolve(backend.run()));
            this.topics = topics;
            this.app = backend.run() + suffix;
            this.ordersTopic = ordersTopic;
            this.customersTopic = customersTopic;
        }

        private StreamsApp start(RestoreProgress restore) {
            return startApp(backend, app, bootstrap, stateDir, ordersTopic, customersTopic, restore);
        }

        /** Processes the first orders, checks the results, closes, restarts cleanly. */
        void processAndRestart(Map<String, Map<String, Long>> expectedNow) throws Exception {
            this.expected = expectedNow;
            long heap0 = usedHeapAfterGc();
            long rss0 = residentBytes();
            StreamsApp streams = start(new RestoreProgress("restoring"));
            try {
                streams.awaitRunning();
                readOutputs(streams);
                processing = streams.elapsedNanos();
                say("processed %,d input records in %s from start to every result visible to read_committed consumers (%s)",
                        opts.orders() + opts.customers(), secs(processing), rate(opts.orders() + opts.customers(), processing, "records"));
                heap = usedHeapAfterGc() - heap0;
                rss = residentBytes() - rss0;
            } finally {
                close(streams);
            }
            disk = StateDirs.sizeOf(stateDir);
            rocks = StateDirs.containsDirectory(stateDir, "rocksdb");
            mmap = StateDirs.containsDirectory(stateDir, "mmapstore");
            say("state directory after a clean close: %s; store directories: %s", bytes(disk),
                    rocks && mmap ? "rocksdb and mmapstore" : rocks ? "rocksdb only" : mmap ? "mmapstore only" : "none");
            if (backend == Backend.MMAPSTORE ? rocks || !mmap : !rocks || mmap) {
                fail(backend.label + " run: expected only " + (backend == Backend.MMAPSTORE ? "mmapstore" : "rocksdb") + " store directories");
            }
            restart = restart("clean restart", false);
        }

        /**
         * Lets a child JVM process the later orders and kills it, restarts here, and checks that the
         * results cover every order exactly once.
         */
        Figures crashAndRestart(Map<String, Map<String, Long>> expectedAll) throws Exception {
            this.expected = expectedAll;
            long changelogBefore = changelogEnd();
            long k0 = System.nanoTime();
            int exit = CrashedChild.runAndKill(RocksDbSwapExample.class.getName(), List.of(CRASH_CHILD, backend.name(), app, bootstrap,
                    stateDir.toString(), ordersTopic, customersTopic), 500);
            say("crash: a child JVM ran the application on this state directory, processed the new orders (committed), and was "
                    + "killed with SIGKILL (exit code %d, %s)", exit, secs(System.nanoTime() - k0));
            long changelogAfter = changelogEnd();
            say("the crashed run wrote %,d changelog offsets (records and transaction markers); the changelogs hold %,d in all",
                    changelogAfter - changelogBefore, changelogAfter);
            long[] crash = restart("restart after the crash", true);
            if (backend == Backend.MMAPSTORE && crash[0] > changelogAfter - changelogBefore) {
                fail("MmapStore replayed " + crash[0] + " changelog records after the crash, more than the " + (changelogAfter - changelogBefore)
                        + " the crashed run wrote: it should resume from its last commit, made before the crash");
            }
            return new Figures(backend, processing, restart[0], restart[1], crash[0], crash[1], changelogAfter - changelogBefore,
                    changelogAfter, disk, heap, rss, rocks, mmap);
        }

        /** The summed end offsets of this application's changelog topics. */
        private long changelogEnd() throws Exception {
            List<String> changelogs = topics.names(t -> t.startsWith("swap-" + app + "-") && t.endsWith("-changelog"));
            return changelogs.isEmpty() ? 0 : topics.endOffsets(changelogs).values().stream().mapToLong(Long::longValue).sum();
        }

        private void close(StreamsApp streams) {
            if (!streams.closeCleanly()) {
                fail(backend.label + ": Kafka Streams did not close within 30 s");
            }
        }

        /** Reads the three result topics until the final value of each key equals the expected one. */
        private void readOutputs(StreamsApp streams) throws Exception {
            Map<String, String> resultOfTopic = new HashMap<>();
            for (String r : expected.keySet()) {
                resultOfTopic.put(OrdersTopology.outputTopic(app, r), r);
                outputs.put(r, new HashMap<>());
            }
            long total = expected.values().stream().mapToLong(Map::size).sum();
            long deadline = System.nanoTime() + StreamsApp.WAIT.toNanos();
            try (OutputReader<String, Long> reader = new OutputReader<>(bootstrap, resultOfTopic.keySet(), new StringDeserializer(),
                    new LongDeserializer());
                 ProgressBar bar = new ProgressBar("results final", total, "keys")) {
                while (!outputs.equals(expected)) {
                    streams.checkHealthy();
                    if (System.nanoTime() > deadline) {
                        reportDifferences();
                        throw new TimeoutException(backend.label + ": after " + StreamsApp.WAIT.toSeconds()
                                + " s the result topics still differ from the expected results");
                    }
                    for (ConsumerRecord<String, Long> rec : reader.poll(Duration.ofMillis(100))) {
                        outputs.get(resultOfTopic.get(rec.topic())).put(rec.key(), rec.value());
                    }
                    long right = 0;
                    for (var e : expected.entrySet()) {
                        Map<String, Long> got = outputs.get(e.getKey());
                        right += e.getValue().entrySet().stream().filter(x -> x.getValue().equals(got.get(x.getKey()))).count();
                    }
                    bar.set(right);
                }
            }
        }

        private void reportDifferences() {
            for (var e : expected.entrySet()) {
                Map<String, Long> got = outputs.get(e.getKey());
                long wrong = e.getValue().entrySet().stream().filter(x -> !x.getValue().equals(got.get(x.getKey()))).count();
                say("  %s: %,d of %,d keys differ from the expected results", e.getKey(), wrong, e.getValue().size());
            }
        }

        /** Restarts on the same state directory; answers {records restored, nanoseconds to RUNNING}. */
        private long[] restart(String what, boolean readResults) throws Exception {
            RestoreProgress restore = new RestoreProgress("restoring");
            StreamsApp streams = start(restore);
            try {
                streams.awaitRunning();
                long running = streams.elapsedNanos();
                long restored = restore.totalRecords();
                restore.finish().forEach((store, r) -> {
                    if (r.records() > 0) {
                        say("  %-40s %,9d records restored over %d partitions", store, r.records(), r.partitions());
                    }
                });
                checkCount(streams);
                say("%s: RUNNING after %s, %,d changelog records restored", what, secs(running), restored);
                if (readResults) {
                    readOutputs(streams);
                    say("the results cover every order exactly once (checked against the input)");
                }
                return new long[] {restored, running};
            } finally {
                restore.finish();
                close(streams);
            }
        }

        /** After a restart the count store must still hold the right counts: asks the busiest customer through IQv2. */
        private void checkCount(StreamsApp streams) {
            Map<String, Long> counts = expected.get(OrdersTopology.COUNTS);
            String busiest = counts.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
            Long value = null;
            for (QueryResult<Long> r : streams.streams().query(StateQueryRequest.inStore(OrdersTopology.COUNTS)
                    .withQuery(KeyQuery.<String, Long>withKey(busiest))).getPartitionResults().values()) {
                if (r.isSuccess() && r.getResult() != null) {
                    value = r.getResult();
                }
            }
            if (!counts.get(busiest).equals(value)) {
                fail(backend.label + ": after a restart the count of " + busiest + " is " + value + ", expected " + counts.get(busiest));
            }
        }
    }

    /**
     * The application's configuration: the shared exactly-once settings, static membership (a restart
     * after a crash takes over the dead instance's partitions at once instead of waiting out its
     * session), and for MmapStore the one line.
     */
    static Properties config(Backend backend, String app, String bootstrap, Path stateDir) {
        Properties p = StreamsApp.exactlyOnceConfig("swap-" + app, bootstrap, stateDir.toString(), 2);
        p.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG), "swap-" + app + "-instance");
        if (backend == Backend.MMAPSTORE) {
            // the one line that moves every store of the application to MmapStore
            p.put(StreamsConfig.DSL_STORE_SUPPLIERS_CLASS_CONFIG, MmapDslStoreSuppliers.class.getName());
        }
        return p;
    }

    static StreamsApp startApp(Backend backend, String app, String bootstrap, Path stateDir, String ordersTopic, String customersTopic,
                               RestoreProgress restore) {
        Properties p = config(backend, app, bootstrap, stateDir);
        return StreamsApp.start(OrdersTopology.build(ordersTopic, customersTopic, app, p), p, restore);
    }

    /**
     * The crash: in a child JVM, the application opens its stores on the state directory, processes the
     * input up to its end (committed), and is killed with SIGKILL there (see {@link CrashedChild}). Arguments: backend, app,
     * bootstrap servers, state directory, orders topic, customers topic.
     */
    static void crashChild(String[] a) throws Exception {
        StreamsApp streams = startApp(Backend.valueOf(a[1]), a[2], a[3], Path.of(a[4]), a[5], a[6], null);
        streams.awaitRunning();
        try (Topics topics = new Topics(a[3])) {
            streams.await("the new orders processed and committed", () -> topics.uncommitted("swap-" + a[2], List.of(a[5], a[6])) == 0);
        }
        System.out.println(CrashedChild.READY);
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }

    private static long usedHeapAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** This process's resident set size (Linux {@code /proc/self/status}), 0 where unavailable. */
    private static long residentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

}
