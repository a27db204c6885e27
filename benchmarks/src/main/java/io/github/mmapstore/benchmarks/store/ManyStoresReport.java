package io.github.mmapstore.benchmarks.store;

import io.github.mmapstore.benchmarks.report.LineChart;
import io.github.mmapstore.benchmarks.report.LoadLog;
import io.github.mmapstore.benchmarks.report.MachineInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/** The markdown report and the charts of {@link ManyStoresBenchmark}. */
final class ManyStoresReport {
    private ManyStoresReport() {
    }

    /** A table row: how to read the figure from a run, its unit, and whether higher is better (for the ratio). */
    record Row(String label, ToDoubleFunction<ManyStoresBenchmark.Run> value, String format, Boolean higherBetter) {
    }

    static void write(ManyStoresBenchmark b, List<ManyStoresBenchmark.Run> runs, String started) throws IOException {
        String base = b.name;
        Path md = b.out.resolve(base + ".md");
        charts(b, runs, base);

        List<Row> rows = new ArrayList<>();
        rows.add(new Row("writes/s, whole load", r -> r.l("writes_s"), "%,.0f", true));
        rows.add(new Row("writes/s, second half of the load", r -> r.l("writes_s_second_half"), "%,.0f", true));
        rows.add(new Row("writes in all", r -> r.l("writes"), "%,.0f", true));
        rows.add(new Row("put p50 (µs)", r -> r.l("put_p50"), "%.2f", false));
        rows.add(new Row("put p99 (µs)", r -> r.l("put_p99"), "%.2f", false));
        rows.add(new Row("put max (ms)", r -> r.l("put_max") / 1e3, "%.1f", false));
        rows.add(new Row("store commit p50 (ms)", r -> r.l("store_commit_p50"), "%.3f", false));
        rows.add(new Row("store commit p99 (ms)", r -> r.l("store_commit_p99"), "%.3f", false));
        rows.add(new Row("store commit max (ms)", r -> r.l("store_commit_max"), "%.1f", false));
        rows.add(new Row("task commit (5 stores) p50 (ms)", r -> r.l("task_commit_p50"), "%.3f", false));
        rows.add(new Row("task commit (5 stores) p99 (ms)", r -> r.l("task_commit_p99"), "%.3f", false));
        rows.add(new Row("task commit (5 stores) max (ms)", r -> r.l("task_commit_max"), "%.1f", false));
        rows.add(new Row("commit rounds (all tasks)", r -> r.l("commit_rounds"), "%,.0f", null));
        rows.add(new Row("heap used, median (MB)", r -> stat(r, "heap_used", 50) / 1e6, "%.0f", false));
        rows.add(new Row("heap used, max (MB)", r -> stat(r, "heap_used", 100) / 1e6, "%.0f", false));
        rows.add(new Row("heap after last GC, median (MB)", r -> stat(r, "heap_after_gc", 50) / 1e6, "%.0f", false));
        rows.add(new Row("heap after last GC, max (MB)", r -> stat(r, "heap_after_gc", 100) / 1e6, "%.0f", false));
        rows.add(new Row("live heap (after a full GC every " + b.liveHeapEvery + " s of the load), max (MB)",
                r -> stat(r, "heap_live", 100) / 1e6, "%.0f", false));
        rows.add(new Row("live heap right after the load (full GC) (MB)", r -> r.l("end_heap_live_mb"), "%.0f", false));
        rows.add(new Row("memory charged to the budget, max (MB): MmapStore's budget used / RocksDB's shared cache usage",
                r -> Math.max(nan0(stat(r, "budget_used_bytes", 100)), nan0(stat(r, "rocksdb_cache_usage_bytes", 100))) / 1e6,
                "%.0f", null));
        rows.add(new Row("MmapStore budget: writes that waited for room (stalls, at the end)", r -> last(r, "budget_stalls"), "%,.0f", null));
        rows.add(new Row("MmapStore budget: time writes waited (ms, at the end)", r -> last(r, "budget_stall_ms"), "%,.0f", null));
        rows.add(new Row("MmapStore budget: memtables frozen by the budget (at the end)", r -> last(r, "budget_forced_freezes"), "%,.0f", null));
        rows.add(new Row("RSS, median (MB)", r -> stat(r, "rss", 50) / 1e6, "%.0f", false));
        rows.add(new Row("RSS, max (MB)", r -> stat(r, "rss", 100) / 1e6, "%.0f", false));
        rows.add(new Row("RSS anonymous, max (MB)", r -> stat(r, "rss_anon", 100) / 1e6, "%.0f", false));
        rows.add(new Row("RSS file-backed, max (MB)", r -> stat(r, "rss_file", 100) / 1e6, "%.0f", false));
        rows.add(new Row("memory mappings at the end (all)", r -> r.l("end_maps"), "%,.0f", false));
        rows.add(new Row("  … under the store root", r -> r.l("end_maps_root"), "%,.0f", false));
        rows.add(new Row("open file descriptors at the end (all)", r -> r.l("end_fds"), "%,.0f", false));
        rows.add(new Row("  … under the store root", r -> r.l("end_fds_root"), "%,.0f", false));
        rows.add(new Row("files under the store root at the end", r -> r.l("end_files"), "%,.0f", false));
        rows.add(new Row("disk at the end (MB)", r -> r.l("end_disk_mb"), "%,.0f", false));
        rows.add(new Row("threads at the end", r -> r.l("end_threads"), "%,.0f", false));
        rows.add(new Row("open 500 empty stores (s)", r -> r.l("open_empty_s"), "%.2f", false));
        rows.add(new Row("restart after SIGKILL: JVM start to main (ms)", r -> r.o("jvm_start_ms"), "%.0f", null));
        rows.add(new Row("restart: open all stores (s)", r -> r.o("open_s"), "%.2f", false));
        rows.add(new Row("restart: first read of every store (ms)", r -> r.o("first_reads_ms"), "%.1f", false));
        rows.add(new Row("restart: stores reporting no committed offset", r -> r.o("stores_without_offset"), "%,.0f", false));
        rows.add(new Row("restart: changelog records to replay (from each store's offset to the last commit)",
                r -> r.o("records_to_replay"), "%,.0f", false));
        rows.add(new Row("restart: replaying them through the restore callbacks (s)", r -> r.o("restore_s"), "%.2f", false));
        rows.add(new Row("restart: open + first reads + replay (s)", r -> r.o("restart_s"), "%.2f", false));
        rows.add(new Row("sampled keys checked", r -> r.o("check_keys"), "%,.0f", null));
        rows.add(new Row("  … on reopening: equal to the value at the store's offset", r -> r.o("check_exact_at_offset"), "%,.0f", null));
        rows.add(new Row("  … on reopening: a later write (after the offset)", r -> r.o("check_newer_than_offset"), "%,.0f", null));
        rows.add(new Row("  … on reopening: neither (wrong)", r -> r.o("check_wrong"), "%,.0f", false));
        rows.add(new Row("  … after the replay: not the last commit's value", r -> r.o("after_restore_wrong"), "%,.0f", false));
        rows.add(new Row("close all stores (s)", r -> r.o("close_s"), "%.2f", false));

        ManyStoresBenchmark.Run mmap = runs.stream().filter(r -> r.kind().equals(ManyStoresBenchmark.MMAPSTORE)).findFirst().orElse(null);
        StringBuilder s = new StringBuilder();
        s.append("# Many stores in one JVM under one memory budget (").append(b.date).append(")\n\n");
        s.append("Generated by `benchmarks/run-many-stores.sh` (`io.github.mmapstore.benchmarks.store.ManyStoresBenchmark`); ")
                .append("see benchmarks/README-store-level.md, \"Many stores\". Started ").append(started).append(".\n\n");
        s.append("- Source: ").append(b.revision == null ? "unknown" : b.revision).append('\n');
        s.append("- Workload: ").append(b.parameters()).append("; 16-byte keys, 100-byte values, one driver thread ")
                .append("(a stream thread owning every task), no warm-up\n");
        s.append("- Child JVMs (one per competitor and phase): `").append(b.childJvm).append("`\n");
        s.append("- Competitors:\n");
        for (ManyStoresBenchmark.Run r : runs) {
            s.append("  - `").append(r.kind()).append("`: ").append(describe(b, r.kind())).append('\n');
        }
        s.append("- Machine: ").append(MachineInfo.cpuModel()).append(", ").append(Runtime.getRuntime().availableProcessors())
                .append(" cores, ").append(MachineInfo.memTotal()).append(" RAM, ").append(MachineInfo.osName()).append(", Linux ")
                .append(MachineInfo.readTrim("/proc/sys/kernel/osrelease", "?")).append(", JDK ").append(Runtime.version()).append('\n');
        s.append("- Load average: ").append(b.loadLog == null ? "at the end " + MachineInfo.readTrim("/proc/loadavg", "?")
                : LoadLog.summaryWithStart(b.loadLog)).append("\n\n");

        for (ManyStoresBenchmark.Run r : runs) {
            if (r.failure() != null) {
                s.append("**").append(r.kind()).append(" failed:** ").append(r.failure()).append("\n\n");
            }
            if (r.load() != null && r.load().get("gauges") != null && !r.load().get("gauges").isEmpty()) {
                s.append("Gauges sampled for `").append(r.kind()).append("`: ").append(r.load().get("gauges")).append(gaugeMaxima(r)).append("\n\n");
            }
        }

        s.append("## Results\n\n");
        s.append("Heap and RSS figures are over the load's one-second samples. \"Heap after last GC\" is what the most recent "
                + "collection left, young collections included, so it counts old-generation garbage until a mixed or full "
                + "collection; \"live heap\" is measured by a full GC (`System.gc()`) every `--live-heap-every` seconds of the load "
                + "and once right after it (those pauses are inside the load, so in its throughput and maximum latencies). Ratios: how many times better MmapStore is ")
                .append("(above 1: MmapStore better; lower is better for latencies, memory, files and times).\n\n");
        s.append("| | ");
        for (ManyStoresBenchmark.Run r : runs) {
            s.append(r.kind()).append(" | ");
        }
        List<ManyStoresBenchmark.Run> others = runs.stream().filter(r -> r != mmap).toList();
        if (mmap != null) {
            for (ManyStoresBenchmark.Run o : others) {
                s.append("mmapstore vs ").append(o.kind()).append(" | ");
            }
        }
        s.append("\n|---|");
        s.append("---:|".repeat(runs.size() + (mmap == null ? 0 : others.size())));
        s.append('\n');
        for (Row row : rows) {
            s.append("| ").append(row.label()).append(" | ");
            for (ManyStoresBenchmark.Run r : runs) {
                s.append(fmt(row.format(), row.value().applyAsDouble(r))).append(" | ");
            }
            if (mmap != null) {
                double m = row.value().applyAsDouble(mmap);
                for (ManyStoresBenchmark.Run o : others) {
                    double v = row.value().applyAsDouble(o);
                    String ratio = "";
                    if (row.higherBetter() != null && Double.isFinite(m) && Double.isFinite(v) && m > 0 && v > 0) {
                        ratio = String.format(Locale.ROOT, "%.2f×", row.higherBetter() ? m / v : v / m);
                    }
                    s.append(ratio).append(" | ");
                }
            }
            s.append('\n');
        }
        s.append("\n![heap](").append(base).append("-heap.png)\n\n![RSS](").append(base).append("-rss.png)\n\n![throughput](")
                .append(base).append("-throughput.png)\n\n");
        for (ManyStoresBenchmark.Run r : runs) {
            if (!r.samples().isEmpty()) {
                s.append("![").append(r.kind()).append(" memory](").append(base).append("-memory-").append(r.kind()).append(".png)\n\n");
            }
        }
        s.append("One-second samples of each competitor's load child: `").append(base).append("-<competitor>-samples.csv`.\n\n");

        s.append("## Method\n\n");
        s.append("""
                Each competitor runs in two child JVMs of its own, started by the parent one after the other:

                1. **Load.** Opens every store (`init` with a kafka-streams-test-utils `MockProcessorContext` per task:
                   task `0_<t>`, its own task directory under one state directory, the task's stores `store0`..`store4`
                   in it, as Kafka lays them out), then writes for the given time from one thread: pick a store
                   (uniformly, or 90 % of the writes to every tenth store with `--skew`), draw a key of that store from a
                   generator seeded by the store (one draw per write, so the reopen child can regenerate every write), put
                   a fresh 100-byte value stamped with the store's write count. Every `commit-ms` it commits every task
                   that had writes since its last commit, store by store (`commit(Map.of(changelogPartition, writes))`),
                   timing each store's commit and each task's five. A sampler thread records once a second: heap used
                   (`MemoryMXBean`), heap after the most recent collection (`GcInfo`), VmRSS / RssAnon / RssFile
                   (`/proc/self/status`), lines of `/proc/self/maps` (all, and naming the store root), entries of
                   `/proc/self/fd` (all, and pointing under the store root), files and bytes under the store root, live
                   threads, and for MmapStore the gauges of the JVM's `io.github.mmapstore.engine.MemoryBudget` and the memtables' own estimate summed over the stores (every 5 s); for RocksDB
                   the shared cache's usage and pinned usage. At the end of the load it writes each store's write count
                   and last committed offset, and the parent kills it with SIGKILL (nothing closed or flushed).
                2. **Reopen.** A fresh JVM opens all the stores again (timed), reads one key of each (timed), asks each
                   store for its committed offset (`StateStore.committedOffset`), and checks keys 0..99 of every store
                   against the regenerated writes: equal to the newest write at or below the store's offset; a later write
                   (after that offset: uncommitted when killed, or committed after the offset the store reports); or
                   wrong. It then replays, through the restore callback each store registered (as Kafka's
                   `ProcessorStateManager` does), the changelog records from each store's offset up to the last commit
                   (a store reporting no offset: all of them), then the commit Kafka makes when restoration ends (timed,
                   record generation outside the timer), and checks the same keys against the last commit's values. Then
                   it closes every store (timed).

                Commit latencies are per `commit` call (store) and per task (its five calls in a row); put latencies per
                `put` call. Throughput is writes over the wall time of the load, commits included.
                """);
        Files.writeString(md, s.toString());
    }

