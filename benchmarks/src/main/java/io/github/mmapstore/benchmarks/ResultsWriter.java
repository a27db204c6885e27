package io.github.mmapstore.benchmarks;

import io.github.mmapstore.benchmarks.report.BarChart;
import io.github.mmapstore.benchmarks.report.Charts;
import io.github.mmapstore.benchmarks.report.LoadLog;
import io.github.mmapstore.benchmarks.report.MachineInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Turns JMH's JSON output ({@code -rf json}) of the engine benchmarks into
 * {@code <out>/<date>-engine.md} (headline table, settings, machine) and {@code <out>/<date>-engine.png}
 * (bar chart of MmapStore's advantage over RocksDB per row, log scale). A small JSON
 * reader and JFreeChart (headless) for the chart.
 *
 * <p>Usage: {@code ResultsWriter <jmh.json> [--out DIR] [--date YYYY-MM-DD] [--bench-dir DIR] [--load-log FILE]}.
 * Anything after the {@value #NOTES_MARKER} line of an existing output file is kept on regeneration
 * (hand-written analysis).
 */
public final class ResultsWriter {
    static final String NOTES_MARKER = "<!-- notes below this line are kept when the file is regenerated -->";
    private static final String PKG = "io.github.mmapstore.benchmarks.";

    /** One JMH result: benchmark (short name), mode, params, score and percentiles. */
    record Result(String bench, String mode, Map<String, String> params, double score, double error,
                  String unit, Map<String, Double> percentiles, long samples) {
    }

    /** One table row: how to find both sides and how to compare them. */
    record Row(String operation, String metric, Result mmap, Result rocks, String percentile,
               boolean higherIsBetter, double target) {
        double value(Result r) {
            if (r == null) {
                return Double.NaN;
            }
            return percentile == null ? r.score() : r.percentiles().getOrDefault(percentile, Double.NaN);
        }

        /** MmapStore's advantage: > 1 means MmapStore is better, whatever the metric's direction. */
        double advantage() {
            double m = value(mmap);
            double k = value(rocks);
            return higherIsBetter ? m / k : k / m;
        }
    }

    public static void main(String[] args) throws IOException {
        System.setProperty("java.awt.headless", "true");
        if (args.length < 1) {
            System.err.println("usage: ResultsWriter <jmh.json> [--out DIR] [--date YYYY-MM-DD] [--bench-dir DIR] [--load-log FILE]");
            System.exit(2);
        }
        Path json = Path.of(args[0]);
        Path out = Path.of("benchmarks/results");
        String date = LocalDate.now().toString();
        Path benchDir = null;
        Path loadLog = null;
        for (int i = 1; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--out" -> out = Path.of(args[i + 1]);
                case "--date" -> date = args[i + 1];
                case "--bench-dir" -> benchDir = Path.of(args[i + 1]);
                case "--load-log" -> loadLog = Path.of(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        List<Object> raw = asList(new Json(Files.readString(json)).parse());
        List<Result> results = new ArrayList<>();
        for (Object o : raw) {
            results.add(result(asMap(o)));
        }
        List<Row> rows = rows(results);
        Files.createDirectories(out);
        Path md = out.resolve(date + "-engine.md");
        Path png = out.resolve(date + "-engine.png");
        String notes = "";
        if (Files.exists(md)) {
            String old = Files.readString(md);
            int at = old.indexOf(NOTES_MARKER);
            if (at >= 0) {
                notes = old.substring(at + NOTES_MARKER.length());
            }
        }
        String text = markdown(rows, raw, json, png, date, benchDir, loadLog) + NOTES_MARKER + (notes.isEmpty() ? "\n" : notes);
        Files.writeString(md, text, StandardCharsets.UTF_8);
        chart(rows, png, date);
        System.out.println("wrote " + md + " and " + png);
    }

    // ---------------------------------------------------------------------------------------------
    // Rows

    static List<Row> rows(List<Result> rs) {
        List<Row> rows = new ArrayList<>();
        rows.add(new Row("put, 16 B key / 100 B value", "ops/s", find(rs, "PutBenchmark.put", "thrpt", "mmapstore", "100"),
                find(rs, "PutBenchmark.put", "thrpt", "rocksdb", "100"), null, true, 3));
        rows.add(new Row("put, 16 B key / 3 KiB value", "ops/s", find(rs, "PutBenchmark.put", "thrpt", "mmapstore", "3072"),
                find(rs, "PutBenchmark.put", "thrpt", "rocksdb", "3072"), null, true, 3));
        rows.add(new Row("get, uniform over 1M resident keys", "ops/s", find(rs, "GetBenchmark.get", "thrpt", "mmapstore", null),
                find(rs, "GetBenchmark.get", "thrpt", "rocksdb", null), null, true, 3));
        Result gm = find(rs, "GetBenchmark.getLatency", "sample", "mmapstore", null);
        Result gr = find(rs, "GetBenchmark.getLatency", "sample", "rocksdb", null);
        rows.add(new Row("get latency p50", "µs", gm, gr, "50.0", false, Double.NaN));
        rows.add(new Row("get latency p99", "µs", gm, gr, "99.0", false, 3));
        rows.add(new Row("range scan, 1,000 keys", "scans/s", find(rs, "RangeBenchmark.range", "thrpt", "mmapstore", null),
                find(rs, "RangeBenchmark.range", "thrpt", "rocksdb", null), null, true, Double.NaN));
        Result cm = find(rs, "CommitBenchmark.commit", "sample", "mmapstore", null);
        Result cn = find(rs, "CommitBenchmark.commit", "sample", "mmapstore-nofsync", null);
        Result cr = find(rs, "CommitBenchmark.commit", "sample", "rocksdb", null);
        rows.add(new Row("commit of 10,000 writes p50, MmapStore fsync ON", "µs", cm, cr, "50.0", false, Double.NaN));
        rows.add(new Row("commit of 10,000 writes p99, MmapStore fsync ON", "µs", cm, cr, "99.0", false, Double.NaN));
        rows.add(new Row("commit of 10,000 writes p50, MmapStore fsync OFF", "µs", cn, cr, "50.0", false, Double.NaN));
        rows.add(new Row("commit of 10,000 writes p99, MmapStore fsync OFF", "µs", cn, cr, "99.0", false, Double.NaN));
        rows.removeIf(r -> r.mmap() == null && r.rocks() == null);
        return rows;
    }

    static Result find(List<Result> rs, String bench, String mode, String store, String valueBytes) {
        for (Result r : rs) {
            if (r.bench().equals(bench) && r.mode().equals(mode) && store.equals(r.params().get("store"))
                    && (valueBytes == null || valueBytes.equals(r.params().get("valueBytes")))) {
                return r;
            }
        }
        return null;
    }

    static Result result(Map<String, Object> m) {
        String bench = ((String) m.get("benchmark")).replace(PKG, "");
        Map<String, String> params = new LinkedHashMap<>();
        if (m.get("params") instanceof Map<?, ?> p) {
            p.forEach((k, v) -> params.put((String) k, String.valueOf(v)));
        }
        Map<String, Object> pm = asMap(m.get("primaryMetric"));
        Map<String, Double> pct = new LinkedHashMap<>();
        if (pm.get("scorePercentiles") instanceof Map<?, ?> p) {
            p.forEach((k, v) -> pct.put(normalisePercentile((String) k), num(v)));
        }
        long samples = 0;
        if (pm.get("rawDataHistogram") instanceof List<?> forks) {
            for (Object fork : forks) {
                for (Object iter : asList(fork)) {
                    for (Object pair : asList(iter)) {
                        samples += (long) num(asList(pair).get(1));
                    }
                }
            }
        }
        return new Result(bench, (String) m.get("mode"), params, num(pm.get("score")), num(pm.get("scoreError")),
                (String) pm.get("scoreUnit"), pct, samples);
    }

    private static String normalisePercentile(String k) {
        double d = Double.parseDouble(k);
        return String.valueOf(d); // "50.0", "99.0", "99.9"
    }

    // ---------------------------------------------------------------------------------------------
    // Markdown

    static String markdown(List<Row> rows, List<Object> raw, Path json, Path png, String date, Path benchDir,
                           Path loadLog) {
        StringBuilder b = new StringBuilder();
        b.append("# Engine benchmark: MmapStore vs Kafka Streams' RocksDB store (").append(date).append(")\n\n");
        b.append("Generated by `ResultsWriter` from `").append(json.getFileName()).append("` (JMH JSON). ");
        b.append("Both stores ran in the same JMH run, one fork each, same JVM flags. ");
        b.append("**Advantage** = how many times better MmapStore is: MmapStore/RocksDB for throughput, ");
        b.append("RocksDB/MmapStore for latency (> 1 means MmapStore wins).\n\n");
        b.append("| Operation | Unit | MmapStore | RocksDB | Advantage | Target | Met |\n");
        b.append("|---|---|---:|---:|---:|---:|:---:|\n");
        for (Row r : rows) {
            double adv = r.advantage();
            boolean hasTarget = !Double.isNaN(r.target());
            b.append("| ").append(r.operation()).append(" | ").append(r.metric()).append(" | ")
                    .append(cell(r, r.mmap())).append(" | ").append(cell(r, r.rocks())).append(" | ")
                    .append(Double.isNaN(adv) ? "n/a" : fmtRatio(adv)).append(" | ")
                    .append(hasTarget ? "≥ " + fmtRatio(r.target()) : "—").append(" | ")
                    .append(hasTarget && !Double.isNaN(adv) ? (adv >= r.target() ? "yes" : "**no**") : "")
                    .append(" |\n");
        }
        b.append("\n![MmapStore advantage per operation](").append(png.getFileName()).append(")\n\n");

        b.append("## Latency distributions (sample-time mode)\n\n");
        b.append("| Benchmark | Store | Samples | Mean | p50 | p90 | p99 | p99.9 | Max | Unit |\n");
        b.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (Object o : raw) {
            Result r = result(asMap(o));
            if (!r.mode().equals("sample") || !isEngine(r.bench())) {
                continue;
            }
            b.append("| ").append(r.bench()).append(" | ").append(r.params().get("store")).append(" | ")
                    .append(r.samples()).append(" | ").append(fmt(r.score())).append(" | ")
                    .append(fmt(r.percentiles().getOrDefault("50.0", Double.NaN))).append(" | ")
                    .append(fmt(r.percentiles().getOrDefault("90.0", Double.NaN))).append(" | ")
                    .append(fmt(r.percentiles().getOrDefault("99.0", Double.NaN))).append(" | ")
                    .append(fmt(r.percentiles().getOrDefault("99.9", Double.NaN))).append(" | ")
                    .append(fmt(r.percentiles().getOrDefault("100.0", Double.NaN))).append(" | ")
                    .append(r.unit()).append(" |\n");
        }

        b.append("\n## Settings\n\n");
        Set<String> seen = new LinkedHashSet<>();
        for (Object o : raw) {
            Map<String, Object> m = asMap(o);
            String cls = ((String) m.get("benchmark")).replace(PKG, "");
            if (!isEngine(cls)) {
                continue;
            }
            cls = cls.substring(0, cls.indexOf('.'));
            String line = "- `" + cls + "`: " + str(m.get("forks")) + " fork, " + str(m.get("threads")) + " thread, warmup "
                    + str(m.get("warmupIterations")) + " × " + m.get("warmupTime") + ", measurement "
                    + str(m.get("measurementIterations")) + " × " + m.get("measurementTime");
            seen.add(line);
        }
        seen.forEach(l -> b.append(l).append('\n'));
        Map<String, Object> first = raw.isEmpty() ? Map.of() : asMap(raw.get(0));
        b.append("- JVM flags of the forks: `").append(String.join(" ", strings(first.get("jvmArgs")))).append("`\n");
        b.append("""
                - MmapStore: `EngineConfig.defaults()` (64 MiB memtable, 1 MiB log buffer, **fsync ON**);
                  the `mmapstore-nofsync` commit row is `defaults().withFsync(false)`. No background compaction
                  exists in the engine yet, so put runs never compact; get/range stores were `compactFully()`-ed.
                - RocksDB: `Stores.persistentKeyValueStore("bench").get()`, Kafka Streams 4.3.1 defaults (no
                  `RocksDBConfigSetter`: 16 MiB write buffer x 3, 50 MiB LRU block cache, 4 KiB blocks, bloom
                  filter, no compression, **WAL disabled**, background flush/compaction threads), initialised with
                  `MockProcessorContext.getStateStoreContext()` over a temp state dir. Commit is
                  `store.commit(Map.of(tp, offset))`, which writes the offset into the offsets column family and
                  does **not** fsync. Get/range stores were flushed and `compactRange()`-ed (via the `db` field).
                - Data: 16-byte uniformly random keys; puts pick keys uniformly from 1M keys (insert/overwrite mix)
                  and build a fresh value array per record; put runs open an empty store each iteration; get and
                  range run over 1,000,000 keys with 100-byte values, all read once before warmup (resident).
                - Commit: 10,000 untimed puts (100-byte values) before each timed commit call.
                """);

        b.append("\n## Machine\n\n");
        b.append("- CPU: ").append(MachineInfo.cpuModel()).append('\n');
        b.append("- Cores (available to the JVM): ").append(Runtime.getRuntime().availableProcessors()).append('\n');
        b.append("- Memory: ").append(MachineInfo.memTotal()).append('\n');
        b.append("- JDK: ").append(str(first.get("jdkVersion"))).append(", ").append(str(first.get("vmName")))
                .append(' ').append(str(first.get("vmVersion"))).append('\n');
        b.append("- JMH: ").append(str(first.get("jmhVersion"))).append('\n');
        b.append("- Kernel: ").append(MachineInfo.readTrim("/proc/sys/kernel/osrelease", System.getProperty("os.version")))
                .append(" (").append(System.getProperty("os.arch")).append(")\n");
        if (benchDir != null) {
            try {
                FileStore fs = Files.getFileStore(Files.exists(benchDir) ? benchDir : Path.of("."));
                b.append("- Store directory filesystem: ").append(fs.type()).append(" (").append(fs.name()).append(")\n");
            } catch (IOException e) {
                b.append("- Store directory filesystem: unknown (").append(e.getMessage()).append(")\n");
            }
        }
        if (loadLog != null) {
            b.append("- Load average during the run: ").append(LoadLog.summary(loadLog))
                    .append(" (other processes on this machine compete with the benchmark for its 2 cores)\n");
        }
        b.append('\n');
        return b.toString();
    }

    /** Only this report's benchmark classes (the jar also holds other benchmark families). */
    static boolean isEngine(String bench) {
        return bench.matches("(Put|Get|Range|Commit)Benchmark\\..*");
    }

    private static String cell(Row r, Result res) {
        double v = r.value(res);
        if (Double.isNaN(v)) {
            return "n/a";
        }
        if (r.percentile() == null && res.error() > 0 && !Double.isNaN(res.error())) {
            return fmt(v) + " ± " + fmt(res.error());
        }
        return fmt(v);
    }

    static String fmt(double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        double a = Math.abs(v);
        if (a >= 100_000) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (a >= 100) {
            return String.format(Locale.ROOT, "%,.1f", v);
        }
        if (a >= 1) {
            return String.format(Locale.ROOT, "%.2f", v);
        }
        return String.format(Locale.ROOT, "%.3f", v);
    }

    static String fmtRatio(double v) {
        if (v >= 10) {
            return String.format(Locale.ROOT, "%.1f×", v);
        }
        if (v >= 0.1) {
            return String.format(Locale.ROOT, "%.2f×", v);
        }
        return String.format(Locale.ROOT, "%.4f×", v);
    }

    // ---------------------------------------------------------------------------------------------
    // Chart

    static void chart(List<Row> rows, Path png, String date) throws IOException {
        List<String> names = new ArrayList<>();
        List<Double> values = new ArrayList<>();
        List<java.awt.Color> colors = new ArrayList<>();
        for (Row r : rows) {
            double a = r.advantage();
            boolean met = !Double.isNaN(r.target()) && a >= r.target();
            boolean missed = !Double.isNaN(r.target()) && a < r.target();
            names.add(r.operation());
            values.add(a);
            colors.add(met ? Charts.TARGET_MET : missed ? Charts.TARGET_MISSED : a >= 1 ? Charts.BETTER : Charts.WORSE);
        }
        BarChart.write(BarChart.Spec.ratios("MmapStore advantage over Kafka's RocksDB store (" + date + ")",
                                "MmapStore advantage (log scale; throughput: MmapStore/RocksDB, latency: RocksDB/MmapStore)")
                        .withMarker(3, "3× target")
                        .withSubtitle("green: target met, orange: target missed, blue/red: no target (better/worse)"),
                names, List.of(new BarChart.Series("MmapStore vs RocksDB", values, colors)), png);
    }

    // ---------------------------------------------------------------------------------------------
    // Minimal JSON

    @SuppressWarnings("unchecked")
    static Map<String, Object> asMap(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Object> asList(Object o) {
        return (List<Object>) o;
    }

    static double num(Object o) {
        if (o instanceof Number n) {
            return n.doubleValue();
        }
        if (o instanceof String s) { // JMH writes "NaN" as a string
            try {
                return Double.parseDouble(s);
            } catch (NumberFormatException e) {
                return Double.NaN;
            }
        }
        return Double.NaN;
    }

    static String str(Object o) {
        if (o instanceof Double d && d == Math.rint(d)) {
            return String.valueOf(d.longValue());
        }
        return String.valueOf(o);
    }

    static List<String> strings(Object o) {
        List<String> out = new ArrayList<>();
        if (o instanceof List<?> l) {
            l.forEach(x -> out.add(String.valueOf(x)));
        }
        return out;
    }

    /** Recursive-descent JSON reader: objects to LinkedHashMap, arrays to ArrayList, numbers to Double. */
    static final class Json {
        private final String s;
        private int i;

        Json(String s) {
            this.s = s;
        }

        Object parse() {
            Object v = value();
            ws();
            if (i != s.length()) {
                throw error("trailing characters");
            }
            return v;
        }

        private Object value() {
            ws();
            if (i >= s.length()) {
                throw error("unexpected end");
            }
            char c = s.charAt(i);
            return switch (c) {
                case '{' -> object();
                case '[' -> array();
                case '"' -> string();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", null);
                default -> number();
            };
        }

        private Map<String, Object> object() {
            Map<String, Object> m = new LinkedHashMap<>();
            i++;
            ws();
            if (peek() == '}') {
                i++;
                return m;
            }
            while (true) {
                ws();
                String k = string();
                ws();
                expect(':');
                m.put(k, value());
                ws();
                if (peek() == ',') {
                    i++;
                } else {
                    expect('}');
                    return m;
                }
            }
        }

        private List<Object> array() {
            List<Object> l = new ArrayList<>();
            i++;
            ws();
            if (peek() == ']') {
                i++;
                return l;
            }
            while (true) {
                l.add(value());
                ws();
                if (peek() == ',') {
                    i++;
                } else {
                    expect(']');
                    return l;
                }
            }
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') {
                    return b.toString();
                }
                if (c == '\\') {
                    char e = s.charAt(i++);
                    switch (e) {
                        case 'n' -> b.append('\n');
                        case 't' -> b.append('\t');
                        case 'r' -> b.append('\r');
                        case 'b' -> b.append('\b');
                        case 'f' -> b.append('\f');
                        case 'u' -> {
                            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                            i += 4;
                        }
                        default -> b.append(e);
                    }
                } else {
                    b.append(c);
                }
            }
        }

        private Object literal(String word, Object v) {
            if (!s.startsWith(word, i)) {
                throw error("bad literal");
            }
            i += word.length();
            return v;
        }

        private Double number() {
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
            if (start == i) {
                throw error("unexpected character '" + s.charAt(i) + "'");
            }
            return Double.parseDouble(s.substring(start, i));
        }

        private void ws() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private char peek() {
            return i < s.length() ? s.charAt(i) : '\0';
        }

        private void expect(char c) {
            if (peek() != c) {
                throw error("expected '" + c + "'");
            }
            i++;
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException("JSON: " + what + " at offset " + i);
        }
    }
}
