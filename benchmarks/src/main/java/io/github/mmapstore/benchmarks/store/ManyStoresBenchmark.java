package io.github.mmapstore.benchmarks.store;

import io.github.mmapstore.benchmarks.Dirs;
import io.github.mmapstore.benchmarks.report.LatencyHistogram;
import io.github.mmapstore.engine.MemoryBudget;
import io.github.mmapstore.engine.OpenReport;
import io.github.mmapstore.engine.StoreEngine;
import io.github.mmapstore.streams.MmapStores;
import io.github.mmapstore.streams.internals.StoreCore;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.internals.RecordBatchingStateRestoreCallback;
import org.apache.kafka.streams.processor.internals.StateRestoreCallbackAdapter;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.apache.kafka.streams.state.Stores;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.WriteBufferManager;

/**
 * Many stores in one JVM under one memory budget (issue 21): {@code tasks} x {@code storesPerTask}
 * key-value stores (500 by default), all open at once, each in its own task directory with its own
 * Kafka store context, under a single-threaded write load (16-byte keys, 100-byte values, uniform over
 * the stores or skewed), every task committed every {@code commitMs} as a stream thread under
 * exactly-once commits its tasks. Competitors, each in a child JVM of its own (same heap flags):
 *
 * <ul>
 *   <li>{@code mmapstore}: {@code MmapStores.persistentKeyValueStore} with
 *       {@code mmapstore.memory.budget.bytes} = the budget (a key older builds ignore), no log of its own
 *       (as with a changelog) and {@code enable.transactional.statestores=true}, as the store-level harness;</li>
 *   <li>{@code rocksdb}: Kafka's {@code Stores.persistentKeyValueStore} with {@link BoundedMemoryConfig},
 *       Kafka's documented bounded-memory recipe sized to the same budget;</li>
 *   <li>{@code rocksdb-txn}: the same with {@code enable.transactional.statestores=true} (Kafka 4.4, KIP-892).</li>
 * </ul>
 *
 * <p>Each competitor runs twice: a load child (samples heap, RSS, mappings, descriptors and files once a
 * second; killed with SIGKILL at the end, nothing closed) and a reopen child (opens every store again,
 * reads each, checks sampled keys against what the store says it committed, replays the changelog tail
 * each store reports needing through its restore callback, checks again against the last commit, closes).
 * The parent writes the report and charts. See benchmarks/README-store-level.md.
 */
public final class ManyStoresBenchmark {
    static final int KEY_BYTES = 16;
    static final int VALUE_BYTES = 100;
    static final String APP_ID = "many-bench";
    static final String MMAPSTORE = "mmapstore";
    static final String ROCKSDB = "rocksdb";
    static final String ROCKSDB_TXN = "rocksdb-txn";
    static final String TRANSACTIONAL = "enable.transactional.statestores";
    static final String BUDGET_KEY = "mmapstore.memory.budget.bytes";
    static final int RESTORE_BATCH = 1_000;

    // ---- options (the parent passes them all to its children) ------------------------------------
    int tasks = 100;
    int storesPerTask = 5;
    int keysPerStore = 10_000;
    int seconds = 120;
    long commitMs = 100;
    long commitWrites = 0;           // > 0: also commit a task once one of its stores has this many uncommitted writes
    long budgetBytes = 256L << 20;
    double rocksMemtableShare = 0.5; // of the budget, for the WriteBufferManager (charged to the same cache)
    boolean rocksStrict = true;
    long rocksWriteBufferBytes = 0;  // > 0: each store's write_buffer_size (the recipe's MEMTABLE_SIZE); 0: Kafka's default
    boolean skew = false;
    int sampleKeys = 100;            // keys 0..sampleKeys-1 of every store are checked after the restart
    int liveHeapEvery = 30;          // seconds between full GCs measuring the live heap during the load (0: none)
    List<String> competitors = List.of(MMAPSTORE, ROCKSDB, ROCKSDB_TXN);
    String childJvm = "-Xmx1g -XX:+UseG1GC";
    Path out = Path.of("benchmarks/results");
    Path work = Path.of("benchmarks/work/many-stores");
    String date = LocalDate.now().toString();
    String name;
    Path loadLog;
    String revision;
    // child only
    String mode = "parent";
    String kind;

