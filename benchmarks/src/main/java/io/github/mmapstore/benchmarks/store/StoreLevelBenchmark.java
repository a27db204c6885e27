package io.github.mmapstore.benchmarks.store;

import io.github.mmapstore.benchmarks.Dirs;
import io.github.mmapstore.benchmarks.report.LatencyHistogram;
import io.github.mmapstore.streams.MmapStores;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.internals.RecordBatchingStateRestoreCallback;
import org.apache.kafka.streams.processor.internals.StateRestoreCallbackAdapter;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * Store-level comparison harness (plain {@code main}, not JMH): drives MmapStore
 * ({@code MmapStores.persistentKeyValueStore}), Kafka's RocksDB store ({@code Stores.persistentKeyValueStore})
 * and Kafka's in-memory store ({@code Stores.inMemoryKeyValueStore}) through the same
 * {@code KeyValueStore<Bytes, byte[]>} interface, each initialised with a real {@code StateStoreContext}
 * (kafka-streams-test-utils' {@code MockProcessorContext}, wrapped by {@link CapturingContext} to keep the
 * registered restore callback), one after the other in one JVM.
 *
 * <p>Operations per store: put, get (uniform and Zipf s=0.99), range of 100 keys, putAll (batches of
 * 1,000), restore of a changelog batch stream through the registered restore callback (batches of 1,000),
 * commit every 10,000 writes; plus heap used after load, heap growth per million keys already in
 * segments and files on disk. Per-operation latencies come from {@link System#nanoTime()} histograms.
 * See benchmarks/README-store-level.md.
 */
public final class StoreLevelBenchmark {
    static final int KEY_BYTES = 16;
    static final int VALUE_BYTES = 100;
    static final int RANGE_KEYS = 100;
    static final int BATCH = 1_000;
    static final int WRITES_PER_COMMIT = 10_000;
    static final String STORE_NAME = HarnessStore.STORE_NAME;
    static final TopicPartition INPUT_TP = HarnessStore.INPUT_TP;
    static final TopicPartition CHANGELOG_TP = new TopicPartition("mmapstore-bench-" + STORE_NAME + "-changelog", 0);

    static final String MMAPSTORE = "mmapstore";
    static final String MMAPSTORE_NOFSYNC = "mmapstore-nofsync";
    /** MmapStore keeping its own log, as it does for a store without a changelog (opt-in, {@code --stores}). */
    static final String MMAPSTORE_LOG = "mmapstore-log";
    static final String ROCKSDB = "rocksdb";
    /** Kafka 4.4's RocksDB store with {@code enable.transactional.statestores=true} (KIP-892). */
    static final String ROCKSDB_TXN = "rocksdb-txn";
    static final String INMEMORY = "inmemory";
    static final String TRANSACTIONAL = "enable.transactional.statestores";
    /**
     * Kafka's early-commit rule: a stream thread commits as soon as its stores report more uncommitted bytes
     * than {@code statestore.uncommitted.max.bytes} (64 MiB by default, for one stream thread). The write
     * loops apply it to every store, every {@link #UNCOMMITTED_CHECK_WRITES} writes; only stores that report
     * uncommitted bytes (the transactional ones) are affected.
     */
    static final long UNCOMMITTED_MAX_BYTES = 64L * 1024 * 1024;
    static final int UNCOMMITTED_CHECK_WRITES = 1_000;
    static final int WRITES_PER_SMALL_COMMIT = 100;
    /** Commits on the warm-up store (each after 10 writes), enough for the JIT to compile the commit path. */
    static final int WARMUP_COMMITS = 20_000;

    /** Keeps results observable so the JIT cannot drop reads. */
    static volatile long sink;

    // ---- options ---------------------------------------------------------------------------------
    int keyCount = 1_000_000;
    List<String> stores = List.of(MMAPSTORE, ROCKSDB, ROCKSDB_TXN, INMEMORY);
    int readOps = -1;          // per pass; default min(keys, 1M)
    int rangeOps = 50_000;     // per pass
    int commits = 50;
    long probeMemtableBytes = 1L << 20;
    boolean warmup = true;
    Path out = Path.of("benchmarks/results");
    Path work = Path.of("benchmarks/work");
    String date = LocalDate.now().toString();
    String name;               // results file base name; default <date>-store-level[-10m]
    Path loadLog;
    Path phasesFile;
    String revision;           // source revision measured, from the run script

    // ---- data ------------------------------------------------------------------------------------
    byte[][] keys;             // sorted unsigned, distinct
    Bytes[] wrapped;           // keys[i] wrapped once, for reads
    int[] putOrder;            // random permutation: insertion order
    int[] uniformSeq;          // 2 * readOps key indices
    int[] zipfSeq;             // 2 * readOps key indices
    int[] rangeSeq;            // 2 * rangeOps start indices
    byte[] template;
    PrintWriter phases;

    final Map<String, Map<String, Double>> results = new LinkedHashMap<>();
    final Map<String, String> notes = new LinkedHashMap<>();

    public static void main(String[] args) throws Exception {
        StoreLevelBenchmark b = new StoreLevelBenchmark();
        b.parse(args);
        b.run();
    }

    void parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--keys" -> keyCount = Integer.parseInt(args[++i].replace("_", ""));
                case "--10m" -> keyCount = 10_000_000;
                case "--stores" -> stores = List.of(args[++i].split(","));
                case "--reads" -> readOps = Integer.parseInt(args[++i].replace("_", ""));
                case "--ranges" -> rangeOps = Integer.parseInt(args[++i].replace("_", ""));
                case "--commits" -> commits = Integer.parseInt(args[++i]);
                case "--probe-memtable-bytes" -> probeMemtableBytes = Long.parseLong(args[++i]);
                case "--no-warmup" -> warmup = false;
                case "--out" -> out = Path.of(args[++i]);
                case "--work" -> work = Path.of(args[++i]);
                case "--date" -> date = args[++i];
                case "--name" -> name = args[++i];
                case "--load-log" -> loadLog = Path.of(args[++i]);
                case "--phases" -> phasesFile = Path.of(args[++i]);
                case "--rev" -> revision = args[++i];
                default -> throw new IllegalArgumentException("unknown option " + a + "\n" + usage());
            }
        }
        if (readOps < 0) {
            readOps = Math.min(keyCount, 1_000_000);
        }
        rangeOps = Math.min(rangeOps, Math.max(1, keyCount - RANGE_KEYS));
        if (name == null) {
            name = date + "-store-level" + (keyCount == 1_000_000 ? "" : "-" + label(keyCount));
        }
    }

    static String usage() {
        return "usage: StoreLevelBenchmark [--keys N | --10m] [--stores mmapstore,rocksdb,rocksdb-txn,inmemory[,mmapstore-nofsync]]"
                + " [--reads N] [--ranges N] [--commits N] [--probe-memtable-bytes N] [--no-warmup]"
                + " [--out DIR] [--work DIR] [--date D] [--name BASE] [--load-log FILE] [--phases FILE] [--rev TEXT]";
    }

    static String label(int n) {
        return n % 1_000_000 == 0 ? (n / 1_000_000) + "m" : n % 1_000 == 0 ? (n / 1_000) + "k" : Integer.toString(n);
    }

    void run() throws Exception {
        Files.createDirectories(work);
        if (phasesFile != null) {
            phases = new PrintWriter(Files.newBufferedWriter(phasesFile), true);
        }
        long t0 = System.nanoTime();
        log("generating %,d keys, %,d reads per pass, %,d ranges per pass", keyCount, readOps, rangeOps);
        generate();
        log("data ready in %.1f s; timer overhead %.1f ns per nanoTime pair", (System.nanoTime() - t0) / 1e9, timerOverhead());
        notes.put("timerOverheadNs", String.format(Locale.ROOT, "%.1f", timerOverhead()));
        for (String kind : stores) {
            Map<String, Double> r = new LinkedHashMap<>();
            results.put(kind, r);
            log("=== %s ===", kind);
            if (warmup) {
                warmUp(kind);
            }
            // Every store starts on a collected heap: otherwise the first young collection after the data was
            // generated (a million keys to copy) lands in the first store's put phase, and only the first's.
            System.gc();
            mainStore(kind, r);
            putAllStore(kind, r);
            restoreStore(kind, r);
            heapProbe(kind, r);
            log("%s done", kind);
        }
        if (phases != null) {
            phases.close();
        }
        log("total %.1f s; sink %d", (System.nanoTime() - t0) / 1e9, sink);
        StoreReport.write(this);
    }

    // =============================================================================================
    // Data

    void generate() {
        SplittableRandom r = new SplittableRandom(0x5EED_CAFE_F00DL);
        keys = new byte[keyCount][];
        for (int i = 0; i < keyCount; i++) {
            byte[] k = new byte[KEY_BYTES];
            r.nextBytes(k);
            keys[i] = k;
        }
        Arrays.parallelSort(keys, Arrays::compareUnsigned);
        for (int i = 1; i < keyCount; i++) {
            if (Arrays.equals(keys[i - 1], keys[i])) {
                throw new IllegalStateException("duplicate random key");
            }
        }
        wrapped = new Bytes[keyCount];
        for (int i = 0; i < keyCount; i++) {
            wrapped[i] = Bytes.wrap(keys[i]);
        }
        putOrder = permutation(keyCount, r.split());
        SplittableRandom u = r.split();
        uniformSeq = new int[2 * readOps];
        for (int i = 0; i < uniformSeq.length; i++) {
            uniformSeq[i] = u.nextInt(keyCount);
        }
        zipfSeq = zipf(keyCount, 0.99, 2 * readOps, r.split());
        SplittableRandom g = r.split();
        rangeSeq = new int[2 * rangeOps];
        for (int i = 0; i < rangeSeq.length; i++) {
            rangeSeq[i] = g.nextInt(keyCount - RANGE_KEYS + 1);
        }
        template = new byte[VALUE_BYTES];
        r.nextBytes(template);
    }

    static int[] permutation(int n, SplittableRandom r) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /**
     * {@code count} key indices drawn from a Zipf distribution with exponent {@code s} over {@code n}
     * ranks; rank r maps to a random key (a permutation), so hot keys are spread over the key space.
     */
    static int[] zipf(int n, double s, int count, SplittableRandom r) {
        double[] cdf = new double[n];
        double sum = 0;
        for (int k = 0; k < n; k++) {
            sum += 1.0 / Math.pow(k + 1, s);
            cdf[k] = sum;
        }
        int[] rankToKey = permutation(n, r.split());
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            double x = r.nextDouble() * sum;
            int at = Arrays.binarySearch(cdf, x);
            int rank = at >= 0 ? at : Math.min(n - 1, -at - 1);
            out[i] = rankToKey[rank];
        }
        return out;
    }

    /** A fresh value array per write, as a Kafka serializer would produce; a counter stamped in front. */
    byte[] value(long counter) {
        byte[] v = template.clone();
        for (int i = 0; i < 8; i++) {
            v[i] = (byte) (counter >>> (8 * i));
        }
        return v;
    }

    static double timerOverhead() {
        long best = Long.MAX_VALUE;
        for (int rep = 0; rep < 5; rep++) {
            long s = System.nanoTime();
            long x = 0;
            for (int i = 0; i < 1_000_000; i++) {
                x += System.nanoTime() - System.nanoTime();
            }
            sink += x;
            best = Math.min(best, System.nanoTime() - s);
        }
        return best / 1e6;
    }

    // =============================================================================================
    // Stores

    /** One opened store: the store, its captured context, its state directory. */
    record Opened(String kind, KeyValueStore<Bytes, byte[]> store, CapturingContext context, Path dir)
            implements AutoCloseable {
        RecordBatchingStateRestoreCallback restoreCallback() {
            // What Kafka's ProcessorStateManager does with the registered callback.
            return StateRestoreCallbackAdapter.adapt(context.restoreCallback());
        }

        @Override
        public void close() {
            try {
                store.close();
            } finally {
                Dirs.deleteRecursively(dir);
            }
        }
    }

    Opened open(String kind, Map<String, Object> extra) throws IOException {
        Map<String, Object> config = new HashMap<>(extra);
        if (kind.equals(MMAPSTORE_NOFSYNC)) {
            config.putIfAbsent("mmapstore.fsync", "false");
        }
        if (isMmap(kind)) {
            // In a topology the store has a changelog, and mmapstore.log=auto then keeps no log of its own. The
            // harness context (a wrapper that keeps the restore callback) cannot tell the store its changelog,
            // so it says what auto would choose; mmapstore-log and mmapstore-nofsync run with the log.
            config.putIfAbsent("mmapstore.log", kind.equals(MMAPSTORE) ? "false" : "true");
        }
        // MmapStore behaves the same with Kafka 4.4's transactional stores on or off, but for what it reports as
        // uncommitted (and so for Kafka's early commits): it runs with the flag on, the case that costs it commits
        if (kind.equals(ROCKSDB_TXN) || isMmap(kind)) {
            config.putIfAbsent(TRANSACTIONAL, "true");
        }
        HarnessStore h = HarnessStore.open(work, kind, "mmapstore-bench", config, props -> switch (kind) {
            case MMAPSTORE, MMAPSTORE_NOFSYNC, MMAPSTORE_LOG -> MmapStores.persistentKeyValueStore(STORE_NAME).get();
            case ROCKSDB, ROCKSDB_TXN -> Stores.persistentKeyValueStore(STORE_NAME).get();
            case INMEMORY -> Stores.inMemoryKeyValueStore(STORE_NAME).get();
            default -> throw new IllegalArgumentException("unknown store " + kind);
        }, CapturingContext::new);
        return new Opened(kind, h.store(), (CapturingContext) h.context(), h.dir());
    }

    static boolean isMmap(String kind) {
        return kind.startsWith(MMAPSTORE);
    }

    // =============================================================================================
    // Phases

    /** Runs every code path on a throwaway store so that the measured stores see compiled code. */
    void warmUp(String kind) throws IOException {
        int n = Math.min(keyCount, 200_000);
        phase(kind, "warmup", true);
        try (Opened o = open(kind, Map.of())) {
            KeyValueStore<Bytes, byte[]> s = o.store();
            for (int j = 0; j < n; j++) {
                int i = putOrder[j];
                s.put(Bytes.wrap(keys[i].clone()), value(j));
            }
            s.commit(Map.of(INPUT_TP, 1L));
            // Commits too: a stream thread commits every 100 ms for as long as it runs, so a commit is
            // compiled code in production; the measured cycle of 10,000 writes makes only 50 of them.
            for (int c = 0; c < WARMUP_COMMITS; c++) {
                for (int w = 0; w < 10; w++) {
                    int i = putOrder[(c * 10 + w) % n];
                    s.put(Bytes.wrap(keys[i].clone()), value(c));
                }
                s.commit(Map.of(INPUT_TP, 2L + c));
            }
            long x = 0;
            for (int round = 0; round < 3; round++) {
                for (int j = 0; j < n; j++) {
                    byte[] v = s.get(wrapped[putOrder[j]]);
                    x += v == null ? 0 : v[0];
                }
                for (int j = 0; j < n / 100; j++) {
                    int i = putOrder[j] % Math.max(1, keyCount - RANGE_KEYS);
                    try (KeyValueIterator<Bytes, byte[]> it = s.range(wrapped[i], wrapped[i + RANGE_KEYS - 1])) {
                        while (it.hasNext()) {
                            x += it.next().value.length;
                        }
                    }
                }
            }
            List<KeyValue<Bytes, byte[]>> batch = new ArrayList<>(BATCH);
            for (int j = 0; j < n; j++) {
                batch.add(KeyValue.pair(Bytes.wrap(keys[putOrder[j]].clone()), value(j)));
                if (batch.size() == BATCH) {
                    s.putAll(batch);
                    batch = new ArrayList<>(BATCH);
                }
            }
            RecordBatchingStateRestoreCallback cb = o.restoreCallback();
            List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>(BATCH);
            for (int j = 0; j < n; j++) {
                records.add(new ConsumerRecord<>(CHANGELOG_TP.topic(), CHANGELOG_TP.partition(), j,
                        keys[putOrder[j]].clone(), value(j)));
                if (records.size() == BATCH) {
                    cb.restoreBatch(records);
                    records = new ArrayList<>(BATCH);
                }
            }
            s.commit(Map.of(CHANGELOG_TP, (long) n));
            sink += x;
        }
        phase(kind, "warmup", false);
    }

    /** Load with put, then reads, ranges and the commit cycle on the same store. */
    void mainStore(String kind, Map<String, Double> r) throws IOException {
        long heap0 = heapUsed();
        try (Opened o = open(kind, Map.of())) {
            KeyValueStore<Bytes, byte[]> s = o.store();

            // put: every key once, random order, fresh key and value arrays per record
            phase(kind, "put", true);
            LatencyHistogram h = new LatencyHistogram();
            long timed = 0;
            long cpu0 = processCpuNanos();
            long wall0 = System.nanoTime();
            int earlyCommits = 0;
            for (int j = 0; j < keyCount; j++) {
                int i = putOrder[j];
                Bytes k = Bytes.wrap(keys[i].clone());
                byte[] v = value(j);
                long a = System.nanoTime();
                s.put(k, v);
                long d = System.nanoTime() - a;
                h.record(d);
                timed += d;
                if (j % UNCOMMITTED_CHECK_WRITES == 0 && s.approximateNumUncommittedBytes() > UNCOMMITTED_MAX_BYTES) {
                    // Kafka's stream thread would commit now; the commit is part of keeping up with the load
                    long c = System.nanoTime();
                    s.commit(Map.of(INPUT_TP, (long) j));
                    timed += System.nanoTime() - c;
                    earlyCommits++;
                }
            }
            long wall = System.nanoTime() - wall0;
            r.put("put.early_commits", (double) earlyCommits);
            r.put("put.cpu_ops_s", keyCount / ((processCpuNanos() - cpu0) / 1e9));
            phase(kind, "put", false);
            put(r, "put", keyCount, timed, h);
            r.put("put.wall_ops_s", keyCount / (wall / 1e9));
            long c0 = System.nanoTime();
            s.commit(Map.of(INPUT_TP, (long) keyCount));
            r.put("load.commit_ms", (System.nanoTime() - c0) / 1e6);
            verify(s, "after put");

            r.put("heap.after_load_mb", (heapUsed() - heap0) / 1e6);
            diskUsage(o.dir(), r, "disk");
            log("%s put: %,.0f ops/s p50 %.2f µs p99 %.2f µs; heap after load %.1f MB; %s files %.1f MB", kind,
                    r.get("put.ops_s"), r.get("put.p50_us"), r.get("put.p99_us"), r.get("heap.after_load_mb"),
                    fmt0(r.get("disk.files")), r.get("disk.mb"));

            reads(kind, s, "get_uniform", uniformSeq, r);
            reads(kind, s, "get_zipf", zipfSeq, r);
            // Kafka 4.4's committed view (what Interactive Queries read at READ_COMMITTED), same keys as
            // get_uniform: MmapStore's reads the snapshot of its last commit, RocksDB's (flag on) the database
            // without its uncommitted batch; Kafka's in-memory store has no isolation (the view is the store)
            reads(kind, s.readOnly(IsolationLevel.READ_COMMITTED), "get_committed", uniformSeq, r);
            ranges(kind, s, r);
            commitCycle(kind, s, r, "commit", WRITES_PER_COMMIT);
            commitCycle(kind, s, r, "commit100", WRITES_PER_SMALL_COMMIT);
            // RocksDB (WAL disabled) keeps recent writes only in its memtables until it flushes; closing it
            // flushes them. Count the files again once every store has closed.
            s.close();
            diskUsage(o.dir(), r, "disk.closed");
        }
    }

    void reads(String kind, ReadOnlyKeyValueStore<Bytes, byte[]> s, String op, int[] seq, Map<String, Double> r) {
        int n = readOps;
        long x = 0;
        long misses = 0;
        // pass 1: throughput, no per-op timer
        phase(kind, op, true);
        long cpu0 = processCpuNanos();
        long w0 = System.nanoTime();
        for (int j = 0; j < n; j++) {
            byte[] v = s.get(wrapped[seq[j]]);
            if (v == null) {
                misses++;
            } else {
                x += v[0];
            }
        }
        long wall = System.nanoTime() - w0;
        r.put(op + ".cpu_ops_s", n / ((processCpuNanos() - cpu0) / 1e9));
        // pass 2: latency histogram (other keys of the same distribution)
        LatencyHistogram h = new LatencyHistogram();
        for (int j = n; j < 2 * n; j++) {
            Bytes k = wrapped[seq[j]];
            long a = System.nanoTime();
            byte[] v = s.get(k);
            h.record(System.nanoTime() - a);
            if (v == null) {
                misses++;
            } else {
                x += v[0];
            }
        }
        phase(kind, op, false);
        sink += x;
        r.put(op + ".ops_s", n / (wall / 1e9));
        lat(r, op, h);
        if (misses > 0) {
            throw new IllegalStateException(kind + " " + op + ": " + misses + " keys missing");
        }
        log("%s %s: %,.0f ops/s p50 %.2f µs p99 %.2f µs", kind, op, r.get(op + ".ops_s"), r.get(op + ".p50_us"),
                r.get(op + ".p99_us"));
    }

    void ranges(String kind, KeyValueStore<Bytes, byte[]> s, Map<String, Double> r) {
        int n = rangeOps;
        long x = 0;
        long entries = 0;
        phase(kind, "range", true);
        long cpu0 = processCpuNanos();
        long w0 = System.nanoTime();
        for (int j = 0; j < n; j++) {
            int i = rangeSeq[j];
            try (KeyValueIterator<Bytes, byte[]> it = s.range(wrapped[i], wrapped[i + RANGE_KEYS - 1])) {
                while (it.hasNext()) {
                    KeyValue<Bytes, byte[]> kv = it.next();
                    x += kv.value[0] + kv.key.get()[0];
                    entries++;
                }
            }
        }
        long wall = System.nanoTime() - w0;
        r.put("range.cpu_ops_s", n / ((processCpuNanos() - cpu0) / 1e9));
        LatencyHistogram h = new LatencyHistogram();
        for (int j = n; j < 2 * n; j++) {
            int i = rangeSeq[j];
            long a = System.nanoTime();
            try (KeyValueIterator<Bytes, byte[]> it = s.range(wrapped[i], wrapped[i + RANGE_KEYS - 1])) {
                while (it.hasNext()) {
                    KeyValue<Bytes, byte[]> kv = it.next();
                    x += kv.value[0] + kv.key.get()[0];
                    entries++;
                }
            }
            h.record(System.nanoTime() - a);
        }
        phase(kind, "range", false);
        sink += x;
        if (entries != 2L * n * RANGE_KEYS) {
            throw new IllegalStateException(kind + " range returned " + entries + " entries, expected " + 2L * n * RANGE_KEYS);
        }
        r.put("range.ops_s", n / (wall / 1e9));
        r.put("range.entries_s", n * (double) RANGE_KEYS / (wall / 1e9));
        lat(r, "range", h);
        log("%s range(100): %,.0f ranges/s p50 %.2f µs p99 %.2f µs", kind, r.get("range.ops_s"), r.get("range.p50_us"),
                r.get("range.p99_us"));
    }

    /**
     * Overwrites of random existing keys, {@code perCommit} of them followed by a timed commit: as many
     * cycles as make {@code commits} x 10,000 writes (so both cycle lengths write the same amount).
     */
    void commitCycle(String kind, KeyValueStore<Bytes, byte[]> s, Map<String, Double> r, String op, int perCommit) {
        SplittableRandom rnd = new SplittableRandom(42 + perCommit);
        LatencyHistogram hc = new LatencyHistogram();
        long putTime = 0;
        long commitTime = 0;
        long offset = keyCount + (op.equals("commit") ? 0 : (long) commits * WRITES_PER_COMMIT);
        int cycles = (int) ((long) commits * WRITES_PER_COMMIT / perCommit);
        phase(kind, op, true);
        long cpu0 = processCpuNanos();
        for (int c = 0; c < cycles; c++) {
            for (int w = 0; w < perCommit; w++) {
                Bytes k = Bytes.wrap(keys[rnd.nextInt(keyCount)].clone());
                byte[] v = value(++offset);
                long a = System.nanoTime();
                s.put(k, v);
                putTime += System.nanoTime() - a;
            }
            Map<TopicPartition, Long> offsets = Map.of(INPUT_TP, offset);
            long a = System.nanoTime();
            s.commit(offsets);
            long d = System.nanoTime() - a;
            hc.record(d);
            commitTime += d;
        }
        long cpu = processCpuNanos() - cpu0;
        phase(kind, op, false);
        long writes = (long) cycles * perCommit;
        r.put(op + ".cpu_ops_s", writes / (cpu / 1e9));
        r.put(op + ".writes_s", writes / ((putTime + commitTime) / 1e9));
        lat(r, op, hc);
        r.put(op + ".count", (double) cycles);
        log("%s %s (a commit every %,d writes): %,.0f writes/s, commit p50 %.1f µs p99 %.1f µs", kind, op, perCommit,
                r.get(op + ".writes_s"), r.get(op + ".p50_us"), r.get(op + ".p99_us"));
    }

    /** putAll of every key in batches of 1,000 into an empty store (batch built outside the timer). */
    void putAllStore(String kind, Map<String, Double> r) throws IOException {
        try (Opened o = open(kind, Map.of())) {
            KeyValueStore<Bytes, byte[]> s = o.store();
            LatencyHistogram h = new LatencyHistogram();
            long timed = 0;
            phase(kind, "putAll", true);
            long cpu0 = processCpuNanos();
            for (int j = 0; j < keyCount; j += BATCH) {
                int end = Math.min(keyCount, j + BATCH);
                List<KeyValue<Bytes, byte[]>> batch = new ArrayList<>(end - j);
                for (int q = j; q < end; q++) {
                    batch.add(KeyValue.pair(Bytes.wrap(keys[putOrder[q]].clone()), value(q)));
                }
                long a = System.nanoTime();
                s.putAll(batch);
                long d = System.nanoTime() - a;
                h.record(d);
                timed += d;
            }
            r.put("putAll.cpu_ops_s", keyCount / ((processCpuNanos() - cpu0) / 1e9));
            phase(kind, "putAll", false);
            s.commit(Map.of(INPUT_TP, (long) keyCount));
            verify(s, "after putAll");
            r.put("putAll.records_s", keyCount / (timed / 1e9));
            lat(r, "putAll", h);
            log("%s putAll(1000): %,.0f records/s, batch p50 %.1f µs p99 %.1f µs", kind, r.get("putAll.records_s"),
                    r.get("putAll.p50_us"), r.get("putAll.p99_us"));
        }
    }

    /**
     * Restore of a changelog stream: batches of 1,000 ConsumerRecords (built outside the timer, as the
     * restore consumer would hand them over) through the callback the store registered in init, then
     * the commit Kafka makes when restoration ends (timed).
     */
    void restoreStore(String kind, Map<String, Double> r) throws IOException {
        try (Opened o = open(kind, Map.of())) {
            KeyValueStore<Bytes, byte[]> s = o.store();
            RecordBatchingStateRestoreCallback cb = o.restoreCallback();
            r.put("restore.batching_callback", o.context().restoreCallback() instanceof RecordBatchingStateRestoreCallback ? 1.0 : 0.0);
            LatencyHistogram h = new LatencyHistogram();
            long timed = 0;
            long bytes = 0;
            phase(kind, "restore", true);
            long cpu0 = processCpuNanos();
            for (int j = 0; j < keyCount; j += BATCH) {
                int end = Math.min(keyCount, j + BATCH);
                List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>(end - j);
                for (int q = j; q < end; q++) {
                    byte[] k = keys[putOrder[q]].clone();
                    byte[] v = value(q);
                    bytes += k.length + v.length;
                    records.add(new ConsumerRecord<>(CHANGELOG_TP.topic(), CHANGELOG_TP.partition(), q, k, v));
                }
                long a = System.nanoTime();
                cb.restoreBatch(records);
                long d = System.nanoTime() - a;
                h.record(d);
                timed += d;
            }
            long a = System.nanoTime();
            s.commit(Map.of(CHANGELOG_TP, (long) keyCount));
            long commit = System.nanoTime() - a;
            r.put("restore.cpu_ops_s", keyCount / ((processCpuNanos() - cpu0) / 1e9));
            phase(kind, "restore", false);
            timed += commit;
            verify(s, "after restore");
            r.put("restore.records_s", keyCount / (timed / 1e9));
            r.put("restore.mb_s", bytes / 1e6 / (timed / 1e9));
            r.put("restore.final_commit_ms", commit / 1e6);
            lat(r, "restore", h);
            log("%s restore(1000): %,.0f records/s = %.1f MB/s of changelog key+value bytes, batch p50 %.1f µs p99 %.1f µs,"
                    + " final commit %.1f ms", kind, r.get("restore.records_s"), r.get("restore.mb_s"), r.get("restore.p50_us"),
                    r.get("restore.p99_us"), r.get("restore.final_commit_ms"));
        }
    }

    /**
     * Heap growth per million keys once they are in segments: a fresh store (MmapStore with a small
     * {@code mmapstore.memtable.bytes}, so at most that much stays in the memtable after a commit) measured
     * empty, loaded to half the keys, committed, measured, loaded to all keys, committed, measured. The
     * figure is (all keys - empty) per million keys; the half-to-all slope is reported alongside.
     */
    void heapProbe(String kind, Map<String, Double> r) throws IOException {
        Map<String, Object> extra = isMmap(kind) ? Map.of("mmapstore.memtable.bytes", Long.toString(probeMemtableBytes)) : Map.of();
        long h0 = heapUsed();
        try (Opened o = open(kind, extra)) {
            KeyValueStore<Bytes, byte[]> s = o.store();
            phase(kind, "heapProbe", true);
            int half = keyCount / 2;
            long hOpen = heapUsed();
            load(s, 0, half);
            long h1 = heapUsed();
            load(s, half, keyCount);
            long h2 = heapUsed();
            phase(kind, "heapProbe", false);
            verify(s, "after heap probe");
            // Growth from the opened empty store to all keys committed, per million keys. The slope between
            // the half and full points is kept too, but it is within the noise when the growth is near zero
            // (the memtable residue, up to the probe's memtable size, differs between the two points).
            double perM = (h2 - hOpen) / (keyCount / 1e6) / 1e6;
            r.put("heap.per_million_mb", perM);
            r.put("heap.slope_per_million_mb", (h2 - h1) / ((keyCount - half) / 1e6) / 1e6);
            r.put("heap.probe_total_mb", (h2 - h0) / 1e6);
            r.put("heap.probe_open_mb", (hOpen - h0) / 1e6);
            diskUsage(o.dir(), r, "probe.disk");
            log("%s heap probe%s: %.2f MB per million keys (slope %,d -> %,d keys: %.2f MB), %.1f MB total after %,d keys, %s files",
                    kind, extra.isEmpty() ? "" : " " + extra, perM, half, keyCount, r.get("heap.slope_per_million_mb"),
                    r.get("heap.probe_total_mb"), keyCount, fmt0(r.get("probe.disk.files")));
        }
    }

    private void load(KeyValueStore<Bytes, byte[]> s, int from, int to) {
        for (int j = from; j < to; j++) {
            int i = putOrder[j];
            s.put(Bytes.wrap(keys[i].clone()), value(j));
            if ((j + 1) % 100_000 == 0) {
                s.commit(Map.of(INPUT_TP, (long) j + 1));
            }
        }
        s.commit(Map.of(INPUT_TP, (long) to));
    }

    void verify(KeyValueStore<Bytes, byte[]> s, String when) {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int q = 0; q < 1000; q++) {
            int i = rnd.nextInt(keyCount);
            if (s.get(wrapped[i]) == null) {
                throw new IllegalStateException("key " + i + " missing " + when);
            }
        }
    }

    // =============================================================================================
    // Measurement helpers

    static void put(Map<String, Double> r, String op, long ops, long timedNanos, LatencyHistogram h) {
        r.put(op + ".ops_s", ops / (timedNanos / 1e9));
        lat(r, op, h);
    }

    static void lat(Map<String, Double> r, String op, LatencyHistogram h) {
        r.put(op + ".p50_us", h.percentileNanos(50) / 1e3);
        r.put(op + ".p99_us", h.percentileNanos(99) / 1e3);
        r.put(op + ".p999_us", h.percentileNanos(99.9) / 1e3);
        r.put(op + ".mean_us", h.meanNanos() / 1e3);
        r.put(op + ".max_us", h.maxNanos() / 1e3);
        r.put(op + ".samples", (double) h.count());
    }

    /** CPU time of the whole JVM (all threads: RocksDB's background threads, GC and JIT included). */
    static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** Heap used after full collections (G1's System.gc() is a full, compacting GC). */
    static long heapUsed() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    static void diskUsage(Path dir, Map<String, Double> r, String prefix) {
        long[] fb = new long[2];
        try (Stream<Path> s = Files.walk(dir)) {
            s.filter(Files::isRegularFile).forEach(p -> {
                try {
                    fb[1] += Files.size(p);
                    fb[0]++;
                } catch (IOException e) {
                    // deleted while walking (a background compaction): skip
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // racing a background compaction: keep what was counted
        }
        r.put(prefix + ".files", (double) fb[0]);
        r.put(prefix + ".mb", fb[1] / 1e6);
    }

    void phase(String kind, String op, boolean start) {
        if (phases != null) {
            phases.println((start ? "start " : "end ") + kind + " " + op + " " + Instant.now());
        }
    }

    static void log(String fmt, Object... args) {
        System.out.println(Instant.now().toString().substring(11, 19) + " " + String.format(Locale.ROOT, fmt, args));
    }

    static String fmt0(Double d) {
        return d == null ? "n/a" : String.format(Locale.ROOT, "%,.0f", d);
    }
}
