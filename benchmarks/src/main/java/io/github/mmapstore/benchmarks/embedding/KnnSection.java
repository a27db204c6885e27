package io.github.mmapstore.benchmarks.embedding;

import io.github.mmapstore.benchmarks.report.Comparison;
import io.github.mmapstore.benchmarks.report.Measurement;
import io.github.mmapstore.benchmarks.report.Section;
import io.github.mmapstore.benchmarks.vector.VectorKernelBenchmark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.util.Statistics;

/**
 * The kNN part of the benchmark report, run through JMH's API (forked JVMs, like the command line):
 * {@link EmbeddingScanBenchmark}'s exact top-10 scan of the store against the memory bandwidth of the
 * same mapping and against Lucene's {@code VectorUtil} over heap rows, and {@link VectorKernelBenchmark}'s
 * SIMD kernels against the scalar fallback. JMH's JSON goes into the report folder.
 */
public final class KnnSection {
    static final String STORE = "MmapStore search (SIMD, mapped)";
    static final String LUCENE = "Lucene VectorUtil (heap)";
    static final String BANDWIDTH = "memory bandwidth (SIMD sum)";

    private KnnSection() {
    }

    /**
     * @param warmup  JMH warm-up {iterations, seconds}
     * @param measure JMH measurement {iterations, seconds}
     */
    public static Section run(Path folder, Path work, int n, int dimension, List<Integer> kernelDimensions, int[] warmup,
                              int[] measure) throws RunnerException {
        Path scanJson = folder.resolve("knn-scan.json");
        Collection<RunResult> scan = new Runner(options(warmup, measure, work)
                .include(Pattern.quote(EmbeddingScanBenchmark.class.getName()) + "\\.(scanTopK|bandwidthSum|luceneHeap)$")
                .param("n", Integer.toString(n))
                .param("dimension", Integer.toString(dimension))
                .mode(Mode.SampleTime)
                .timeUnit(TimeUnit.MILLISECONDS)
                .result(scanJson.toString())
                .build()).run();
        Path kernelJson = folder.resolve("knn-kernels.json");
        Collection<RunResult> kernels = new Runner(options(warmup, measure, work)
                .include(Pattern.quote(VectorKernelBenchmark.class.getName()) + "\\.(dot|cosine)$")
                .param("kernels", "simd", "scalar")
                .param("memory", "arena")
                .param("dimension", kernelDimensions.stream().map(String::valueOf).toArray(String[]::new))
                .warmupTime(TimeValue.seconds(1))
                .measurementTime(TimeValue.seconds(1))
                .result(kernelJson.toString())
                .build()).run();

        List<Comparison> rows = new ArrayList<>();
        Statistics store = stats(scan, "scanTopK");
        Statistics lucene = stats(scan, "luceneHeap");
        Statistics bandwidth = stats(scan, "bandwidthSum");
        double gigabytes = (double) n * dimension * Float.BYTES / 1e9;
        String what = String.format(Locale.ROOT, "top-10 scan of %s × %d vectors", count(n), dimension);
        rows.add(new Comparison(what + " vs Lucene", "GB/s", "ms/scan", STORE, LUCENE, true,
                List.of(scanMeasurement(STORE, store, gigabytes), scanMeasurement(LUCENE, lucene, gigabytes))));
        rows.add(new Comparison(what + " vs memory bandwidth", "GB/s", "ms/scan", STORE, BANDWIDTH, true,
                List.of(scanMeasurement(STORE, store, gigabytes), scanMeasurement(BANDWIDTH, bandwidth, gigabytes))));
        for (String kernel : List.of("dot", "cosine")) {
            for (int d : kernelDimensions) {
                Statistics simd = stats(kernels, kernel, "simd", d);
                Statistics scalar = stats(kernels, kernel, "scalar", d);
                // Throughput mode: the statistics are per-iteration scores (rows/s), so the median is the
                // median iteration; there are no per-call latencies.
                rows.add(new Comparison(kernel + " kernel, " + d + " dimensions: SIMD vs scalar", "M rows/s", "", "SIMD (Vector API)",
                        "scalar", false, List.of(
                        new Measurement("SIMD (Vector API)", simd.getPercentile(50) / 1e6, Double.NaN, Double.NaN),
                        new Measurement("scalar", scalar.getPercentile(50) / 1e6, Double.NaN, Double.NaN))));
            }
        }
        String description = String.format(Locale.ROOT, """
                JMH, one fork per benchmark, warm-up %d × %d s, measurement %d × %d s (kernels: 1 s iterations). \
                `EmbeddingScanBenchmark`: exact top-10 (dot product) over %s random vectors of %d floats (%.2f GB) in an \
                embedding store compacted to one segment (built once under the work directory, then in the page cache), \
                sample mode: one sample = one full scan; throughput = vector bytes / median scan time. Yardsticks in the \
                same run: a plain SIMD sum over the same mapped column (the memory read bandwidth the scan can reach) \
                and Lucene 10.3's `VectorUtil.dotProduct` over the same vectors as heap `float[]` rows (6 GB heap fork). \
                `VectorKernelBenchmark`: one query scored against 1,000 cache-resident rows, the store's SIMD kernels vs \
                its scalar fallback; median of the iteration scores.""",
                warmup[0], warmup[1], measure[0], measure[1], count(n), dimension, gigabytes);
        return new Section("knn", "kNN: embedding scan and similarity kernels", description, rows,
                List.of("Raw JMH output: [knn-scan.json](knn-scan.json), [knn-kernels.json](knn-kernels.json)"));
    }

    private static ChainedOptionsBuilder options(int[] warmup, int[] measure, Path work) {
        return new OptionsBuilder()
                .forks(1)
                .warmupIterations(warmup[0])
                .warmupTime(TimeValue.seconds(warmup[1]))
                .measurementIterations(measure[0])
                .measurementTime(TimeValue.seconds(measure[1]))
                // The forks build and reopen the embedding store under bench.dir.
                .jvmArgsPrepend("-Dbench.dir=" + work.toAbsolutePath())
                .resultFormat(ResultFormatType.JSON)
                .shouldFailOnError(true);
    }

    private static Measurement scanMeasurement(String system, Statistics ms, double gigabytes) {
        return new Measurement(system, gigabytes / (ms.getPercentile(50) / 1e3), ms.getPercentile(50), ms.getPercentile(99));
    }

    private static Statistics stats(Collection<RunResult> results, String method, String kernels, int dimension) {
        return results.stream()
                .filter(r -> r.getParams().getBenchmark().endsWith("." + method))
                .filter(r -> kernels.equals(r.getParams().getParam("kernels")))
                .filter(r -> Integer.toString(dimension).equals(r.getParams().getParam("dimension")))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("JMH returned no result for " + method + " kernels=" + kernels
                        + " dimension=" + dimension))
                .getPrimaryResult().getStatistics();
    }

    private static Statistics stats(Collection<RunResult> results, String method) {
        return results.stream()
                .filter(r -> r.getParams().getBenchmark().endsWith("." + method))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("JMH returned no result for " + method))
                .getPrimaryResult().getStatistics();
    }

    static String count(int n) {
        return n % 1_000_000 == 0 ? (n / 1_000_000) + "M" : n % 1_000 == 0 ? (n / 1_000) + "k" : Integer.toString(n);
    }
}