    final List<String> passOn = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        ManyStoresBenchmark b = new ManyStoresBenchmark();
        b.parse(args);
        switch (b.mode) {
            case "parent" -> b.runParent();
            case "load", "reopen" -> {
                // a child that fails must end (background threads of the stores would keep the JVM alive)
                try {
                    if (b.mode.equals("load")) {
                        b.runLoad();
                    } else {
                        b.runReopen();
                    }
                } catch (Throwable t) {
                    t.printStackTrace(System.out);
                    System.out.flush();
                    Runtime.getRuntime().halt(1);
                }
            }
            default -> throw new IllegalArgumentException("unknown mode " + b.mode);
        }
    }

    void parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            boolean common = true;
            switch (a) {
                case "--tasks" -> tasks = Integer.parseInt(args[++i]);
                case "--stores-per-task" -> storesPerTask = Integer.parseInt(args[++i]);
                case "--keys-per-store" -> keysPerStore = Integer.parseInt(args[++i].replace("_", ""));
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--commit-ms" -> commitMs = Long.parseLong(args[++i]);
                case "--commit-writes" -> commitWrites = Long.parseLong(args[++i]);
                case "--budget-mib" -> budgetBytes = Long.parseLong(args[++i]) << 20;
                case "--rocksdb-memtable-share" -> rocksMemtableShare = Double.parseDouble(args[++i]);
                case "--rocksdb-strict" -> rocksStrict = Boolean.parseBoolean(args[++i]);
                case "--rocksdb-write-buffer-kib" -> rocksWriteBufferBytes = Long.parseLong(args[++i]) << 10;
                case "--skew" -> skew = true;
                case "--sample-keys" -> sampleKeys = Integer.parseInt(args[++i]);
                case "--live-heap-every" -> liveHeapEvery = Integer.parseInt(args[++i]);
                case "--competitors" -> competitors = List.of(args[++i].split(","));
                case "--work" -> work = Path.of(args[++i]);
                default -> {
                    common = false;
                    switch (a) {
                        case "--child-jvm" -> childJvm = args[++i];
                        case "--out" -> out = Path.of(args[++i]);
                        case "--date" -> date = args[++i];
                        case "--name" -> name = args[++i];
                        case "--load-log" -> loadLog = Path.of(args[++i]);
                        case "--rev" -> revision = args[++i];
                        case "--mode" -> mode = args[++i];
                        case "--kind" -> kind = args[++i];
                        default -> throw new IllegalArgumentException("unknown option " + a + "\nusage: ManyStoresBenchmark"
                                + " [--tasks 100] [--stores-per-task 5] [--keys-per-store 10000] [--seconds 150] [--commit-ms 100]"
                                + " [--commit-writes N] [--budget-mib 256] [--rocksdb-memtable-share 0.5] [--rocksdb-strict true] [--rocksdb-write-buffer-kib N]"
                                + " [--skew] [--sample-keys 100] [--live-heap-every 30] [--competitors mmapstore,rocksdb,rocksdb-txn]"
                                + " [--child-jvm '-Xmx1g -XX:+UseG1GC'] [--out DIR] [--work DIR] [--date D] [--name BASE]"
                                + " [--load-log FILE] [--rev TEXT]");
                    }
                }
            }
            if (common) {
                passOn.add(a);
                if (!a.equals("--skew")) {
                    passOn.add(args[i]);
                }
            }
        }
        sampleKeys = Math.min(sampleKeys, keysPerStore);
        if (name == null) {
            name = date + "-many-stores" + (skew ? "-skew" : "");
        }
    }

    int storeCount() {
        return tasks * storesPerTask;
    }

    // =============================================================================================
    // Data: deterministic per store, so that the reopen child can regenerate every write

    /** The key a store's {@code w}-th write (1-based) goes to: a store-seeded generator, one draw per write. */
    static SplittableRandom keyStream(int store) {
        return new SplittableRandom(0x9E3779B97F4A7C15L * (store + 1) ^ 0x5EEDL);
    }

    static byte[] key(int store, int k) {
        long h = mix(((long) store << 32) | k);
        byte[] b = new byte[KEY_BYTES];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (h >>> (56 - 8 * i));
        }
        putInt(b, 8, store);
        putInt(b, 12, k);
        return b;
    }

    /** The value of a store's {@code w}-th write: w, store, key index, then filler derived from w. */
    static byte[] value(int store, int k, long w) {
        byte[] v = new byte[VALUE_BYTES];
        for (int i = 0; i < 8; i++) {
            v[i] = (byte) (w >>> (56 - 8 * i));
        }
        putInt(v, 8, store);
        putInt(v, 12, k);
        for (int i = 16; i < VALUE_BYTES; i++) {
            v[i] = (byte) (i * 31 + w);
        }
        return v;
    }

    static long writeIndexOf(byte[] v) {
        long w = 0;
        for (int i = 0; i < 8; i++) {
            w = (w << 8) | (v[i] & 0xFF);
        }
        return w;
    }

    static void putInt(byte[] b, int at, int x) {
        b[at] = (byte) (x >>> 24);
        b[at + 1] = (byte) (x >>> 16);
        b[at + 2] = (byte) (x >>> 8);
        b[at + 3] = (byte) x;
    }

    static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }

    // =============================================================================================
    // Stores

    /** 500 open stores: store s is store {@code s % storesPerTask} of task {@code s / storesPerTask}. */
    final class Fleet {
        final KeyValueStore<Bytes, byte[]>[] stores;
        final CapturingContext[] contexts;
        final TopicPartition[] changelog;

        @SuppressWarnings("unchecked")
        Fleet() {
            stores = new KeyValueStore[storeCount()];
            contexts = new CapturingContext[storeCount()];
            changelog = new TopicPartition[storeCount()];
            for (int s = 0; s < storeCount(); s++) {
                changelog[s] = new TopicPartition(APP_ID + "-" + storeName(s) + "-changelog", s / storesPerTask);
            }
        }

        String storeName(int s) {
            return "store" + (s % storesPerTask);
        }

        /** Opens (init) every store; returns the wall time in nanoseconds. */
        long open() throws IOException {
            Path root = root();
            Map<String, Object> config = storeConfig();
            long t0 = System.nanoTime();
            for (int t = 0; t < tasks; t++) {
                Path taskDir = root.resolve(APP_ID).resolve("0_" + t);
                Files.createDirectories(taskDir);
                Properties props = new Properties();
                props.put(StreamsConfig.APPLICATION_ID_CONFIG, APP_ID);
                props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
                props.put(StreamsConfig.STATE_DIR_CONFIG, root.toString());
                props.putAll(config);
                // one context per task, as Kafka gives every store of a task the task's context
                MockProcessorContext<Object, Object> mock = new MockProcessorContext<>(props, new TaskId(0, t), taskDir.toFile());
                mock.setRecordMetadata(APP_ID + "-input", t, 0L);
                StateStoreContext taskContext = mock.getStateStoreContext();
                for (int j = 0; j < storesPerTask; j++) {
                    int s = t * storesPerTask + j;
                    KeyValueStore<Bytes, byte[]> store = kind.equals(MMAPSTORE)
                            ? MmapStores.persistentKeyValueStore(storeName(s)).get()
                            : Stores.persistentKeyValueStore(storeName(s)).get();
                    CapturingContext c = new CapturingContext(taskContext);
                    store.init(c, store);
                    stores[s] = store;
                    contexts[s] = c;
                }
            }
            return System.nanoTime() - t0;
        }
    }

    Path root() {
        return work.resolve(kind).toAbsolutePath();
    }

    Map<String, Object> storeConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        switch (kind) {
            case MMAPSTORE -> {
                c.put(BUDGET_KEY, Long.toString(budgetBytes));
                // as with a changelog (mmapstore.log=auto chooses this there; the harness context cannot name one)
                c.put("mmapstore.log", "false");
                c.put(TRANSACTIONAL, "true");
            }
            case ROCKSDB, ROCKSDB_TXN -> {
                c.put(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, BoundedMemoryConfig.class.getName());
                c.put(BoundedMemoryConfig.TOTAL_BYTES, Long.toString(budgetBytes));
                c.put(BoundedMemoryConfig.MEMTABLE_BYTES, Long.toString((long) (budgetBytes * rocksMemtableShare)));
                c.put(BoundedMemoryConfig.STRICT, Boolean.toString(rocksStrict));
                c.put(BoundedMemoryConfig.WRITE_BUFFER_BYTES, Long.toString(rocksWriteBufferBytes));
                c.put(TRANSACTIONAL, Boolean.toString(kind.equals(ROCKSDB_TXN)));
            }
            default -> throw new IllegalArgumentException("unknown competitor " + kind);
        }
        return c;
    }

    /**
     * Kafka's documented bounded-memory recipe for its RocksDB stores: one block cache shared by every store
     * of the JVM (static), a WriteBufferManager charging every memtable to that cache, index and filter
     * blocks in the cache at high priority with the top level pinned. Sized by the harness's configs.
     */
    public static final class BoundedMemoryConfig implements RocksDBConfigSetter {
        static final String TOTAL_BYTES = "many.bench.rocksdb.total.bytes";
        static final String MEMTABLE_BYTES = "many.bench.rocksdb.memtable.bytes";
        static final String STRICT = "many.bench.rocksdb.strict.capacity";
        static final String WRITE_BUFFER_BYTES = "many.bench.rocksdb.write.buffer.bytes";
        static final double INDEX_FILTER_BLOCK_RATIO = 0.1;
        static Cache cache;
        static WriteBufferManager writeBufferManager;

        static synchronized void setUp(Map<String, Object> configs) {
            if (cache == null) {
                long total = Long.parseLong(configs.get(TOTAL_BYTES).toString());
                long memtables = Long.parseLong(configs.get(MEMTABLE_BYTES).toString());
                boolean strict = Boolean.parseBoolean(configs.get(STRICT).toString());
                cache = new LRUCache(total, -1, strict, INDEX_FILTER_BLOCK_RATIO);
                writeBufferManager = new WriteBufferManager(memtables, cache);
            }
        }

        @Override
        public void setConfig(String storeName, Options options, Map<String, Object> configs) {
            setUp(configs);
            BlockBasedTableConfig table = (BlockBasedTableConfig) options.tableFormatConfig();
            table.setBlockCache(cache);
            table.setCacheIndexAndFilterBlocks(true);
            table.setCacheIndexAndFilterBlocksWithHighPriority(true);
            table.setPinTopLevelIndexAndFilter(true);
            options.setWriteBufferManager(writeBufferManager);
            long writeBuffer = Long.parseLong(configs.getOrDefault(WRITE_BUFFER_BYTES, "0").toString());
            if (writeBuffer > 0) {
                options.setWriteBufferSize(writeBuffer); // the recipe's MEMTABLE_SIZE (arena blocks are an eighth of it)
            }
            options.setTableFormatConfig(table);
        }

        @Override
        public void close(String storeName, Options options) {
            // the cache and the WriteBufferManager are shared by every store: not closed here
        }
    }

    // =============================================================================================
    // Load child

    void runLoad() throws Exception {
        Dirs.deleteRecursively(root());
        Files.createDirectories(root());
        int n = storeCount();
        Fleet fleet = new Fleet();
        Sampler sampler = new Sampler(root(), fleet);
        sampler.start();
        long openNanos = fleet.open();
        log("opened %d %s stores in %.2f s", n, kind, openNanos / 1e9);

        SplittableRandom[] streams = new SplittableRandom[n];
        for (int s = 0; s < n; s++) {
            streams[s] = keyStream(s);
        }
        int[] hot = java.util.stream.IntStream.range(0, n).filter(s -> s % 10 == 0).toArray();
        int[] cold = java.util.stream.IntStream.range(0, n).filter(s -> s % 10 != 0).toArray();
        SplittableRandom picker = new SplittableRandom(42);
        long[] writes = new long[n];
        long[] committed = new long[n];
        boolean[] taskDirty = new boolean[tasks];
        LatencyHistogram puts = new LatencyHistogram();
        LatencyHistogram storeCommits = new LatencyHistogram();
        LatencyHistogram taskCommits = new LatencyHistogram();
        long rounds = 0;
        long total = 0;

        long start = System.nanoTime();
        sampler.loadStart = start;
        long end = start + seconds * 1_000_000_000L;
        long half = start + seconds * 500_000_000L;
        long totalAtHalf = -1;
        long lastRound = start;
        long now = start;
        while (now < end) {
            for (int b = 0; b < 256; b++) {
                int s = !skew ? picker.nextInt(n)
                        : picker.nextInt(10) < 9 ? hot[picker.nextInt(hot.length)] : cold[picker.nextInt(cold.length)];
                long w = ++writes[s];
                int k = streams[s].nextInt(keysPerStore);
                Bytes key = Bytes.wrap(key(s, k));
                byte[] v = value(s, k, w);
                long a = System.nanoTime();
                fleet.stores[s].put(key, v);
                puts.record(System.nanoTime() - a);
                taskDirty[s / storesPerTask] = true;
                if (commitWrites > 0 && w - committed[s] >= commitWrites) {
                    commitTask(fleet, s / storesPerTask, writes, committed, storeCommits, taskCommits);
                    taskDirty[s / storesPerTask] = false;
                }
            }
            total += 256;
            sampler.writes = total;
            now = System.nanoTime();
            if (now - lastRound >= commitMs * 1_000_000L) {
                // a stream thread's commit: every task that processed records since its last commit
                for (int t = 0; t < tasks; t++) {
                    if (taskDirty[t]) {
                        commitTask(fleet, t, writes, committed, storeCommits, taskCommits);
                        taskDirty[t] = false;
                    }
                }
                rounds++;
                now = System.nanoTime();
                lastRound = now;
            }
            if (totalAtHalf < 0 && now >= half) {
                totalAtHalf = total;
            }
        }
        double loadSeconds = (now - start) / 1e9;
        sampler.loadEnd = now;
        Thread.sleep(1_100); // one more sample after the load (background work settling is part of the picture)
        sampler.stopAndJoin();
        Sample last = sampler.sample(liveHeap());
        synchronized (sampler.samples) {
            sampler.samples.add(last);
        }

        Map<String, Object> r = new LinkedHashMap<>();
        r.put("open_empty_s", openNanos / 1e9);
        r.put("load_s", loadSeconds);
        r.put("writes", total);
        r.put("writes_s", total / loadSeconds);
        r.put("writes_s_second_half", (total - Math.max(0, totalAtHalf)) / (loadSeconds / 2));
        r.put("commit_rounds", rounds);
        hist(r, "put", puts, 1e3);
        hist(r, "store_commit", storeCommits, 1e6);
        hist(r, "task_commit", taskCommits, 1e6);
        r.put("end_maps", last.maps);
        r.put("end_maps_root", last.mapsRoot);
        r.put("end_fds", last.fds);
        r.put("end_fds_root", last.fdsRoot);
        r.put("end_files", last.files);
        r.put("end_disk_mb", last.diskBytes / 1e6);
        r.put("end_threads", last.threads);
        r.put("end_heap_live_mb", last.heapLive / 1e6);
        r.put("gauges", String.join(",", sampler.gaugeNames()));
        sampler.writeCsv(work.resolve(kind + "-samples.csv"));
        writeProps(work.resolve(kind + "-load.properties"), r);
        try (DataOutputStream o = new DataOutputStream(Files.newOutputStream(work.resolve(kind + "-counts.bin")))) {
            for (int s = 0; s < n; s++) {
                o.writeLong(writes[s]);
                o.writeLong(committed[s]);
            }
        }
        fsync(work.resolve(kind + "-counts.bin"));
        log("%s: %,d writes in %.1f s = %,.0f writes/s; task commit p50 %.2f ms p99 %.2f ms", kind, total, loadSeconds,
                total / loadSeconds, taskCommits.percentileNanos(50) / 1e6, taskCommits.percentileNanos(99) / 1e6);
        // Nothing is closed: the parent kills this JVM with SIGKILL now.
        System.out.println("READY");
        System.out.flush();
        Thread.sleep(TimeUnit.MINUTES.toMillis(10));
        log("not killed after 10 minutes: exiting");
        Runtime.getRuntime().halt(3);
    }

    void commitTask(Fleet fleet, int t, long[] writes, long[] committed, LatencyHistogram storeCommits,
            LatencyHistogram taskCommits) {
        long t0 = System.nanoTime();
        for (int j = 0; j < storesPerTask; j++) {
            int s = t * storesPerTask + j;
            long a = System.nanoTime();
            fleet.stores[s].commit(Map.of(fleet.changelog[s], writes[s]));
            storeCommits.record(System.nanoTime() - a);
            committed[s] = writes[s];
        }
        taskCommits.record(System.nanoTime() - t0);
    }

    static void hist(Map<String, Object> r, String op, LatencyHistogram h, double unit) {
        r.put(op + "_p50", h.percentileNanos(50) / unit);
        r.put(op + "_p99", h.percentileNanos(99) / unit);
        r.put(op + "_p999", h.percentileNanos(99.9) / unit);
        r.put(op + "_max", h.maxNanos() / unit);
        r.put(op + "_count", h.count());
    }

    // =============================================================================================
    // Reopen child: after SIGKILL

    void runReopen() throws Exception {
        long jvmStartMs = ManagementFactory.getRuntimeMXBean().getUptime();
        int n = storeCount();
        long[] writes = new long[n];
        long[] committed = new long[n];
        try (DataInputStream in = new DataInputStream(Files.newInputStream(work.resolve(kind + "-counts.bin")))) {
            for (int s = 0; s < n; s++) {
                writes[s] = in.readLong();
                committed[s] = in.readLong();
            }
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("jvm_start_ms", jvmStartMs);
        Fleet fleet = new Fleet();
        long openNanos = fleet.open();
        long t0 = System.nanoTime();
        long x = 0;
        for (int s = 0; s < n; s++) {
            byte[] v = fleet.stores[s].get(Bytes.wrap(key(s, 0)));
            x += v == null ? 0 : v[0];
        }
        long readNanos = System.nanoTime() - t0;
        r.put("open_s", openNanos / 1e9);
        r.put("first_reads_ms", readNanos / 1e6);
        log("%s: reopened %d stores in %.2f s, first read of each in %.1f ms (%d)", kind, n, openNanos / 1e9, readNanos / 1e6, x & 1);

        // what each store says it holds, and what Kafka would replay from the changelog
        long[] reported = new long[n];
        long nullOffsets = 0;
        long toReplay = 0;
        long ahead = 0;
        for (int s = 0; s < n; s++) {
            Long c = fleet.stores[s].committedOffset(fleet.changelog[s]);
            if (c == null) {
                nullOffsets++;
            }
            reported[s] = c == null ? -1 : c;
            if (reported[s] > committed[s]) {
                ahead++;
            }
            toReplay += committed[s] - Math.max(0, Math.min(reported[s], committed[s]));
        }
        r.put("stores_without_offset", nullOffsets);
        r.put("stores_offset_ahead_of_commit", ahead);
        r.put("records_to_replay", toReplay);
        r.put("bytes_to_replay_mb", toReplay * (KEY_BYTES + VALUE_BYTES) / 1e6);
        r.put("records_committed", Arrays.stream(committed).sum());
        r.put("records_written", Arrays.stream(writes).sum());
        if (kind.equals(MMAPSTORE)) {
            long replayed = 0;
            long discarded = 0;
            long engineOpen = 0;
            for (int s = 0; s < n; s++) {
                StoreCore core = StoreCore.coreOf(fleet.stores[s]);
                StoreEngine e = core == null ? null : core.engine();
                if (e != null) {
                    OpenReport o = e.openReport();
                    replayed += o.replayedRecords();
                    discarded += o.discardedLogBytes();
                    engineOpen += o.openNanos();
                }
            }
            r.put("engine_replayed_records", replayed);
            r.put("engine_discarded_log_bytes", discarded);
            r.put("engine_open_s_sum", engineOpen / 1e9);
        }

        // 1. sampled keys as the store reopened, against the store's own committed offset
        Check before = check(fleet, writes, reported, false);
        r.put("check_keys", before.keys);
        r.put("check_exact_at_offset", before.exact);
        r.put("check_newer_than_offset", before.newer);
        r.put("check_wrong", before.wrong);
        log("%s: %d sampled keys at the reported offsets: %d exact, %d newer (uncommitted or after the offset), %d wrong",
                kind, before.keys, before.exact, before.newer, before.wrong);

        // 2. restore the changelog tail each store reports needing (offsets (reported, committed]) through its
        //    registered restore callback, then the commit Kafka makes when restoration ends
        long restoreNanos = 0;
        long restored = 0;
        for (int s = 0; s < n; s++) {
            long from = Math.max(0, reported[s]);
            if (from >= committed[s]) {
                continue;
            }
            RecordBatchingStateRestoreCallback cb = StateRestoreCallbackAdapter.adapt(fleet.contexts[s].restoreCallback());
            SplittableRandom stream = keyStream(s);
            List<ConsumerRecord<byte[], byte[]>> batch = new ArrayList<>(RESTORE_BATCH);
            for (long w = 1; w <= committed[s]; w++) {
                int k = stream.nextInt(keysPerStore);
                if (w > from) {
                    TopicPartition tp = fleet.changelog[s];
                    batch.add(new ConsumerRecord<>(tp.topic(), tp.partition(), w, key(s, k), value(s, k, w)));
                    if (batch.size() == RESTORE_BATCH || w == committed[s]) {
                        long a = System.nanoTime();
                        cb.restoreBatch(batch);
                        restoreNanos += System.nanoTime() - a;
                        restored += batch.size();
                        batch = new ArrayList<>(RESTORE_BATCH);
                    }
                }
            }
            long a = System.nanoTime();
            fleet.stores[s].commit(Map.of(fleet.changelog[s], committed[s]));
            restoreNanos += System.nanoTime() - a;
        }
        r.put("restored_records", restored);
        r.put("restore_s", restoreNanos / 1e9);
        r.put("restart_s", (openNanos + readNanos + restoreNanos) / 1e9);
        log("%s: restored %,d changelog records in %.2f s", kind, restored, restoreNanos / 1e9);

        // 3. after the restore every sampled key must hold its value as of the last commit
        Check after = check(fleet, writes, committed, true);
        r.put("after_restore_exact", after.exact);
        r.put("after_restore_wrong", after.wrong);
        log("%s: after the restore %d of %d sampled keys hold the last commit's value (%d wrong)", kind, after.exact,
                after.keys, after.wrong);

        long c0 = System.nanoTime();
        for (KeyValueStore<Bytes, byte[]> s : fleet.stores) {
            s.close();
        }
        r.put("close_s", (System.nanoTime() - c0) / 1e9);
        r.put("reopen_heap_after_gc_mb", heapAfterGc() / 1e6);
        r.put("reopen_rss_mb", procStatus("VmRSS:") / 1e6);
        writeProps(work.resolve(kind + "-reopen.properties"), r);
        log("%s: closed in %.2f s", kind, (Double) r.get("close_s"));
        System.exit(0);
    }

    record Check(long keys, long exact, long newer, long wrong) {
    }

    /**
     * Checks keys 0..sampleKeys-1 of every store against the writes the load made: expected = the newest write
     * at or below {@code offsets[s]} (none: the key must be absent). A value from a later write is "newer"
     * (counted as wrong when {@code strict}); anything else is wrong.
     */
    Check check(Fleet fleet, long[] writes, long[] offsets, boolean strict) {
        long keys = 0;
        long exact = 0;
        long newer = 0;
        long wrong = 0;
        for (int s = 0; s < storeCount(); s++) {
            long[] expected = new long[sampleKeys];
            long[] newest = new long[sampleKeys];
            SplittableRandom stream = keyStream(s);
            @SuppressWarnings("unchecked")
            Set<Long>[] history = new Set[sampleKeys];
            for (long w = 1; w <= writes[s]; w++) {
                int k = stream.nextInt(keysPerStore);
                if (k < sampleKeys) {
                    if (w <= offsets[s]) {
                        expected[k] = w;
                    }
                    newest[k] = w;
                    if (w > offsets[s]) {
                        if (history[k] == null) {
                            history[k] = new HashSet<>();
                        }
                        history[k].add(w);
                    }
                }
            }
            for (int k = 0; k < sampleKeys; k++) {
                keys++;
                byte[] v = fleet.stores[s].get(Bytes.wrap(key(s, k)));
                long got = v == null ? 0 : writeIndexOf(v);
                if (got == expected[k]) {
                    exact++;
                } else if (!strict && history[k] != null && history[k].contains(got)) {
                    newer++;
                } else {
                    wrong++;
                }
            }
        }
        return new Check(keys, exact, newer, wrong);
    }

    // =============================================================================================
    // Sampling (children)

    /** One sample a second. */
    record Sample(double t, double heapUsed, double heapAfterGc, double heapLive, double rss, double rssAnon, double rssFile, long maps,
                  long mapsRoot, long fds, long fdsRoot, long files, long diskBytes, int threads, long writes,
                  double[] gauges) {
    }

    final class Sampler extends Thread {
        final Path root;
        final Fleet fleet;
        final List<Sample> samples = new ArrayList<>();
        final List<String> gaugeNames = new ArrayList<>();
        final List<DoubleSupplier> gauges = new ArrayList<>();
        final long t0 = System.nanoTime();
        volatile long writes;
        volatile long loadStart;
        volatile long loadEnd;
        volatile boolean running = true;
        volatile int ticks;
        long lastLiveSlot;

        Sampler(Path root, Fleet fleet) {
            super("many-stores-sampler");
            setDaemon(true);
            this.root = root;
            this.fleet = fleet;
            if (kind.equals(MMAPSTORE)) {
                budgetGauges(gaugeNames, gauges);
                // the memtables' own estimate, summed over the stores (every 5 s: it takes each engine's lock)
                gaugeNames.add("memtable_sum_bytes");
                gauges.add(() -> ticks % 5 != 0 ? Double.NaN : memtableBytes());
            } else {
                gaugeNames.add("rocksdb_cache_usage_bytes");
                gauges.add(() -> BoundedMemoryConfig.cache == null ? Double.NaN : BoundedMemoryConfig.cache.getUsage());
                gaugeNames.add("rocksdb_cache_pinned_bytes");
                gauges.add(() -> BoundedMemoryConfig.cache == null ? Double.NaN : BoundedMemoryConfig.cache.getPinnedUsage());
            }
        }

        double memtableBytes() {
            double sum = 0;
            for (KeyValueStore<Bytes, byte[]> s : fleet.stores) {
                if (s == null) {
                    continue;
                }
                StoreCore core = StoreCore.coreOf(s);
                StoreEngine e = core == null ? null : core.engine();
                if (e != null) {
                    try {
                        sum += e.stats().memtableBytes();
                    } catch (RuntimeException closedMeanwhile) {
                        // skip
                    }
                }
            }
            return sum;
        }

        List<String> gaugeNames() {
            return gaugeNames;
        }

        @Override
        public void run() {
            long next = System.nanoTime();
            while (running) {
                Sample s = sampleNow();
                synchronized (samples) {
                    samples.add(s);
                }
                ticks++;
                next += 1_000_000_000L;
                long sleep = next - System.nanoTime();
                if (sleep > 0) {
                    try {
                        Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        }

        void stopAndJoin() throws InterruptedException {
            running = false;
            interrupt();
            join();
        }

        Sample sampleNow() {
            double live = Double.NaN;
            if (liveHeapEvery > 0 && loadStart != 0 && loadEnd == 0 && ticks > 0
                    && (System.nanoTime() - loadStart) / 1_000_000_000L / liveHeapEvery > lastLiveSlot) {
                lastLiveSlot = (System.nanoTime() - loadStart) / 1_000_000_000L / liveHeapEvery;
                live = liveHeap();
            }
            return sample(live);
        }

        Sample sample(double live) {
            double[] g = new double[gauges.size()];
            for (int i = 0; i < g.length; i++) {
                try {
                    g[i] = gauges.get(i).getAsDouble();
                } catch (RuntimeException e) {
                    g[i] = Double.NaN;
                }
            }
            String rootText = root.toString();
            long maps = 0;
            long mapsRoot = 0;
            try (BufferedReader in = Files.newBufferedReader(Path.of("/proc/self/maps"))) {
                for (String l; (l = in.readLine()) != null; ) {
                    maps++;
                    if (l.contains(rootText)) {
                        mapsRoot++;
                    }
                }
            } catch (IOException e) {
                maps = -1;
            }
            long fds = 0;
            long fdsRoot = 0;
            try (Stream<Path> st = Files.list(Path.of("/proc/self/fd"))) {
                for (Path p : (Iterable<Path>) st::iterator) {
                    fds++;
                    try {
                        if (Files.readSymbolicLink(p).toString().startsWith(rootText)) {
                            fdsRoot++;
                        }
                    } catch (IOException closed) {
                        // closed between the listing and the link
                    }
                }
            } catch (IOException | UncheckedIOException e) {
                fds = -1;
            }
            long[] fb = new long[2];
            try (Stream<Path> st = Files.walk(root)) {
                st.forEach(p -> {
                    try {
                        if (Files.isRegularFile(p)) {
                            fb[1] += Files.size(p);
                            fb[0]++;
                        }
                    } catch (IOException gone) {
                        // deleted while walking
                    }
                });
            } catch (IOException | UncheckedIOException e) {
                // racing a deletion: keep what was counted
            }
            long ls = loadStart;
            double t = ls == 0 ? -(System.nanoTime() - t0) / 1e9 : (System.nanoTime() - ls) / 1e9;
            return new Sample(t, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), heapAfterGc(), live,
                    procStatus("VmRSS:"), procStatus("RssAnon:"), procStatus("RssFile:"), maps, mapsRoot, fds, fdsRoot,
                    fb[0], fb[1], ManagementFactory.getThreadMXBean().getThreadCount(), writes, g);
        }

        void writeCsv(Path file) throws IOException {
            List<Sample> copy;
            synchronized (samples) {
                copy = new ArrayList<>(samples);
            }
            try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(file))) {
                w.print("t_s,heap_used,heap_after_gc,heap_live,rss,rss_anon,rss_file,maps,maps_root,fds,fds_root,files,disk_bytes,threads,writes,in_load");
                for (String gn : gaugeNames) {
                    w.print("," + gn);
                }
                w.println();
                for (Sample s : copy) {
                    boolean inLoad = s.t() >= 0 && loadEnd != 0 && s.t() <= (loadEnd - loadStart) / 1e9 + 0.001;
                    w.printf(Locale.ROOT, "%.3f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%d,%d,%d,%d,%d,%d,%d,%d,%d", s.t(), s.heapUsed(),
                            s.heapAfterGc(), s.heapLive(), s.rss(), s.rssAnon(), s.rssFile(), s.maps(), s.mapsRoot(), s.fds(), s.fdsRoot(),
                            s.files(), s.diskBytes(), s.threads(), s.writes(), inLoad ? 1 : 0);
                    for (double g : s.gauges()) {
                        w.printf(Locale.ROOT, ",%.0f", g);
                    }
                    w.println();
                }
            }
        }
    }

    /** Gauges of the engine's JVM-wide memory budget ({@code MemoryBudget.shared()}), the one every store here shares. */
    static void budgetGauges(List<String> names, List<DoubleSupplier> gauges) {
        MemoryBudget m = MemoryBudget.shared();
        names.add("budget_limit_bytes");
        gauges.add(m::limitBytes);
        names.add("budget_used_bytes");
        gauges.add(m::usedBytes);
        names.add("budget_peak_used_bytes");
        gauges.add(m::peakUsedBytes);
        names.add("budget_frozen_bytes");
        gauges.add(m::frozenBytes);
        names.add("budget_stores");
        gauges.add(m::stores);
        names.add("budget_stalls");
        gauges.add(m::stalls);
        names.add("budget_stall_ms");
        gauges.add(() -> m.stallNanos() / 1e6);
        names.add("budget_forced_freezes");
        gauges.add(m::forcedFreezes);
    }

    /** Heap used after a full collection (G1's System.gc() is a full, compacting GC): the live heap. */
    static double liveHeap() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** Heap used right after the most recent collection (any collector), summed over the heap pools. */
    static double heapAfterGc() {
        Set<String> heapPools = new HashSet<>();
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP) {
                heapPools.add(p.getName());
            }
        }
        com.sun.management.GcInfo latest = null;
        for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (b instanceof com.sun.management.GarbageCollectorMXBean g) {
                com.sun.management.GcInfo i = g.getLastGcInfo();
                if (i != null && (latest == null || i.getEndTime() > latest.getEndTime())) {
                    latest = i;
                }
            }
        }
        if (latest == null) {
            return Double.NaN;
        }
        double sum = 0;
        for (Map.Entry<String, MemoryUsage> e : latest.getMemoryUsageAfterGc().entrySet()) {
            if (heapPools.contains(e.getKey())) {
                sum += e.getValue().getUsed();
            }
        }
        return sum;
    }

    /** A /proc/self/status figure in bytes (the file gives kB), or NaN. */
    static double procStatus(String field) {
        try (BufferedReader in = Files.newBufferedReader(Path.of("/proc/self/status"))) {
            for (String l; (l = in.readLine()) != null; ) {
                if (l.startsWith(field)) {
                    return Long.parseLong(l.substring(field.length()).replace("kB", "").trim()) * 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }

    static void writeProps(Path file, Map<String, Object> r) throws IOException {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, Object> e : r.entrySet()) {
            b.append(e.getKey()).append('=').append(e.getValue()).append('\n');
        }
        Files.writeString(file, b.toString());
        fsync(file);
    }

    static void fsync(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    static void log(String fmt, Object... args) {
        System.out.println(Instant.now().toString().substring(11, 19) + " " + String.format(Locale.ROOT, fmt, args));
        System.out.flush();
    }

    // =============================================================================================
    // Parent

    /** What one competitor's two children reported. */
    record Run(String kind, Map<String, String> load, Map<String, String> reopen, List<Map<String, Double>> samples,
               String failure) {
        double l(String key) {
            return num(load, key);
        }

        double o(String key) {
            return num(reopen, key);
        }

        static double num(Map<String, String> m, String key) {
            String v = m == null ? null : m.get(key);
            try {
                return v == null ? Double.NaN : Double.parseDouble(v);
            } catch (NumberFormatException e) {
                return Double.NaN;
            }
        }
    }

    void runParent() throws Exception {
        Files.createDirectories(out);
        Files.createDirectories(work);
        String started = Instant.now().toString();
        log("many stores: %d tasks x %d stores, %,d keys per store, %d s of writes per competitor, commit every %d ms, "
                + "budget %d MiB, %s; children: %s", tasks, storesPerTask, keysPerStore, seconds, commitMs, budgetBytes >> 20,
                skew ? "skewed (10%% of the stores take 90%% of the writes)" : "uniform over the stores", childJvm);
        List<Run> runs = new ArrayList<>();
        for (String k : competitors) {
            runs.add(runCompetitor(k));
        }
        ManyStoresReport.write(this, runs, started);
        log("wrote %s", out.resolve(name + ".md"));
    }

    Run runCompetitor(String k) throws Exception {
        Path loadProps = work.resolve(k + "-load.properties");
        Path reopenProps = work.resolve(k + "-reopen.properties");
        Files.deleteIfExists(loadProps);
        Files.deleteIfExists(reopenProps);
        String failure = null;

        Process load = child(k, "load");
        CountDownLatch ready = new CountDownLatch(1);
        List<String> tail = new ArrayList<>();
        Thread pump = pump(load, k + "/load", ready, tail);
        boolean gotReady = false;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds + 900L);
        while (System.nanoTime() < deadline) {
            if (ready.await(1, TimeUnit.SECONDS)) {
                gotReady = true;
                break;
            }
            if (!load.isAlive()) {
                break;
            }
        }
        if (gotReady) {
            load.destroyForcibly(); // SIGKILL: no close, no flush, no shutdown hook
            load.waitFor();
            log("[%s] load child killed (exit %d)", k, load.exitValue());
        } else {
            load.destroyForcibly();
            load.waitFor();
            failure = "load child ended without finishing (exit " + load.exitValue() + "): " + last(tail, 5);
            log("[%s] %s", k, failure);
        }
        pump.join(5_000);
        Map<String, String> loadResult = readProps(loadProps);
        List<Map<String, Double>> samples = readCsv(work.resolve(k + "-samples.csv"));
        if (Files.exists(work.resolve(k + "-samples.csv"))) {
            Files.copy(work.resolve(k + "-samples.csv"), out.resolve(name + "-" + k + "-samples.csv"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }

        Map<String, String> reopenResult = null;
        if (gotReady) {
            Process reopen = child(k, "reopen");
            List<String> tail2 = new ArrayList<>();
            Thread pump2 = pump(reopen, k + "/reopen", new CountDownLatch(1), tail2);
            if (!reopen.waitFor(900, TimeUnit.SECONDS)) {
                reopen.destroyForcibly();
                reopen.waitFor();
            }
            pump2.join(5_000);
            if (reopen.exitValue() != 0) {
                failure = "reopen child failed (exit " + reopen.exitValue() + "): " + last(tail2, 5);
                log("[%s] %s", k, failure);
            }
            reopenResult = readProps(reopenProps);
        }
        Dirs.deleteRecursively(work.resolve(k));
        return new Run(k, loadResult, reopenResult, samples, failure);
    }

    Process child(String k, String childMode) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Djava.awt.headless=true",
                "-XX:+ExitOnOutOfMemoryError"));
        cmd.addAll(List.of(childJvm.trim().split("\\s+")));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), ManyStoresBenchmark.class.getName(),
                "--mode", childMode, "--kind", k));
        cmd.addAll(passOn);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        return pb.start();
    }

    static String last(List<String> tail, int n) {
        synchronized (tail) {
            return String.join(" | ", tail.subList(Math.max(0, tail.size() - n), tail.size()));
        }
    }

    static Thread pump(Process p, String label, CountDownLatch ready, List<String> tail) {
        Thread t = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = in.readLine()) != null; ) {
                    if (l.equals("READY")) {
                        ready.countDown();
                        continue;
                    }
                    synchronized (tail) {
                        tail.add(l);
                        if (tail.size() > 50) {
                            tail.remove(0);
                        }
                    }
                    System.out.println("[" + label + "] " + l);
                }
            } catch (IOException e) {
                // the child was killed
            }
        }, "pump-" + label);
        t.setDaemon(true);
        t.start();
        return t;
    }

    static Map<String, String> readProps(Path p) throws IOException {
        if (!Files.exists(p)) {
            return null;
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (String l : Files.readAllLines(p)) {
            int eq = l.indexOf('=');
            if (eq > 0) {
                m.put(l.substring(0, eq), l.substring(eq + 1));
            }
        }
        return m;
    }

    static List<Map<String, Double>> readCsv(Path p) throws IOException {
        List<Map<String, Double>> rows = new ArrayList<>();
        if (!Files.exists(p)) {
            return rows;
        }
        List<String> lines = Files.readAllLines(p);
        String[] head = lines.get(0).split(",");
        for (String l : lines.subList(1, lines.size())) {
            String[] f = l.split(",");
            Map<String, Double> row = new LinkedHashMap<>();
            for (int i = 0; i < head.length && i < f.length; i++) {
                row.put(head[i], f[i].equals("NaN") ? Double.NaN : Double.parseDouble(f[i]));
            }
            rows.add(row);
        }
        return rows;
    }

    /** For the report. */
    String parameters() {
        return String.format(Locale.ROOT, "%d tasks x %d stores = %d stores; %,d keys per store (%,d in all); %d s of writes; "
                        + "%s; a commit of every task with new writes every %d ms%s; budget %d MiB",
                tasks, storesPerTask, storeCount(), keysPerStore, (long) keysPerStore * storeCount(), seconds,
                skew ? "skewed: 10% of the stores take 90% of the writes" : "writes uniform over the stores", commitMs,
                commitWrites > 0 ? " or once a store has " + commitWrites + " uncommitted writes" : "", budgetBytes >> 20);
    }
}
