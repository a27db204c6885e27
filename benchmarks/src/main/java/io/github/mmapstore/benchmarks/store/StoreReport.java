package io.github.mmapstore.benchmarks.store;

import io.github.mmapstore.benchmarks.report.BarChart;
import io.github.mmapstore.benchmarks.report.LoadLog;
import io.github.mmapstore.benchmarks.report.MachineInfo;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes {@code <out>/<name>.md} (table, ratios vs RocksDB, targets, settings, machine), {@code .json}
 * (every figure) and {@code .png} (MmapStore's and the in-memory store's advantage over RocksDB per
 * row, log scale) for {@link StoreLevelBenchmark}. Same conventions as the engine benchmarks'
 * {@code ResultsWriter}: anything below {@value #NOTES_MARKER} in an existing file is kept.
 */
final class StoreReport {
    static final String NOTES_MARKER = "<!-- notes below this line are kept when the file is regenerated -->";
    static final String BASE = StoreLevelBenchmark.ROCKSDB;
    /** The second baseline: Kafka 4.4's RocksDB store with transactional state stores on. */
    static final String BASE_TXN = StoreLevelBenchmark.ROCKSDB_TXN;

    enum Target { NONE, RATIO, ABS_MIN, ABS_MAX }

    /** One table row: a metric key, its direction, and the target MmapStore must meet. */
    record Row(String operation, String unit, String key, boolean higherIsBetter, boolean compare, Target target,
               double goal) {
        double value(Map<String, Double> r) {
            Double d = r == null ? null : r.get(key);
            return d == null ? Double.NaN : d;
        }

        /** > 1 means {@code r} is better than RocksDB. */
        double advantage(Map<String, Double> r, Map<String, Double> base) {
            double v = value(r);
            double b = value(base);
            return higherIsBetter ? v / b : b / v;
        }

        String targetText() {
            return switch (target) {
                case NONE -> "—";
                case RATIO -> (higherIsBetter ? "≥ " : "≤ 1/") + fmtNum(goal) + (higherIsBetter ? "× RocksDB" : " of RocksDB");
                case ABS_MIN -> "≥ " + fmtNum(goal) + " " + unit;
                case ABS_MAX -> "≤ " + fmtNum(goal) + " " + unit;
            };
        }

        Boolean met(Map<String, Double> mmap, Map<String, Double> base) {
            if (mmap == null) {
                return null;
            }
            return switch (target) {
                case NONE -> null;
                case RATIO -> base == null ? null : advantage(mmap, base) >= goal;
                case ABS_MIN -> value(mmap) >= goal;
                case ABS_MAX -> value(mmap) <= goal;
            };
        }
    }

    static List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        rows.add(new Row("put, 16 B key / 100 B value", "ops/s", "put.ops_s", true, true, Target.RATIO, 3));
        rows.add(new Row("put latency p50", "µs", "put.p50_us", false, true, Target.NONE, 0));
        rows.add(new Row("put latency p99", "µs", "put.p99_us", false, true, Target.NONE, 0));
        rows.add(new Row("get, uniform", "ops/s", "get_uniform.ops_s", true, true, Target.RATIO, 4));
        rows.add(new Row("get uniform latency p50", "µs", "get_uniform.p50_us", false, true, Target.NONE, 0));
        rows.add(new Row("get uniform latency p99", "µs", "get_uniform.p99_us", false, true, Target.NONE, 0));
        rows.add(new Row("get, Zipf s=0.99", "ops/s", "get_zipf.ops_s", true, true, Target.RATIO, 4));
        rows.add(new Row("get Zipf latency p50", "µs", "get_zipf.p50_us", false, true, Target.NONE, 0));
        rows.add(new Row("get Zipf latency p99", "µs", "get_zipf.p99_us", false, true, Target.NONE, 0));
        rows.add(new Row("get, uniform, readOnly(READ_COMMITTED) view", "ops/s", "get_committed.ops_s", true, true, Target.NONE, 0));
        rows.add(new Row("get committed latency p50", "µs", "get_committed.p50_us", false, true, Target.NONE, 0));
        rows.add(new Row("get committed latency p99", "µs", "get_committed.p99_us", false, true, Target.NONE, 0));
        rows.add(new Row("range of 100 keys", "ranges/s", "range.ops_s", true, true, Target.RATIO, 1.5));
        rows.add(new Row("range latency p50", "µs", "range.p50_us", false, true, Target.NONE, 0));
        rows.add(new Row("range latency p99", "µs", "range.p99_us", false, true, Target.NONE, 0));
        rows.add(new Row("putAll, batches of 1,000", "records/s", "putAll.records_s", true, true, Target.NONE, 0));
        rows.add(new Row("putAll batch latency p50", "µs", "putAll.p50_us", false, true, Target.NONE, 0));
        rows.add(new Row("putAll batch latency p99", "µs", "putAll.p99_us", false, true, Target.NONE, 0));
        rows.add(new Row("restore, batches of 1,000 (+ final commit)", "records/s", "restore.records_s", true, true, Target.RATIO, 3));
        rows.add(new Row("restore ingest, changelog key+value bytes", "MB/s", "restore.mb_s", true, true, Target.RATIO, 3));
        rows.add(new Row("restore batch latency p50", "µs", "restore.p50_us", false, true, Target.NONE, 0));
        rows.add(new Row("restore batch latency p99", "µs", "restore.p99_us", false, true, Target.NONE, 0));
        rows.add(new Row("writes with a commit every 10,000", "writes/s", "commit.writes_s", true, true, Target.RATIO, 2));
        rows.add(new Row("commit latency p50 (every 10,000)", "µs", "commit.p50_us", false, true, Target.NONE, 0));
        rows.add(new Row("commit latency p99 (every 10,000)", "µs", "commit.p99_us", false, true, Target.RATIO, 1));
        rows.add(new Row("writes with a commit every 100", "writes/s", "commit100.writes_s", true, true, Target.RATIO, 2));
        rows.add(new Row("commit latency p50 (every 100)", "µs", "commit100.p50_us", false, true, Target.NONE, 0));
        rows.add(new Row("commit latency p99 (every 100)", "µs", "commit100.p99_us", false, true, Target.RATIO, 1));
        rows.add(new Row("heap used after load (put phase)", "MB", "heap.after_load_mb", false, false, Target.NONE, 0));
        rows.add(new Row("heap growth per million keys in segments", "MB", "heap.per_million_mb", false, false, Target.ABS_MAX, 8));
        rows.add(new Row("files on disk after load", "files", "disk.files", false, false, Target.NONE, 0));
        rows.add(new Row("bytes on disk after load", "MB", "disk.mb", false, false, Target.NONE, 0));
        rows.add(new Row("files on disk after the commit cycles and close", "files", "disk.closed.files", false, false, Target.NONE, 0));
        rows.add(new Row("bytes on disk after the commit cycles and close", "MB", "disk.closed.mb", false, false, Target.NONE, 0));
        return rows;
    }

    static void write(StoreLevelBenchmark b) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(b.out);
        Path md = b.out.resolve(b.name + ".md");
        Path json = b.out.resolve(b.name + ".json");
        Path png = b.out.resolve(b.name + ".png");
        String notes = "";
        if (Files.exists(md)) {
            String old = Files.readString(md);
            int at = old.indexOf(NOTES_MARKER);
            if (at >= 0) {
                notes = old.substring(at + NOTES_MARKER.length());
            }
        }
        Files.writeString(json, json(b), StandardCharsets.UTF_8);
        Files.writeString(md, markdown(b, json, png) + NOTES_MARKER + (notes.isEmpty() ? "\n" : notes), StandardCharsets.UTF_8);
        chart(b, png);
        System.out.println("wrote " + md + ", " + json + " and " + png);
    }

    // ---------------------------------------------------------------------------------------------

    static String title(String kind) {
        return switch (kind) {
            case StoreLevelBenchmark.MMAPSTORE -> "MmapStore";
            case StoreLevelBenchmark.MMAPSTORE_NOFSYNC -> "MmapStore (own log, fsync off)";
            case StoreLevelBenchmark.MMAPSTORE_LOG -> "MmapStore (own log)";
            case StoreLevelBenchmark.ROCKSDB -> "RocksDB";
            case StoreLevelBenchmark.ROCKSDB_TXN -> "RocksDB (transactional)";
            case StoreLevelBenchmark.INMEMORY -> "In-memory";
            default -> kind;
        };
    }

    static String markdown(StoreLevelBenchmark b, Path json, Path png) {
        Map<String, Map<String, Double>> res = b.results;
        Map<String, Double> base = res.get(BASE);
        Map<String, Double> mmap = res.get(StoreLevelBenchmark.MMAPSTORE);
        List<String> kinds = new ArrayList<>(res.keySet());
        List<String> others = kinds.stream().filter(k -> !k.equals(BASE)).toList();
        StringBuilder s = new StringBuilder();
        s.append("# Store-level benchmark: MmapStore vs Kafka Streams' RocksDB and in-memory stores, ")
                .append(String.format(Locale.ROOT, "%,d", b.keyCount)).append(" keys (").append(b.date).append(")\n\n");
        s.append("Generated by `io.github.mmapstore.benchmarks.store.StoreLevelBenchmark` (`benchmarks/run-store-level.sh`); ")
                .append("raw figures in `").append(json.getFileName()).append("`. All stores ran in **one JVM, one after the other**, ")
                .append("through the same `KeyValueStore<Bytes, byte[]>` calls, each initialised with a real `StateStoreContext`. ")
                .append("**vs RocksDB** = how many times better than Kafka's RocksDB store (throughput: store/RocksDB; ")
                .append("latency: RocksDB/store); > 1 means better than RocksDB. Targets apply to MmapStore.\n\n");
        Map<String, Double> baseTxn = res.get(BASE_TXN);
        boolean txnColumn = baseTxn != null && mmap != null;
        s.append("| Operation | Unit |");
        for (String k : kinds) {
            s.append(' ').append(title(k)).append(" |");
        }
        for (String k : others) {
            s.append(' ').append(title(k)).append(" vs RocksDB |");
        }
        if (txnColumn) {
            s.append(" MmapStore vs RocksDB (transactional) |");
        }
        s.append(" Target (MmapStore) | Met |\n|---|---|");
        s.append("---:|".repeat(kinds.size() + others.size() + (txnColumn ? 1 : 0))).append("---|:---:|\n");
        for (Row r : rows()) {
            s.append("| ").append(r.operation()).append(" | ").append(r.unit()).append(" |");
            for (String k : kinds) {
                s.append(' ').append(fmtNum(r.value(res.get(k)))).append(" |");
            }
            for (String k : others) {
                s.append(' ').append(r.compare() && base != null ? fmtRatio(r.advantage(res.get(k), base)) : "—").append(" |");
            }
            if (txnColumn) {
                s.append(' ').append(r.compare() ? fmtRatio(r.advantage(mmap, baseTxn)) : "—").append(" |");
            }
            // a ratio target holds only when it holds against RocksDB with the flag on and off
            Boolean met = r.met(mmap, base);
            Boolean metTxn = txnColumn && r.target() == Target.RATIO ? r.met(mmap, baseTxn) : null;
            if (met != null && metTxn != null) {
                met = met && metTxn;
            }
            s.append(' ').append(r.targetText()).append(" | ").append(met == null ? "" : met ? "yes" : "**no**").append(" |\n");
        }
        s.append("\n![Advantage over Kafka's RocksDB store per operation](").append(png.getFileName()).append(")\n\n");

        s.append("## Latency detail (µs)\n\n| Operation | Store | Samples | Mean | p50 | p99 | p99.9 | Max |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
        for (String op : List.of("put", "get_uniform", "get_zipf", "get_committed", "range", "putAll", "restore", "commit", "commit100")) {
            for (String k : kinds) {
                Map<String, Double> r = res.get(k);
                s.append("| ").append(op).append(" | ").append(title(k)).append(" | ")
                        .append(String.format(Locale.ROOT, "%,.0f", r.getOrDefault(op + ".samples", 0.0))).append(" | ")
                        .append(fmtNum(r.getOrDefault(op + ".mean_us", Double.NaN))).append(" | ")
                        .append(fmtNum(r.getOrDefault(op + ".p50_us", Double.NaN))).append(" | ")
                        .append(fmtNum(r.getOrDefault(op + ".p99_us", Double.NaN))).append(" | ")
                        .append(fmtNum(r.getOrDefault(op + ".p999_us", Double.NaN))).append(" | ")
                        .append(fmtNum(r.getOrDefault(op + ".max_us", Double.NaN))).append(" |\n");
            }
        }
        s.append("\n## Other figures\n\n| Figure | Unit |");
        for (String k : kinds) {
            s.append(' ').append(title(k)).append(" |");
        }
        s.append("\n|---|---|").append("---:|".repeat(kinds.size())).append('\n');
        String[][] extra = {
                {"put throughput by wall clock (incl. harness key/value copies and timer)", "ops/s", "put.wall_ops_s"},
                {"commit right after the put load", "ms", "load.commit_ms"},
                {"early commits in the put load (uncommitted bytes over 64 MiB)", "commits", "put.early_commits"},
                {"range entries read", "entries/s", "range.entries_s"},
                {"restore: final commit (included in restore throughput)", "ms", "restore.final_commit_ms"},
                {"heap probe: heap held after opening an empty store", "MB", "heap.probe_open_mb"},
                {"heap probe: heap held after all keys (memtable ≤ probe size)", "MB", "heap.probe_total_mb"},
                {"heap probe: slope between half and all keys, per million keys", "MB", "heap.slope_per_million_mb"},
                {"heap probe: files on disk", "files", "probe.disk.files"},
                {"heap probe: bytes on disk", "MB", "probe.disk.mb"},
        };
        for (String[] e : extra) {
            s.append("| ").append(e[0]).append(" | ").append(e[1]).append(" |");
            for (String k : kinds) {
                s.append(' ').append(fmtNum(res.get(k).getOrDefault(e[2], Double.NaN))).append(" |");
            }
            s.append('\n');
        }

        s.append("\n## Throughput per CPU-second of the whole JVM\n\n")
                .append("Operations divided by the process CPU time (`OperatingSystemMXBean.getProcessCpuTime()`, all threads: ")
                .append("RocksDB's background flush/compaction threads, GC and JIT included) over the throughput loop. ")
                .append("Less sensitive than wall-clock throughput to other processes taking the CPU, but it includes the ")
                .append("harness's own work in write loops (key/value copies, batch and ConsumerRecord construction).\n\n")
                .append("| Operation | Unit |");
        for (String k : kinds) {
            s.append(' ').append(title(k)).append(" |");
        }
        for (String k : others) {
            s.append(' ').append(title(k)).append(" vs RocksDB |");
        }
        s.append("\n|---|---|").append("---:|".repeat(kinds.size() + others.size())).append('\n');
        String[][] cpu = {{"put", "ops/CPU-s"}, {"get_uniform", "ops/CPU-s"}, {"get_zipf", "ops/CPU-s"}, {"get_committed", "ops/CPU-s"},
                {"range", "ranges/CPU-s"}, {"putAll", "records/CPU-s"}, {"restore", "records/CPU-s"},
                {"commit", "writes/CPU-s"}, {"commit100", "writes/CPU-s"}};
        for (String[] c : cpu) {
            s.append("| ").append(c[0]).append(" | ").append(c[1]).append(" |");
            for (String k : kinds) {
                s.append(' ').append(fmtNum(res.get(k).getOrDefault(c[0] + ".cpu_ops_s", Double.NaN))).append(" |");
            }
            for (String k : others) {
                double v = res.get(k).getOrDefault(c[0] + ".cpu_ops_s", Double.NaN);
                double bv = base == null ? Double.NaN : base.getOrDefault(c[0] + ".cpu_ops_s", Double.NaN);
                s.append(' ').append(fmtRatio(v / bv)).append(" |");
            }
            s.append('\n');
        }

        s.append("\n## Method\n\n");
        s.append(String.format(Locale.ROOT, """
                - Stores: `MmapStores.persistentKeyValueStore("bench").get()` as it runs with a changelog: defaults \
                (64 MiB memtable) but `mmapstore.log=false`, what `auto` chooses for a store Kafka gives a changelog \
                (the wrapping context below cannot tell it): no log of its own, a commit writes nothing, checkpoints \
                are written in the background (`mmapstore-log`, when listed, keeps its log: a store without a \
                changelog, every commit synced); run with \
                `enable.transactional.statestores=true` (it then reports its uncommitted bytes; nothing else changes); \
                `Stores.persistentKeyValueStore("bench").get()` (Kafka's `RocksDBStore`, Kafka's default RocksDB \
                options, no config setter, WAL disabled, its commit writes the offsets into its offsets column family \
                without fsync) twice: with `enable.transactional.statestores` off and on (KIP-892: writes buffered in a \
                `WriteBatchWithIndex` until the commit applies them); `Stores.inMemoryKeyValueStore("bench").get()`. \
                The raw stores are driven (no metered/caching/logging wrappers), through `KeyValueStore<Bytes, byte[]>`. \
                Every write loop applies Kafka's early-commit rule: every 1,000 writes, a store reporting more than \
                64 MiB of uncommitted bytes (`statestore.uncommitted.max.bytes`, one stream thread) is committed, the \
                commit counted in the loop's time.
                - Context: `new MockProcessorContext<>(props, new TaskId(0, 0), tempDir).getStateStoreContext()` \
                (kafka-streams-test-utils; Kafka's `AbstractProcessorContext` with a real `StreamsMetricsImpl`), \
                record metadata set to `bench-input-0`, wrapped by `CapturingContext`, which forwards everything and \
                keeps the callback passed to `register(store, callback, commitCallback)`. Every store registered a \
                `RecordBatchingStateRestoreCallback`; restore feeds it through `StateRestoreCallbackAdapter.adapt(callback)` \
                exactly as Kafka's `ProcessorStateManager` does.
                - Data: %,d distinct uniformly random 16-byte keys, 100-byte values; a fresh key and value array per \
                write (as a serializer would produce). Every store gets the same key order and the same read sequences.
                - Order per store: warm-up on a throwaway store (200k puts, 20,000 commits of 10 writes each, 3 × 200k gets, ranges, putAll and restore \
                batches: all code paths JIT-compiled), then **store A**: put all keys in random order (each call timed), \
                commit, heap and disk measured; get uniform and get Zipf (s = 0.99 over all keys, hot ranks mapped to \
                random keys): %,d untimed calls for throughput (wall clock) then %,d other calls each timed for the \
                histogram; range of 100 consecutive keys (inclusive bounds) from a random start: %,d untimed + %,d timed, \
                every key and value consumed; then %d cycles of 10,000 puts overwriting random keys + a timed \
                `commit(Map.of(tp, offset))`, and as many writes again with a commit every 100. **Store B**: putAll of all keys in batches of 1,000 into an empty store. \
                **Store C**: restore of all keys as `ConsumerRecord` batches of 1,000 through the registered callback, \
                then the commit Kafka makes at the end of restoration (timed, included). **Store D**: heap probe.
                - Throughput: reads = calls / wall time of the untimed pass; writes (put, putAll, restore, commit cycle) = \
                records / sum of the timed store calls (building keys, values, batches and ConsumerRecords is outside \
                the timer). Latency: one `System.nanoTime()` pair per call (or per batch / per commit), log-linear \
                histogram with 1.6 %% resolution; timer overhead %s ns per pair is included.
                - Heap: `MemoryMXBean` heap used after `System.gc()` (full GC with G1), minus the same figure before the \
                store was opened (harness data excluded). Heap growth per million keys in segments: a fresh store \
                measured right after opening, then loaded with all keys (committed every 100,000) and measured again: \
                the difference per million keys (the slope between half and all keys is in the JSON as \
                `heap.slope_per_million_mb`). MmapStore's probe store runs with `mmapstore.memtable.bytes=%d` so the memtable has \
                been flushed to segments (the rest of its configuration is the default); RocksDB and in-memory use \
                their defaults (RocksDB's memtables and block cache are native memory, not heap).
                - Disk: regular files under the store's state directory and their apparent size, right after the \
                post-load commit (RocksDB may still be compacting in the background, and with its WAL disabled it holds \
                recent writes only in its memtables), and again after the commit cycles and `close()`.
                - Changelog bytes for restore = key + value bytes of the records (116 B/record), no record overhead.
                """, b.keyCount, b.readOps, b.readOps, b.rangeOps, b.rangeOps, b.commits, b.notes.getOrDefault("timerOverheadNs", "?"),
                b.probeMemtableBytes));

        s.append("\n## Machine\n\n");
        if (b.revision != null) {
            s.append("- Source measured: ").append(b.revision).append('\n');
        }
        s.append("- CPU: ").append(MachineInfo.cpuModel()).append('\n');
        s.append("- Cores (available to the JVM): ").append(Runtime.getRuntime().availableProcessors()).append('\n');
        s.append("- Memory: ").append(MachineInfo.memTotal()).append('\n');
        s.append("- JDK: ").append(System.getProperty("java.vm.name")).append(' ').append(Runtime.version())
                .append(" (").append(System.getProperty("java.vendor")).append(")\n");
        List<String> gcs = ManagementFactory.getGarbageCollectorMXBeans().stream().map(GarbageCollectorMXBean::getName).toList();
        s.append("- JVM flags: `").append(String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()))
                .append("`; GC: ").append(String.join(", ", gcs)).append('\n');
        s.append("- Kernel: ").append(MachineInfo.readTrim("/proc/sys/kernel/osrelease", System.getProperty("os.version")))
                .append(" (").append(System.getProperty("os.arch")).append(")\n");
        try {
            FileStore fs = Files.getFileStore(b.work);
            s.append("- Store directory filesystem: ").append(fs.type()).append(" (").append(fs.name()).append(")\n");
        } catch (IOException e) {
            s.append("- Store directory filesystem: unknown\n");
        }
        if (b.loadLog != null) {
            s.append("- Load average: ").append(LoadLog.summaryWithStart(b.loadLog))
                    .append(" (2 cores; other processes on this machine compete with the benchmark)\n");
        }
        s.append('\n');
        return s.toString();
    }

    static String fmtNum(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return "n/a";
        }
        double a = Math.abs(v);
        if (a >= 10_000) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (a >= 100) {
            return String.format(Locale.ROOT, "%,.1f", v);
        }
        if (a >= 1) {
            return String.format(Locale.ROOT, "%.2f", v);
        }
        if (a == 0) {
            return "0";
        }
        return String.format(Locale.ROOT, "%.3f", v);
    }

    static String fmtRatio(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return "n/a";
        }
        if (v >= 10) {
            return String.format(Locale.ROOT, "%.1f×", v);
        }
        if (v >= 0.1) {
            return String.format(Locale.ROOT, "%.2f×", v);
        }
        return String.format(Locale.ROOT, "%.4f×", v);
    }

    // ---------------------------------------------------------------------------------------------

    static String json(StoreLevelBenchmark b) {
        StringBuilder s = new StringBuilder("{\n  \"date\": \"").append(b.date).append("\",\n  \"keys\": ").append(b.keyCount)
                .append(",\n  \"readOpsPerPass\": ").append(b.readOps).append(",\n  \"rangeOpsPerPass\": ").append(b.rangeOps)
                .append(",\n  \"commits\": ").append(b.commits).append(",\n  \"stores\": {");
        boolean firstStore = true;
        for (Map.Entry<String, Map<String, Double>> e : b.results.entrySet()) {
            s.append(firstStore ? "\n" : ",\n").append("    \"").append(e.getKey()).append("\": {");
            firstStore = false;
            boolean first = true;
            for (Map.Entry<String, Double> m : e.getValue().entrySet()) {
                double v = m.getValue();
                s.append(first ? "\n" : ",\n").append("      \"").append(m.getKey()).append("\": ")
                        .append(Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "null");
                first = false;
            }
            s.append("\n    }");
        }
        return s.append("\n  }\n}\n").toString();
    }

    // ---------------------------------------------------------------------------------------------

    static void chart(StoreLevelBenchmark b, Path png) throws IOException {
        Map<String, Map<String, Double>> res = b.results;
        Map<String, Double> base = res.get(BASE);
        List<String> others = res.keySet().stream().filter(k -> !k.equals(BASE)).toList();
        List<Row> rows = rows().stream().filter(Row::compare).toList();
        if (base == null || others.isEmpty()) {
            return;
        }
        List<BarChart.Series> series = new ArrayList<>();
        for (String k : others) {
            series.add(BarChart.Series.of(title(k), rows.stream().map(r -> r.advantage(res.get(k), base)).toList()));
        }
        BarChart.write(BarChart.Spec.ratios(String.format(Locale.ROOT,
                                "Store level, %,d keys (%s): advantage over Kafka's RocksDB store", b.keyCount, b.date),
                                "advantage over RocksDB (log scale, > 1 = better than RocksDB)")
                        .withSubtitle("Throughput rows: store/RocksDB; latency rows: RocksDB/store. Targets and absolute figures "
                                + "(1 GB/s restore, ≤ 8 MB heap per million keys) are in the table."),
                rows.stream().map(Row::operation).toList(), series, png);
    }
}
