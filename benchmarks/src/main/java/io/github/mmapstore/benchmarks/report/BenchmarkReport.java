package io.github.mmapstore.benchmarks.report;

import io.github.mmapstore.benchmarks.Dirs;
import io.github.mmapstore.benchmarks.embedding.KnnSection;
import io.github.mmapstore.benchmarks.store.StoreLevelSection;
import io.github.mmapstore.benchmarks.topology.TopologySection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * One command for the whole comparison: the store-level harness (MmapStore vs Kafka's RocksDB and
 * in-memory stores), the topology harness (RocksDB vs MmapStore DSL stores through TopologyTestDriver)
 * and the kNN benchmarks (store scan vs memory bandwidth and Lucene; SIMD vs scalar kernels), then
 * {@code <out>/<date>/report.md}, {@code headline.md} and the charts ({@link ReportWriter}). The
 * harnesses' own detailed files land in the same folder. Run through {@code benchmarks/run-report.sh};
 * arguments: {@link ReportOptions#usage()}.
 */
public final class BenchmarkReport {
    private BenchmarkReport() {
    }

    public static void main(String[] args) throws Exception {
        ReportOptions o;
        try {
            o = ReportOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("BenchmarkReport: " + e.getMessage());
            System.err.println(ReportOptions.usage());
            System.exit(2);
            return;
        }
        String command = System.getProperty("report.command", "benchmarks/run-report.sh" + (args.length == 0 ? "" : " " + String.join(" ", args)));
        Path folder = o.folder();
        Files.createDirectories(folder);
        Files.createDirectories(o.work());
        String date = o.date().toString();
        Instant start = Instant.now();
        String loadBefore = LoadSampler.now();
        List<Section> sections = new ArrayList<>();
        List<LoadSampler.Sample> load;
        String loadDuring;
        try (LoadSampler sampler = new LoadSampler(o.work().resolve("loadavg-report-" + date + ".log"), 10)) {
            if (o.runs("store")) {
                log("store level: %,d keys", o.storeKeys());
                Path dir = Files.createDirectories(o.work().resolve("store-level"));
                sections.add(StoreLevelSection.run(folder, dir, date, o.storeKeys(), o.storeRanges(), o.storeCommits(),
                        sampler.log(), System.getProperty("report.revision")));
                Dirs.deleteRecursively(dir);
            }
            if (o.runs("topology")) {
                log("topology level: %,d records per run, %d round(s)", o.topologyRecords(), o.topologyRounds());
                Path dir = Files.createDirectories(o.work().resolve("topology"));
                sections.add(TopologySection.run(folder, dir, date, o.topologyRecords(), o.topologyRounds(), o.topologyWarmup(),
                        sampler.log()));
                Dirs.deleteRecursively(dir);
            }
            if (o.runs("knn")) {
                log("kNN: %,d × %d vectors, kernels at %s dimensions", o.knnVectors(), o.knnDimension(), o.kernelDimensions());
                sections.add(KnnSection.run(folder, o.work(), o.knnVectors(), o.knnDimension(), o.kernelDimensions(),
                        o.jmhWarmup(), o.jmhMeasure()));
            }
            sampler.close();
            load = sampler.samples();
            loadDuring = LoadLog.summary(sampler.log());
        }
        Report report = new Report(date, o.mode(), folder.toString().replace('\\', '/'), command,
                System.getProperty("report.revision"), Machine.current(), loadBefore,
                loadDuring, LoadSampler.now(), Duration.between(start, Instant.now()), load, sections);
        for (Path p : ReportWriter.write(report, folder)) {
            log("wrote %s", p);
        }
        if (o.updateReadme() != null) {
            String readme = Files.readString(o.updateReadme());
            Files.writeString(o.updateReadme(), ReadmeBlock.replace(readme, Files.readString(folder.resolve("headline.md"))),
                    StandardCharsets.UTF_8);
            log("replaced the headline block of %s", o.updateReadme());
        }
    }

    private static void log(String format, Object... args) {
        System.out.println(Instant.now().toString().substring(11, 19) + " report: " + String.format(format, args));
    }
}