    static String describe(ManyStoresBenchmark b, String kind) {
        long mib = b.budgetBytes >> 20;
        return switch (kind) {
            case ManyStoresBenchmark.MMAPSTORE -> "`MmapStores.persistentKeyValueStore`, `mmapstore.memory.budget.bytes` = " + mib
                    + " MiB (builds without the JVM-wide budget ignore the key), `mmapstore.log=false` (as with a changelog), "
                    + "`enable.transactional.statestores=true`, other settings default";
            case ManyStoresBenchmark.ROCKSDB, ManyStoresBenchmark.ROCKSDB_TXN -> "Kafka's `Stores.persistentKeyValueStore` "
                    + "(RocksDBStore) with a `RocksDBConfigSetter` following Kafka's bounded-memory recipe: one static LRUCache of "
                    + mib + " MiB (strict capacity " + b.rocksStrict + ", high-priority pool 0.1) shared by every store, a "
                    + "WriteBufferManager of " + (long) (mib * b.rocksMemtableShare) + " MiB charging the memtables to that cache, "
                    + "index and filter blocks cached with high priority, top level pinned; "
                    + (b.rocksWriteBufferBytes > 0 ? "write_buffer_size " + (b.rocksWriteBufferBytes >> 10) + " KiB; " : "")
                    + "Kafka's other options; "
                    + "`enable.transactional.statestores=" + kind.equals(ManyStoresBenchmark.ROCKSDB_TXN) + "`";
            default -> kind;
        };
    }

