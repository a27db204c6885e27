package io.github.mmapstore.benchmarks.store;

import io.github.mmapstore.benchmarks.report.Comparison;
import io.github.mmapstore.benchmarks.report.Measurement;
import io.github.mmapstore.benchmarks.report.Section;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The store-level part of the benchmark report: runs {@link StoreLevelBenchmark} (MmapStore, Kafka's
 * RocksDB store and its in-memory store through the same {@code KeyValueStore} calls, one JVM) and turns
 * its figures into report comparisons. The harness also writes its own detailed
 * {@code store-level.md/.json/.png} into the report folder.
 */
public final class StoreLevelSection {
    /** An operation of the harness: its key prefix in the results, its name, units, whether it heads the report. */
    private record Op(String key, String name, String throughputKey, String throughputUnit, String latencyUnit) {
    }

    private static final List<Op> OPS = List.of(
            new Op("put", "put (16 B key, 100 B value)", "put.ops_s", "ops/s", "µs"),
            new Op("get_uniform", "get, uniform keys", "get_uniform.ops_s", "ops/s", "µs"),
            new Op("get_zipf", "get, Zipf s=0.99 keys", "get_zipf.ops_s", "ops/s", "µs"),
            new Op("get_committed", "get, uniform, READ_COMMITTED view", "get_committed.ops_s", "ops/s", "µs"),
            new Op("range", "range scan of 100 keys", "range.ops_s", "ranges/s", "µs"),
            new Op("putAll", "putAll, batches of 1,000", "putAll.records_s", "records/s", "µs/batch"),
            new Op("restore", "restore, batches of 1,000", "restore.records_s", "records/s", "µs/batch"),
            new Op("commit", "writes + commit every 10,000", "commit.writes_s", "writes/s", "µs/commit"),
            new Op("commit100", "writes + commit every 100", "commit100.writes_s", "writes/s", "µs/commit"));

    private StoreLevelSection() {
    }

    /** Runs the harness with these sizes, its files going to {@code folder}, its stores under {@code work}. */
    public static Section run(Path folder, Path work, String date, int keys, int ranges, int commits, Path loadLog,
                              String revision) throws Exception {
        StoreLevelBenchmark b = new StoreLevelBenchmark();
        List<String> args = new ArrayList<>(List.of("--keys", Integer.toString(keys), "--ranges", Integer.toString(ranges),
                "--commits", Integer.toString(commits), "--out", folder.toString(), "--work", work.toString(),
                "--date", date, "--name", "store-level"));
        if (loadLog != null) {
            args.addAll(List.of("--load-log", loadLog.toString()));
        }
        if (revision != null) {
            args.addAll(List.of("--rev", revision));
        }
        b.parse(args.toArray(String[]::new));
        b.run();
        return section(b.results, b.keyCount, b.readOps);
    }

    /** The report section for the harness's results (store kind → figure name → value). */
    static Section section(Map<String, Map<String, Double>> results, int keys, int reads) {
        List<Comparison> rows = new ArrayList<>();
        // every operation against Kafka's RocksDB store with transactional state stores off, then on
        List<String> baselines = new ArrayList<>();
        for (String b : List.of(StoreLevelBenchmark.ROCKSDB, StoreLevelBenchmark.ROCKSDB_TXN)) {
            if (results.containsKey(b)) {
                baselines.add(b);
            }
        }
        for (String baseline : baselines) {
            for (Op op : OPS) {
                List<Measurement> ms = new ArrayList<>();
                for (Map.Entry<String, Map<String, Double>> e : results.entrySet()) {
                    Map<String, Double> r = e.getValue();
                    ms.add(new Measurement(StoreReport.title(e.getKey()), r.getOrDefault(op.throughputKey(), Double.NaN),
                            r.getOrDefault(op.key() + ".p50_us", Double.NaN), r.getOrDefault(op.key() + ".p99_us", Double.NaN)));
                }
                // one row per operation and baseline: the transactional baseline's rows say so in their name
                String name = baseline.equals(StoreLevelBenchmark.ROCKSDB) ? op.name()
                        : op.name() + ", vs " + StoreReport.title(baseline);
                rows.add(new Comparison(name, op.throughputUnit(), op.latencyUnit(),
                        StoreReport.title(StoreLevelBenchmark.MMAPSTORE), StoreReport.title(baseline), true, ms));
            }
        }
        String description = String.format(Locale.ROOT, """
                `StoreLevelBenchmark`: MmapStore (`MmapStores.persistentKeyValueStore`, defaults; a store with a changelog: \
                no log of its own, commits are marks, checkpoints in the background), Kafka's RocksDB store \
                (`Stores.persistentKeyValueStore`, Kafka's defaults: WAL disabled, no fsync at commit) with Kafka 4.4's \
                `enable.transactional.statestores` off and on, and Kafka's in-memory store, driven through the same \
                `KeyValueStore<Bytes, byte[]>` calls in one JVM, one after the other, each initialised with a real \
                `StateStoreContext`; every write loop commits early as Kafka does when a store reports over 64 MiB uncommitted. %,d distinct random 16-byte keys, \
                100-byte values; %,d reads per pass. Throughput of reads = calls / wall time of an untimed pass; of writes = \
                records / sum of the timed store calls; latencies (median = p50, p99) from a `System.nanoTime()` pair \
                around every call (per batch for putAll/restore, per commit for the commit cycle).""", keys, reads);
        return new Section("store-level", "Store level: MmapStore vs Kafka's RocksDB and in-memory stores", description, rows,
                List.of("Full tables (targets, heap, disk, latency detail, CPU-normalised throughput, method): "
                        + "[store-level.md](store-level.md), raw figures [store-level.json](store-level.json), "
                        + "harness chart [store-level.png](store-level.png)"));
    }
}
