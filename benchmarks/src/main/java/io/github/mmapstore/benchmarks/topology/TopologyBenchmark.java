package io.github.mmapstore.benchmarks.topology;

import io.github.mmapstore.benchmarks.report.LatencyHistogram;
import io.github.mmapstore.benchmarks.report.MachineInfo;
import io.github.mmapstore.streams.MmapDslStoreSuppliers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.StreamJoined;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.BuiltInDslStoreSuppliers;
import org.apache.kafka.streams.state.DslStoreSuppliers;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Topology-level comparison of MmapStore and Kafka's RocksDB stores (issue 5, "Benchmark"): a hopping-window
 * count over 100,000 keys and an inner stream-stream join, each driven through {@link TopologyTestDriver} with
 * the default (RocksDB) DSL store suppliers and with {@link MmapDslStoreSuppliers}, in one JVM, store order
 * alternating between rounds. Every {@code pipeInput} is timed individually (records/s = records / sum of
 * the timed calls; p50/p99 from a log-linear histogram of the same calls). See benchmarks/README-topology.md.
 *
 * <p>Two commit configurations: {@code every-record} is TopologyTestDriver as it is (it commits the task,
 * and so every store, after every record); {@code every-N} wraps the window stores in
 * {@link CommitEveryNDslStoreSuppliers}, which forwards only every N-th store commit.
 */
public final class TopologyBenchmark {
    static final String ROCKSDB = "rocksdb";
    /** Kafka 4.4's RocksDB stores with {@code enable.transactional.statestores=true} (KIP-892). */
    static final String ROCKSDB_TXN = "rocksdb-txn";
    static final String MMAP = "mmapstore";
    static final List<String> STORES = List.of(ROCKSDB, ROCKSDB_TXN, MMAP);
    static final String NOTES_MARKER = "<!-- notes below this line are kept when the file is regenerated -->";
    static final long T0 = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();
    static volatile long sink;

    enum Topo {
        AGG("hopping-window count", "agg"), JOIN("stream-stream join", "join");

        final String title;
        final String id;

        Topo(String title, String id) {
            this.title = title;
            this.id = id;
        }
    }

    /** One measured (or warm-up) run of one topology on one store. */
    record Run(Topo topo, String config, String store, int round, long records, long timedNanos, long wallNanos,
               LatencyHistogram hist, long heapDelta, long rssAnonDelta, long rssFileDelta, long diskAllocKb,
               long diskApparentBytes, long files, long outputs, long storeCommits) {
        double perSec() {
            return records / (timedNanos / 1e9);
        }
    }

    // settings
    long aggRecords = 1_000_000;
    long joinRecords = 1_000_000;
    int keys = 100_000;
    int rounds = 2;
    long warmup = 200_000;
    long commitEvery = 10_000;
    int drainEvery = 10_000;
    List<String> configs = List.of("every-record", "every-N");
    List<Topo> topos = List.of(Topo.AGG, Topo.JOIN);
    Path out = Path.of("benchmarks/results");
    Path work = Path.of("benchmarks/work/topology");
    String date = java.time.LocalDate.now().toString();
    Path loadLog;
    Path phases;
    String suffix = "";
    String name;               // results file base name; default <date>-topology<suffix>

    final List<Run> runs = new ArrayList<>();
    String loadBefore;
    String loadAfter;
    Instant started;
    Instant finished;
    int seq;
    String[] keyStrings;
    final byte[] aggValue = new byte[16];
    final byte[] joinValue = new byte[100];
    final MemoryMXBean mem = ManagementFactory.getMemoryMXBean();

    public static void main(String[] args) throws Exception {
        TopologyBenchmark b = new TopologyBenchmark();
        b.parse(args);
        b.runAll();
        TopologyReport.write(b);
    }

