package io.github.mmapstore.benchmarks.compaction;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The markdown results file of {@link CompactionBenchmark}: summary, targets, time series. */
final class CompactionReport {
    private final CompactionBenchmark b;
    private final List<CompactionBenchmark.Run> runs;
    private final String started;

    CompactionReport(CompactionBenchmark b, List<CompactionBenchmark.Run> runs, String started) {
        this.b = b;
        this.runs = runs;
        this.started = started;
    }

    static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s.length == 0 ? Double.NaN : s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    static double max(double[] xs) {
        double m = Double.NaN;
        for (double x : xs) {
            m = Double.isNaN(m) ? x : Math.max(m, x);
        }
        return m;
    }

    static double[] series(CompactionBenchmark.Run r, java.util.function.ToDoubleFunction<CompactionBenchmark.Interval> f) {
        return r.intervals().stream().mapToDouble(f).toArray();
    }

    CompactionBenchmark.Run find(String kind) {
        for (CompactionBenchmark.Run r : runs) {
            if (r.kind().equals(kind)) {
                return r;
            }
        }
        return null;
    }

    /** "100-byte" or "100- to 300-byte (uniform, one length drawn per write)". */
    private String valueSizes() {
        return b.valueBytesMax == 0 ? b.valueBytes + "-byte"
                : b.valueBytes + "- to " + b.valueBytesMax + "-byte (uniform, one length drawn per write)";
    }