    static String gaugeMaxima(ManyStoresBenchmark.Run r) {
        StringBuilder s = new StringBuilder();
        for (String g : r.load().get("gauges").split(",")) {
            double max = stat(r, g, 100);
            if (Double.isFinite(max)) {
                s.append(s.isEmpty() ? " (max during the load: " : ", ").append(g).append(' ')
                        .append(g.endsWith("_bytes") ? String.format(Locale.ROOT, "%.1f MB", max / 1e6)
                                : String.format(Locale.ROOT, "%,.0f", max));
            }
        }
        return s.isEmpty() ? "" : s.append(')').toString();
    }

    static double nan0(double v) {
        return Double.isFinite(v) ? v : Double.NEGATIVE_INFINITY;
    }

    /** The last finite value of a sampled column (any sample, the one after the load included). */
    static double last(ManyStoresBenchmark.Run r, String column) {
        double[] v = col(r, column);
        for (int i = v.length - 1; i >= 0; i--) {
            if (Double.isFinite(v[i])) {
                return v[i];
            }
        }
        return Double.NaN;
    }

    static String fmt(String format, double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, format, v) : "–";
    }

    /** Percentile {@code p} (100: max) of a sampled column over the load's samples. */
    static double stat(ManyStoresBenchmark.Run r, String column, double p) {
        double[] v = r.samples().stream().filter(m -> m.getOrDefault("in_load", 0.0) == 1.0)
                .mapToDouble(m -> m.getOrDefault(column, Double.NaN)).filter(Double::isFinite).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(p / 100.0 * v.length) - 1;
        return v[Math.max(0, Math.min(v.length - 1, i))];
    }

    static void charts(ManyStoresBenchmark b, List<ManyStoresBenchmark.Run> runs, String base) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<LineChart.Series> heap = new ArrayList<>();
        List<LineChart.Series> rss = new ArrayList<>();
        List<LineChart.Series> tput = new ArrayList<>();
        String sub = b.parameters();
        double budgetMb = b.budgetBytes / 1e6;
        for (ManyStoresBenchmark.Run r : runs) {
            if (r.samples().isEmpty()) {
                continue;
            }
            double[] t = col(r, "t_s");
            // one chart per competitor with every memory figure
            List<LineChart.Series> own = List.of(
                    new LineChart.Series("heap used", t, scale(col(r, "heap_used"), 1e-6)),
                    new LineChart.Series("heap after last GC", t, scale(col(r, "heap_after_gc"), 1e-6)),
                    new LineChart.Series("live heap (full GC)", t, scale(col(r, "heap_live"), 1e-6)),
                    new LineChart.Series("RSS", t, scale(col(r, "rss"), 1e-6)),
                    new LineChart.Series("RSS anonymous", t, scale(col(r, "rss_anon"), 1e-6)),
                    new LineChart.Series("RSS file-backed", t, scale(col(r, "rss_file"), 1e-6)));
            LineChart.write(LineChart.Spec.of(r.kind() + ": heap and RSS over time, " + b.storeCount() + " stores in one JVM",
                            "seconds since the load started", "MB").withSubtitle(sub)
                            .withMarker(budgetMb, "budget " + (b.budgetBytes >> 20) + " MiB").withSize(1100, 560),
                    own, b.out.resolve(base + "-memory-" + r.kind() + ".png"));
            heap.add(new LineChart.Series(r.kind() + " after last GC", t, scale(col(r, "heap_after_gc"), 1e-6)));
            heap.add(new LineChart.Series(r.kind() + " live (full GC)", t, scale(col(r, "heap_live"), 1e-6)));
            rss.add(new LineChart.Series(r.kind() + " RSS", t, scale(col(r, "rss"), 1e-6)));
            double[] w = col(r, "writes");
            double[] rate = new double[t.length];
            for (int i = 0; i < t.length; i++) {
                rate[i] = i == 0 || t[i] <= 0 || t[i] - t[i - 1] <= 0 ? Double.NaN : (w[i] - w[i - 1]) / (t[i] - t[i - 1]) / 1e3;
            }
            tput.add(new LineChart.Series(r.kind(), t, rate));
        }
        if (heap.isEmpty()) {
            return;
        }
        LineChart.write(LineChart.Spec.of("Heap over time, " + b.storeCount() + " stores in one JVM", "seconds since the load started",
                        "MB").withSubtitle(sub).withMarker(budgetMb, "budget " + (b.budgetBytes >> 20) + " MiB").withSize(1100, 560),
                heap, b.out.resolve(base + "-heap.png"));
        LineChart.write(LineChart.Spec.of("Resident set size over time, " + b.storeCount() + " stores in one JVM",
                        "seconds since the load started", "MB").withSubtitle(sub).withSize(1100, 560),
                rss, b.out.resolve(base + "-rss.png"));
        LineChart.write(LineChart.Spec.of("Writes per second over time, " + b.storeCount() + " stores in one JVM",
                        "seconds since the load started", "thousand writes/s").withSubtitle(sub).withSize(1100, 500),
                tput, b.out.resolve(base + "-throughput.png"));
    }

    static double[] col(ManyStoresBenchmark.Run r, String column) {
        return r.samples().stream().mapToDouble(m -> m.getOrDefault(column, Double.NaN)).toArray();
    }

    static double[] scale(double[] v, double f) {
        return Arrays.stream(v).map(x -> x * f).toArray();
    }
}
