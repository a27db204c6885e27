package io.github.mmapstore.benchmarks.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportWriterTest {
    @TempDir
    Path dir;

    private final SplittableRandom random = new SplittableRandom(42);

    /** A throughput in [1,000, 1,000,000) and latencies in [1, 100) µs, random but reproducible. */
    private Measurement measure(String system) {
        double p50 = 1 + random.nextDouble() * 50;
        return new Measurement(system, 1_000 + random.nextDouble() * 999_000, p50, p50 + random.nextDouble() * 49);
    }

    private Report report(List<Section> sections) {
        Machine m = new Machine("Test CPU 9000", 3, "avx avx2", "7.0 GiB", "Some JDK 25", "Test OS (amd64)", "6.1-test");
        List<LoadSampler.Sample> load = List.of(new LoadSampler.Sample(0, 0.5, 0.4, 0.3), new LoadSampler.Sample(10, 1.5, 0.6, 0.4),
                new LoadSampler.Sample(20, 2.5, 0.9, 0.5));
        return new Report("2031-02-03", "quick", "benchmarks/results/2031-02-03", "benchmarks/run-report.sh --quick", "git abc1234", m,
                "0.10 0.20 0.30 1/100 1", "min 0.50 / mean 1.50 / max 2.50", "0.40 0.50 0.60 1/100 2",
                Duration.ofSeconds(185), load, sections);
    }

    private static String row(String markdown, String... cells) {
        String prefix = "| " + String.join(" | ", cells) + " |";
        return markdown.lines().filter(l -> l.startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no row starting with " + prefix + " in\n" + markdown));
    }

    @Test
    void sectionTableHasEveryMeasurementWithRatiosAgainstTheBaseline() {
        List<Comparison> rows = new ArrayList<>();
        for (String op : List.of("op-a", "op-b", "op-c")) {
            rows.add(new Comparison(op, "ops/s", "µs", "MmapStore", "RocksDB", true,
                    List.of(measure("MmapStore"), measure("RocksDB"), measure("In-memory"))));
        }
        Section s = new Section("store-level", "Store level", "what and how", rows, List.of("[details](store-level.md)"));
        String md = ReportWriter.sectionTable(s);

        for (Comparison c : rows) {
            Measurement me = c.of("MmapStore");
            Measurement rocks = c.of("RocksDB");
            Measurement mem = c.of("In-memory");
            assertThat(row(md, c.operation(), "**MmapStore**")).isEqualTo("| " + c.operation() + " | **MmapStore** | "
                    + Charts.number(me.throughput()) + " ops/s | " + Charts.number(me.median()) + " µs | "
                    + Charts.number(me.p99()) + " µs | " + Charts.ratio(me.throughput() / rocks.throughput()) + " | "
                    + Charts.ratio(rocks.median() / me.median()) + " | " + Charts.ratio(rocks.p99() / me.p99()) + " |");
            assertThat(row(md, c.operation(), "RocksDB (baseline)")).contains(Charts.number(rocks.throughput()) + " ops/s")
                    .endsWith("| 1× | 1× | 1× |");
            assertThat(row(md, c.operation(), "In-memory")).contains(Charts.ratio(mem.throughput() / rocks.throughput()));
        }
        assertThat(md.lines().filter(l -> l.startsWith("| op-")).count()).isEqualTo(9);
    }

    @Test
    void headlineHoldsOnlyHeadlineRowsAndSaysWhatTheyAreComparedWith() {
        Comparison put = new Comparison("put", "ops/s", "µs", "MmapStore", "RocksDB", true,
                List.of(measure("MmapStore"), measure("RocksDB")));
        Comparison detail = new Comparison("put, detail only", "ops/s", "µs", "MmapStore", "RocksDB", false,
                List.of(measure("MmapStore"), measure("RocksDB")));
        Comparison knn = new Comparison("scan", "GB/s", "ms/scan", "MmapStore", "Lucene", true,
                List.of(measure("MmapStore"), measure("Lucene")));
        Comparison kernel = new Comparison("dot kernel", "M rows/s", "", "SIMD", "scalar", false,
                List.of(new Measurement("SIMD", 17.5, Double.NaN, Double.NaN), new Measurement("scalar", 1.25, Double.NaN, Double.NaN)));
        Report r = report(List.of(new Section("store-level", "Store", "", List.of(put, detail), List.of()),
                new Section("knn", "kNN", "", List.of(knn, kernel), List.of())));

        String table = ReportWriter.headlineTable(ReportWriter.headline(r));
        assertThat(table.lines().count()).isEqualTo(4); // header, rule, 2 rows
        assertThat(row(table, "put", "RocksDB")).isEqualTo("| put | RocksDB | " + Charts.number(put.of("MmapStore").throughput())
                + " ops/s | " + Charts.number(put.of("RocksDB").throughput()) + " ops/s | **"
                + Charts.ratio(put.throughputRatio("MmapStore")) + "** | " + Charts.number(put.of("MmapStore").p99()) + " µs | "
                + Charts.number(put.of("RocksDB").p99()) + " µs | " + Charts.ratio(put.p99Ratio("MmapStore")) + " |");
        assertThat(row(table, "scan", "Lucene")).contains(" ms/scan ");
        assertThat(table).doesNotContain("detail only").doesNotContain("dot kernel");

        String section = ReportWriter.sectionTable(r.sections().get(1));
        assertThat(row(section, "dot kernel", "**SIMD**")).isEqualTo("| dot kernel | **SIMD** | 17.5 M rows/s | — | — | "
                + Charts.ratio(17.5 / 1.25) + " | — | — |");

        String snippet = ReportWriter.headlineSnippet(r, "benchmarks/results/2031-02-03/headline.png");
        assertThat(snippet).startsWith("![MmapStore vs RocksDB, 2031-02-03](benchmarks/results/2031-02-03/headline.png)")
                .contains(table)
                .contains("Test CPU 9000, 3 cores, 7.0 GiB RAM, Test OS (amd64), kernel 6.1-test, Some JDK 25")
                .contains("min 0.50 / mean 1.50 / max 2.50")
                .contains("[benchmarks/results/2031-02-03/report.md](benchmarks/results/2031-02-03/report.md)");
    }

    @Test
    void writesReportSnippetAndChartsIntoTheFolder() throws Exception {
        Comparison put = new Comparison("put", "ops/s", "µs", "MmapStore", "RocksDB", true,
                List.of(measure("MmapStore"), measure("RocksDB"), measure("In-memory")));
        Comparison scan = new Comparison("scan", "GB/s", "ms/scan", "MmapStore", "Lucene", true,
                List.of(measure("MmapStore"), measure("Lucene")));
        Report r = report(List.of(new Section("store-level", "Store level", "Stores, one JVM.", List.of(put), List.of("[d](d.md)")),
                new Section("knn", "kNN", "Scans.", List.of(scan), List.of())));

        List<Path> written = ReportWriter.write(r, dir);
        assertThat(written).extracting(p -> p.getFileName().toString())
                .containsExactly("headline.png", "store-level-ratios.png", "knn-ratios.png", "load.png", "report.md", "headline.md");
        for (Path p : written) {
            assertThat(Files.size(p)).isPositive();
            if (p.toString().endsWith(".png")) {
                assertThat(ImageIO.read(p.toFile())).isNotNull();
            }
        }
        String md = Files.readString(dir.resolve("report.md"));
        assertThat(md).startsWith("# MmapStore benchmark report, 2031-02-03 (quick run)")
                .contains("`benchmarks/run-report.sh --quick` in 3 min 05 s")
                .contains("![MmapStore vs RocksDB](headline.png)", "![Store level](store-level-ratios.png)", "![kNN](knn-ratios.png)",
                        "![Load average during the run](load.png)")
                .contains("- Source measured: git abc1234", "- CPU: Test CPU 9000, 3 cores", "- SIMD flags: avx avx2", "- RAM: 7.0 GiB", "- JDK: Some JDK 25",
                        "- OS: Test OS (amd64), kernel 6.1-test", "before: `0.10 0.20 0.30 1/100 1`", "after: `0.40 0.50 0.60 1/100 2`")
                .contains("Stores, one JVM.", "- [d](d.md)")
                .contains(ReportWriter.headlineTable(List.of(put, scan)))
                .contains(ReportWriter.sectionTable(r.sections().get(0)));
        assertThat(md.indexOf("## Store level")).isLessThan(md.indexOf("## kNN"));
        assertThat(Files.readString(dir.resolve("headline.md"))).isEqualTo(ReportWriter.headlineSnippet(r,
                "benchmarks/results/2031-02-03/headline.png"));
    }

    @Test
    void noRocksDbComparisonMeansNoHeadlineChart() throws Exception {
        Comparison kernel = new Comparison("dot", "M rows/s", "", "SIMD", "scalar", false,
                List.of(measure("SIMD"), measure("scalar")));
        List<Path> written = ReportWriter.write(report(List.of(new Section("knn", "kNN", "", List.of(kernel), List.of()))), dir);
        assertThat(written).extracting(p -> p.getFileName().toString()).doesNotContain("headline.png");
        assertThat(Files.readString(dir.resolve("headline.md"))).doesNotContain("![");
    }

    @Test
    void comparisonsRefuseMissingOrDuplicateSystems() {
        assertThatThrownBy(() -> new Comparison("put", "ops/s", "µs", "MmapStore", "RocksDB", true, List.of(measure("MmapStore"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no measurement of RocksDB");
        assertThatThrownBy(() -> new Comparison("put", "ops/s", "µs", "MmapStore", "RocksDB", true,
                List.of(measure("MmapStore"), measure("RocksDB"), measure("RocksDB"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lists a system twice");
        Comparison ok = new Comparison("put", "ops/s", "µs", "MmapStore", "RocksDB", true,
                List.of(measure("MmapStore"), measure("RocksDB")));
        assertThatThrownBy(() -> new Section("Bad Id", "t", "", List.of(ok), List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("section id");
        assertThatThrownBy(() -> new Section("s", "t", "", List.of(ok, ok), List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("names an operation twice");
    }

    @Test
    void readmeBlockBetweenMarkersIsReplacedAndEverythingElseKept() {
        String readme = "# Title\n\nintro\n\n" + ReadmeBlock.MARKER + "\nold table\n" + ReadmeBlock.MARKER + "\n\n## Next\n";
        String updated = ReadmeBlock.replace(readme, "| new | table |\n");
        assertThat(updated).isEqualTo("# Title\n\nintro\n\n" + ReadmeBlock.MARKER + "\n| new | table |\n" + ReadmeBlock.MARKER
                + "\n\n## Next\n");
        assertThatThrownBy(() -> ReadmeBlock.replace("# no markers\n", "x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("found none");
        assertThatThrownBy(() -> ReadmeBlock.replace(ReadmeBlock.MARKER + "\nonly one", "x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("found one");
    }
}
