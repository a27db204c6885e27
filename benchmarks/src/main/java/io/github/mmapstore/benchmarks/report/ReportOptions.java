package io.github.mmapstore.benchmarks.report;

import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The command line of {@link BenchmarkReport}: mode ({@code --quick}: a few minutes; default full), sizes,
 * sections, folders. Parsing rejects anything it does not understand with a message naming the argument.
 *
 * @param sections            which parts run, in report order: store, topology, knn
 * @param storeKeys           keys loaded into each store at store level
 * @param storeRanges         range scans per pass at store level
 * @param storeCommits        commit cycles (10,000 writes + commit) at store level
 * @param topologyRecords     records per measured topology run (each of the two topologies)
 * @param topologyRounds      measured rounds per topology and store (store order alternates)
 * @param topologyWarmup      warm-up records per topology and store
 * @param knnVectors          vectors in the embedding store scanned by the kNN benchmark
 * @param knnDimension        their dimension
 * @param kernelDimensions    dimensions of the SIMD-vs-scalar kernel benchmark
 * @param jmhWarmup           JMH warm-up iterations × seconds (kNN)
 * @param jmhMeasure          JMH measurement iterations × seconds (kNN)
 * @param updateReadme        README whose block between {@code <!-- headline-table -->} markers is replaced, or null
 */
public record ReportOptions(boolean quick, LocalDate date, Path out, Path work, List<String> sections, int storeKeys,
                            int storeRanges, int storeCommits, long topologyRecords, int topologyRounds, long topologyWarmup,
                            int knnVectors, int knnDimension, List<Integer> kernelDimensions, int[] jmhWarmup,
                            int[] jmhMeasure, Path updateReadme) {
    public static final List<String> ALL_SECTIONS = List.of("store", "topology", "knn");

    public static String usage() {
        return """
                usage: BenchmarkReport [--quick] [--date YYYY-MM-DD] [--out DIR] [--work DIR] [--sections store,topology,knn]
                                       [--store-keys N] [--store-ranges N] [--store-commits N]
                                       [--topology-records N] [--topology-rounds N] [--topology-warmup N]
                                       [--knn-vectors N] [--knn-dimension N] [--kernel-dimensions N,N,...]
                                       [--update-readme README.md]
                  --quick     small sizes, a few minutes in total (default: the full sizes, about 15-30 minutes on 2 cores)
                  --out       results root; the report goes to <out>/<date>/ (default benchmarks/results)
                  --work      scratch space for stores and state directories (default benchmarks/work/report)
                  sizes accept 1_000_000-style underscores; every size must be positive""";
    }

    /** Parses {@code args}; throws {@link IllegalArgumentException} naming the offending argument. */
    public static ReportOptions parse(String... args) {
        boolean quick = List.of(args).contains("--quick");
        LocalDate date = LocalDate.now();
        Path out = Path.of("benchmarks/results");
        Path work = Path.of("benchmarks/work/report");
        List<String> sections = ALL_SECTIONS;
        int storeKeys = quick ? 200_000 : 1_000_000;
        int storeRanges = quick ? 20_000 : 50_000;
        int storeCommits = quick ? 20 : 50;
        long topologyRecords = quick ? 100_000 : 1_000_000;
        int topologyRounds = quick ? 1 : 2;
        long topologyWarmup = quick ? 50_000 : 200_000;
        int knnVectors = quick ? 100_000 : 1_000_000;
        int knnDimension = 768;
        List<Integer> kernelDimensions = quick ? List.of(768) : List.of(128, 384, 768, 1536);
        int[] jmhWarmup = quick ? new int[] {1, 2} : new int[] {2, 3};
        int[] jmhMeasure = quick ? new int[] {3, 2} : new int[] {4, 4};
        Path updateReadme = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--quick" -> { }
                case "--date" -> {
                    String v = value(args, i++);
                    try {
                        date = LocalDate.parse(v);
                    } catch (DateTimeParseException e) {
                        throw new IllegalArgumentException("--date wants YYYY-MM-DD, got '" + v + "'");
                    }
                }
                case "--out" -> out = Path.of(value(args, i++));
                case "--work" -> work = Path.of(value(args, i++));
                case "--sections" -> sections = sections(value(args, i++));
                case "--store-keys" -> storeKeys = positiveInt(a, value(args, i++));
                case "--store-ranges" -> storeRanges = positiveInt(a, value(args, i++));
                case "--store-commits" -> storeCommits = positiveInt(a, value(args, i++));
                case "--topology-records" -> topologyRecords = positiveInt(a, value(args, i++));
                case "--topology-rounds" -> topologyRounds = positiveInt(a, value(args, i++));
                case "--topology-warmup" -> topologyWarmup = positiveInt(a, value(args, i++));
                case "--knn-vectors" -> knnVectors = positiveInt(a, value(args, i++));
                case "--knn-dimension" -> knnDimension = positiveInt(a, value(args, i++));
                case "--kernel-dimensions" -> {
                    List<Integer> dims = new ArrayList<>();
                    for (String d : value(args, i++).split(",")) {
                        dims.add(positiveInt(a, d));
                    }
                    kernelDimensions = List.copyOf(dims);
                }
                case "--update-readme" -> updateReadme = Path.of(value(args, i++));
                default -> throw new IllegalArgumentException("unknown argument '" + a + "'");
            }
        }
        if (storeKeys <= 100) {
            throw new IllegalArgumentException("--store-keys must be more than 100 (the range scans read 100 keys), got " + storeKeys);
        }
        return new ReportOptions(quick, date, out, work, sections, storeKeys, storeRanges, storeCommits, topologyRecords,
                topologyRounds, topologyWarmup, knnVectors, knnDimension, kernelDimensions, jmhWarmup, jmhMeasure, updateReadme);
    }

    public String mode() {
        return quick ? "quick" : "full";
    }

    /** The report's folder: {@code <out>/<date>}. */
    public Path folder() {
        return out.resolve(date.toString());
    }

    public boolean runs(String section) {
        return sections.contains(section);
    }

    private static String value(String[] args, int i) {
        if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
            throw new IllegalArgumentException(args[i] + " needs a value");
        }
        return args[i + 1];
    }

    private static int positiveInt(String option, String v) {
        int n;
        try {
            n = Integer.parseInt(v.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " wants a whole number, got '" + v + "'");
        }
        if (n <= 0) {
            throw new IllegalArgumentException(option + " must be positive, got " + n);
        }
        return n;
    }

    private static List<String> sections(String v) {
        Set<String> s = new LinkedHashSet<>();
        for (String part : v.split(",")) {
            String p = part.trim().toLowerCase(Locale.ROOT);
            if (!ALL_SECTIONS.contains(p)) {
                throw new IllegalArgumentException("--sections: unknown section '" + part + "' (known: "
                        + String.join(", ", ALL_SECTIONS) + ")");
            }
            s.add(p);
        }
        // Report order is fixed, whatever order they were named in.
        return ALL_SECTIONS.stream().filter(s::contains).toList();
    }
}