    void write(Path file) throws IOException {
        StringBuilder sb = new StringBuilder();
        int iv = b.intervalSeconds;
        sb.append("# Compaction under an update-heavy workload (").append(b.date).append(")\n\n");
        sb.append(String.format(Locale.ROOT, "%,d distinct 16-byte keys loaded once, then overwritten for %d s per competitor "
                        + "with keys drawn from a Zipf distribution (exponent %.2f, hot keys scattered over the key space), "
                        + "%s values, one `commit` every %d ms (Kafka Streams' exactly-once commit interval; MmapStore "
                        + "runs its compaction step there). One JVM, competitors one after the other, same data.%n%n",
                b.keys, b.seconds, b.zipfExponent, valueSizes(), b.commitMs));
        sb.append("- Harness: `benchmarks/run-compaction.sh` → `io.github.mmapstore.benchmarks.compaction.CompactionBenchmark`\n");
        sb.append("- Started: ").append(started).append(revision()).append('\n');
        sb.append("- Machine: ").append(b.machine()).append('\n');
        sb.append("- Load: ").append(b.load()).append(" (2 cores shared with other work; see the note below)\n");
        sb.append("- `mmapstore`: default configuration (merges on the JVM's one background compaction thread in 20 ms slices; the writer waits up to 1 ms every 64 puts while the segments are past the space-amplification bound of 1.5; 32 MiB merge output files) as it runs with a changelog: `mmapstore.log=false` (no log of its own; a commit is a mark; checkpoints every 5 s written and synced off the stream thread)\n");
        sb.append("- `mmapstore-nocompaction`: `mmapstore.compaction.budget.ms=0` (flushes only; nothing merged), also without a log\n");
        sb.append("- `rocksdb`: Kafka's `RocksDBStore` (`Stores.persistentKeyValueStore`), Kafka's default options "
                + "(leveled compaction on background threads, WAL off)\n\n");

        sb.append("## Summary (update phase)\n\n");
        sb.append("| competitor | puts/s (median of ").append(iv).append(" s intervals) | put p50 µs | put p99 µs | put p99.9 µs | put p99 µs, worst interval | put max ms "
                + "| commit p99 ms | commit max ms | space amp median | space amp max | space amp at end | write amp | preload s |\n");
        sb.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (CompactionBenchmark.Run r : runs) {
            double[] tput = series(r, x -> x.putsPerSecond(iv));
            double[] amp = series(r, CompactionBenchmark.Interval::spaceAmplification);
            double[] p99 = series(r, CompactionBenchmark.Interval::putP99Micros);
            sb.append(String.format(Locale.ROOT, "| %s | %,.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f | %.1f | %.2f | %.2f | %.2f | %.2f | %.1f |%n",
                    r.kind(), median(tput), r.puts().percentileNanos(50) / 1e3, r.puts().percentileNanos(99) / 1e3,
                    r.puts().percentileNanos(99.9) / 1e3, max(p99),
                    r.puts().maxNanos() / 1e6, r.commits().percentileNanos(99) / 1e6, r.commits().maxNanos() / 1e6,
                    median(amp), max(amp), r.liveBytes() == 0 ? Double.NaN : (double) r.finalDiskBytes() / r.liveBytes(),
                    r.writeAmplification(), r.preloadSeconds()));
        }
        sb.append("\nSpace amplification = bytes of all files in the store directory / live bytes (the key and value of every key's "
                        + "newest version: distinct keys written × ").append(b.valueBytesMax == 0
                        ? (CompactionBenchmark.KEY_BYTES + b.valueBytes) + " bytes" : "(16 + its value's length) bytes")
                .append("), sampled at the end of each interval. ")
                .append("Write amplification = bytes the process wrote to storage during the update phase (`/proc/self/io` "
                        + "write_bytes: logs, segments or SST files, manifests) / user bytes put (key + value).\n\n");

        sb.append("## Targets (issue 7)\n\n");
        CompactionBenchmark.Run on = find(CompactionBenchmark.MMAPSTORE);
        CompactionBenchmark.Run off = find(CompactionBenchmark.MMAPSTORE_OFF);
        CompactionBenchmark.Run rocks = find(CompactionBenchmark.ROCKSDB);
        if (on != null && off != null) {
            double ratio = on.puts().percentileNanos(99) / off.puts().percentileNanos(99);
            sb.append(String.format(Locale.ROOT, "- MmapStore put p99 with compaction / without: %.2f× (target ≤ 2×): %s%n",
                    ratio, ratio <= 2 ? "**met**" : "**not met**"));
            double cr = on.commits().percentileNanos(99) / off.commits().percentileNanos(99);
            sb.append(String.format(Locale.ROOT, "- (for the record) commit p99 with compaction / without: %.2f× — a commit marks the memtable (and, every 5 s, freezes it for a checkpoint); the compaction step runs before the next write (a store in debt pays most of its share in slices between puts)%n", cr));
        }
        if (on != null) {
            double maxAmp = max(series(on, CompactionBenchmark.Interval::spaceAmplification));
            double medAmp = median(series(on, CompactionBenchmark.Interval::spaceAmplification));
            sb.append(String.format(Locale.ROOT, "- MmapStore space amplification ≤ 1.5 held: median %.2f, max %.2f: %s%n",
                    medAmp, maxAmp, maxAmp <= 1.5 ? "**met**" : medAmp <= 1.5 ? "**met at the median, not at the peak**" : "**not met**"));
        }
        if (on != null && rocks != null) {
            sb.append(String.format(Locale.ROOT, "- Write amplification below RocksDB's: MmapStore %.2f vs RocksDB %.2f: %s%n",
                    on.writeAmplification(), rocks.writeAmplification(),
                    on.writeAmplification() < rocks.writeAmplification() ? "**met**" : "**not met**"));
        }
        sb.append('\n');

        for (CompactionBenchmark.Run r : runs) {
            if (r.engineCounters().isEmpty()) {
                continue;
            }
            sb.append("### ").append(r.kind()).append(": the engine's own gauges at the end (whole run, preload included)\n\n");
            sb.append("| gauge | value |\n|---|---:|\n");
            for (Map.Entry<String, Double> e : r.engineCounters().entrySet()) {
                sb.append(String.format(Locale.ROOT, "| %s | %,.2f |%n", e.getKey(), e.getValue()));
            }
            sb.append('\n');
        }

        sb.append("## Time series\n\n![put latency over time](").append(b.name).append("-latency.png)\n\n")
                .append("![disk use over time](").append(b.name).append("-disk.png)\n\n");
        for (CompactionBenchmark.Run r : runs) {
            sb.append("### ").append(r.kind()).append("\n\n");
            sb.append("| t s | puts/s | put p50 µs | put p99 µs | put max µs | commits | commit p99 ms | commit max ms | disk GB | space amp | wrote MB | write amp |\n");
            sb.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            for (CompactionBenchmark.Interval x : r.intervals()) {
                sb.append(String.format(Locale.ROOT, "| %.0f | %,.0f | %.2f | %.2f | %.0f | %d | %.1f | %.1f | %.2f | %.2f | %.0f | %.2f |%n",
                        x.atSeconds(), x.putsPerSecond(iv), x.putP50Micros(), x.putP99Micros(), x.putMaxMicros(), x.commits(),
                        x.commitP99Millis(), x.commitMaxMillis(), x.diskBytes() / 1e9, x.spaceAmplification(), x.writtenBytes() / 1e6,
                        x.userBytes() == 0 ? Double.NaN : (double) x.writtenBytes() / x.userBytes()));
            }
            sb.append('\n');
        }
        Files.writeString(file, sb.toString());
    }

    private String revision() {
        return b.revision == null ? "" : "; source " + b.revision;
    }
}
