package io.github.mmapstore.benchmarks.topology;

import io.github.mmapstore.benchmarks.report.Comparison;
import io.github.mmapstore.benchmarks.report.Measurement;
import io.github.mmapstore.benchmarks.report.Section;
import io.github.mmapstore.benchmarks.topology.TopologyBenchmark.Agg;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The topology part of the benchmark report: runs {@link TopologyBenchmark} (a hopping-window count and a
 * stream-stream join through {@code TopologyTestDriver}, RocksDB vs MmapStore DSL stores, one JVM) and
 * turns its aggregated rows into report comparisons. The harness also writes its own detailed
 * {@code topology.md/.json/.png} into the report folder.
 */
public final class TopologySection {
    private TopologySection() {
    }

    public static Section run(Path folder, Path work, String date, long records, int rounds, long warmup, Path loadLog)
            throws Exception {
        TopologyBenchmark b = new TopologyBenchmark();
        List<String> args = new ArrayList<>(List.of("--agg-records", Long.toString(records), "--join-records", Long.toString(records),
                "--rounds", Integer.toString(rounds), "--warmup", Long.toString(warmup), "--out", folder.toString(),
                "--work", work.toString(), "--date", date, "--name", "topology"));
        if (loadLog != null) {
            args.addAll(List.of("--load-log", loadLog.toString()));
        }
        b.parse(args.toArray(String[]::new));
        b.runAll();
        TopologyReport.write(b);
        List<Comparison> rows = new ArrayList<>();
        for (TopologyReport.Row r : TopologyReport.rows(b)) {
            // Store commits every N records is what a real application's commit interval looks like; the
            // every-record rows (TopologyTestDriver as it is) stay in the section, out of the headline.
            boolean headline = r.config().equals("every-N");
            rows.add(new Comparison(r.topo().title + ", store commit " + b.configLabel(r.config()), "records/s", "µs", "MmapStore",
                    "RocksDB", headline, List.of(measurement("MmapStore", r.mmap()), measurement("RocksDB", r.rocks()))));
        }
        String description = String.format(Locale.ROOT, """
                `TopologyBenchmark`: a hopping-window count (5 min windows advancing by 1 min, %,d keys) and an inner \
                stream-stream join (±1 min), %,d records per run, %d measured round(s) per store with alternating store \
                order, through `TopologyTestDriver` with Kafka's default RocksDB DSL suppliers vs \
                `MmapDslStoreSuppliers` (defaults: no log of its own with a changelog, commits write nothing, \
                checkpoints synced in the background). The driver commits every store after every record (`every-record` rows); the `every-%d` rows \
                forward only every %,d-th store commit. Latency = one `pipeInput` call (the whole topology for one \
                record), median and p99 over all measured rounds.""", b.keys, records, rounds, b.commitEvery, b.commitEvery);
        return new Section("topology", "Topology level: MmapStore vs RocksDB DSL stores", description, rows,
                List.of("Every run, heap/RSS/disk figures and method: [topology.md](topology.md), raw figures "
                        + "[topology.json](topology.json), harness chart [topology.png](topology.png)"));
    }

    private static Measurement measurement(String system, Agg a) {
        return new Measurement(system, a.perSec(), a.hist().percentileNanos(50) / 1e3, a.hist().percentileNanos(99) / 1e3);
    }
}