    void parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--out" -> out = Path.of(args[++i]);
                case "--work" -> work = Path.of(args[++i]);
                case "--date" -> date = args[++i];
                case "--load-log" -> loadLog = Path.of(args[++i]);
                case "--phases" -> phases = Path.of(args[++i]);
                case "--agg-records" -> aggRecords = Long.parseLong(args[++i]);
                case "--join-records" -> joinRecords = Long.parseLong(args[++i]);
                case "--keys" -> keys = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Long.parseLong(args[++i]);
                case "--commit-every" -> commitEvery = Long.parseLong(args[++i]);
                case "--configs" -> configs = List.of(args[++i].split(","));
                case "--topologies" -> topos = Stream.of(args[++i].split(",")).map(s -> Topo.valueOf(s.toUpperCase(Locale.ROOT))).toList();
                case "--suffix" -> suffix = args[++i];
                case "--name" -> name = args[++i];
                default -> throw new IllegalArgumentException("unknown option " + a);
            }
        }
    }

    String configLabel(String config) {
        return config.equals("every-N") ? "every-" + commitEvery : config;
    }

    void runAll() throws IOException {
        Files.createDirectories(work);
        if (phases != null) {
            Files.deleteIfExists(phases);
        }
        keyStrings = new String[keys];
        for (int i = 0; i < keys; i++) {
            keyStrings[i] = String.format(Locale.ROOT, "key-%07d", i);
        }
        new SplittableRandom(7).nextBytes(joinValue);
        loadBefore = MachineInfo.readTrim("/proc/loadavg", "n/a");
        started = Instant.now();
        for (String config : configs) {
            for (Topo topo : topos) {
                long n = topo == Topo.AGG ? aggRecords : joinRecords;
                // warm-up: every code path of both stores JIT-compiled before anything is measured
                long w = config.equals(configs.get(0)) ? warmup : warmup / 4;
                if (w > 0) {
                    for (String store : STORES) {
                        Run r = run(topo, config, store, -1, w, 99);
                        log("warm-up %s %s %s: %.0f records/s", topo.id, configLabel(config), store, r.perSec());
                    }
                }
                for (int round = 0; round < rounds; round++) {
                    // the order rotates from round to round: each store runs first, second and last in turn
                    List<String> order = new java.util.ArrayList<>(STORES);
                    java.util.Collections.rotate(order, round);
                    for (String store : order) {
                        Run r = run(topo, config, store, round, n, 1000 + round);
                        runs.add(r);
                        log("%s %s %s round %d: %d records, %.0f records/s, p50 %.1f us, p99 %.1f us, heap +%d MB, disk %d MB",
                                topo.id, configLabel(config), store, round, r.records(), r.perSec(),
                                r.hist().percentileNanos(50) / 1e3, r.hist().percentileNanos(99) / 1e3,
                                r.heapDelta() >> 20, r.diskAllocKb() >> 10);
                    }
                }
            }
        }
        finished = Instant.now();
        loadAfter = MachineInfo.readTrim("/proc/loadavg", "n/a");
    }

    Properties props(String store, Path stateDir) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "topo-bench-" + (seq));
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:9092");
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toAbsolutePath().toString());
        // no record cache: every update reaches the store (TopologyTestDriver flushes the cache at its
        // per-record commit anyway)
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0L);
        if (store.equals(MMAP)) {
            p.put(StreamsConfig.DSL_STORE_SUPPLIERS_CLASS_CONFIG, MmapDslStoreSuppliers.class.getName());
            // MmapStore's defaults: the driver gives every store a changelog, so no log of its own and commits that
            // write nothing; its checkpoints sync their files off the stream thread, as RocksDB syncs the files of
            // its flushes and compactions (earlier runs set mmapstore.fsync=false, from when commits synced a log)
        }
        if (store.equals(ROCKSDB_TXN)) {
            p.put("enable.transactional.statestores", "true");
        }
        return p;
    }

    DslStoreSuppliers suppliersFor(String store, String config) {
        if (!config.equals("every-N")) {
            return null; // the Streams config decides (default RocksDB, or dsl.store.suppliers.class)
        }
        DslStoreSuppliers base = store.equals(MMAP) ? new MmapDslStoreSuppliers()
                : new BuiltInDslStoreSuppliers.RocksDBDslStoreSuppliers();
        return new CommitEveryNDslStoreSuppliers(base, commitEvery);
    }

    Topology topology(Topo topo, DslStoreSuppliers sup) {
        StreamsBuilder b = new StreamsBuilder();
        if (topo == Topo.AGG) {
            KStream<String, byte[]> in = b.stream("agg-in", Consumed.with(Serdes.String(), Serdes.ByteArray()));
            TimeWindows w = TimeWindows.ofSizeAndGrace(Duration.ofMinutes(5), Duration.ofMinutes(1))
                    .advanceBy(Duration.ofMinutes(1));
            Materialized<String, Long, WindowStore<Bytes, byte[]>> m = sup == null
                    ? Materialized.as("agg-counts")
                    : Materialized.as(sup);
            m = m.withKeySerde(Serdes.String()).withValueSerde(Serdes.Long());
            in.groupByKey().windowedBy(w).count(m).toStream().foreach((k, v) -> sink += v);
        } else {
            KStream<String, byte[]> left = b.stream("join-left", Consumed.with(Serdes.String(), Serdes.ByteArray()));
            KStream<String, byte[]> right = b.stream("join-right", Consumed.with(Serdes.String(), Serdes.ByteArray()));
            StreamJoined<String, byte[], byte[]> sj = StreamJoined.with(Serdes.String(), Serdes.ByteArray(), Serdes.ByteArray());
            if (sup != null) {
                sj = sj.withDslStoreSuppliers(sup);
            }
            left.join(right, (a, c) -> a.length + c.length,
                            JoinWindows.ofTimeDifferenceWithNoGrace(Duration.ofMinutes(1)), sj)
                    .foreach((k, v) -> sink += v);
        }
        return b.build();
    }

    Run run(Topo topo, String config, String store, int round, long records, long seed) throws IOException {
        seq++;
        Path stateDir = work.resolve(topo.id + "-" + config + "-" + store + "-" + seq);
        deleteTree(stateDir);
        Files.createDirectories(stateDir);
        DslStoreSuppliers sup = suppliersFor(store, config);
        Topology t = topology(topo, sup);
        long heap0 = heapAfterGc();
        long[] rss0 = rss();
        LatencyHistogram h = new LatencyHistogram();
        long outputs = 0;
        String label = topo.id + "/" + configLabel(config) + "/" + (round < 0 ? "warmup" : "r" + round);
        phase("start", label, store);
        long wall0 = System.nanoTime();
        long timed = 0;
        Run result;
        try (TopologyTestDriver d = new TopologyTestDriver(t, props(store, stateDir), Instant.ofEpochMilli(T0))) {
            StringSerializer ks = new StringSerializer();
            ByteArraySerializer vs = new ByteArraySerializer();
            SplittableRandom rnd = new SplittableRandom(seed);
            if (topo == Topo.AGG) {
                TestInputTopic<String, byte[]> in = d.createInputTopic("agg-in", ks, vs);
                for (long i = 0; i < records; i++) {
                    String key = keyStrings[rnd.nextInt(keys)];
                    long ts = T0 + i; // event time advances 1 ms per record
                    long s = System.nanoTime();
                    in.pipeInput(key, aggValue, ts);
                    long e = System.nanoTime() - s;
                    timed += e;
                    h.record(e);
                    if ((i + 1) % drainEvery == 0) {
                        outputs += drain(d);
                    }
                }
            } else {
                TestInputTopic<String, byte[]> left = d.createInputTopic("join-left", ks, vs);
                TestInputTopic<String, byte[]> right = d.createInputTopic("join-right", ks, vs);
                for (long i = 0; i < records; i++) {
                    String key = keyStrings[rnd.nextInt(keys)];
                    long ts = T0 + i;
                    TestInputTopic<String, byte[]> in = (i & 1) == 0 ? left : right;
                    long s = System.nanoTime();
                    in.pipeInput(key, joinValue, ts);
                    long e = System.nanoTime() - s;
                    timed += e;
                    h.record(e);
                    if ((i + 1) % drainEvery == 0) {
                        outputs += drain(d);
                    }
                }
            }
            long wall = System.nanoTime() - wall0;
            phase("end", label, store);
            outputs += drain(d);
            long heap1 = heapAfterGc();
            long[] rss1 = rss();
            long[] disk = disk(stateDir);
            long commits = sup instanceof CommitEveryNDslStoreSuppliers c ? c.forwarded.get() : -1;
            result = new Run(topo, config, store, round, records, timed, wall, h, heap1 - heap0, rss1[0] - rss0[0],
                    rss1[1] - rss0[1], disk[0], disk[1], disk[2], outputs, commits);
        }
        deleteTree(stateDir);
        return result;
    }

    /** Reads (and so drops) everything the driver captured: changelog records and any sink output. */
    static long drain(TopologyTestDriver d) {
        long n = 0;
        ByteArrayDeserializer bd = new ByteArrayDeserializer();
        for (String topic : d.producedTopicNames()) {
            n += d.createOutputTopic(topic, bd, bd).readRecordsToList().size();
        }
        return n;
    }

    long heapAfterGc() {
        System.gc();
        System.gc();
        return mem.getHeapMemoryUsage().getUsed();
    }

    /** RssAnon and RssFile of this process, bytes. */
    static long[] rss() {
        long anon = -1;
        long file = -1;
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith("RssAnon:")) {
                    anon = Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
                } else if (l.startsWith("RssFile:")) {
                    file = Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException ignored) {
            // not Linux
        }
        return new long[] {anon, file};
    }

    /** {allocated KiB (du -sk), apparent bytes, files}. */
    static long[] disk(Path dir) {
        long apparent = 0;
        long files = 0;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (Files.isRegularFile(p)) {
                    files++;
                    apparent += Files.size(p);
                }
            }
        } catch (IOException | UncheckedIOException ignored) {
            // files may vanish while walking
        }
        long alloc = -1;
        try {
            Process pr = new ProcessBuilder("du", "-sk", dir.toString()).redirectErrorStream(true).start();
            String o = new String(pr.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            pr.waitFor();
            alloc = Long.parseLong(o.split("\\s+")[0]);
        } catch (IOException | InterruptedException | NumberFormatException ignored) {
            // no du
        }
        return new long[] {alloc, apparent, files};
    }

    void phase(String kind, String label, String store) throws IOException {
        if (phases != null) {
            Files.writeString(phases, kind + " " + label + " " + store + " " + Instant.now() + "\n", StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    static void log(String fmt, Object... args) {
        System.out.printf(Locale.ROOT, "%s " + fmt + "%n", prepend(Instant.now().toString().substring(11, 19), args));
    }

    private static Object[] prepend(Object first, Object[] rest) {
        Object[] a = new Object[rest.length + 1];
        a[0] = first;
        System.arraycopy(rest, 0, a, 1, rest.length);
        return a;
    }

    /** Aggregate of the measured runs of one (config, topology, store). */
    record Agg(long records, long timedNanos, LatencyHistogram hist, List<Run> runs) {
        double perSec() {
            return records / (timedNanos / 1e9);
        }
    }

    Map<String, Agg> aggregates() {
        Map<String, Agg> m = new LinkedHashMap<>();
        for (Run r : runs) {
            String k = r.config() + "|" + r.topo() + "|" + r.store();
            Agg a = m.get(k);
            LatencyHistogram h = new LatencyHistogram();
            List<Run> rs = new ArrayList<>();
            long rec = 0;
            long ns = 0;
            if (a != null) {
                h.add(a.hist());
                rs.addAll(a.runs());
                rec = a.records();
                ns = a.timedNanos();
            }
            h.add(r.hist());
            rs.add(r);
            m.put(k, new Agg(rec + r.records(), ns + r.timedNanos(), h, rs));
        }
        return m;
    }
}
