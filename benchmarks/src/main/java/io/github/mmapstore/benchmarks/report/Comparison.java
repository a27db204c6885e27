package io.github.mmapstore.benchmarks.report;

import java.util.List;

/**
 * One operation measured on several systems in the same run, e.g. "get, uniform" on MmapStore, RocksDB
 * and the in-memory store. {@code subject} (MmapStore) is compared with {@code baseline}; both must be
 * among the measurements. {@code headline} marks the rows that go into the report's headline table.
 * Ratios are always oriented so that > 1 means "better than the baseline": throughput = system /
 * baseline, latency = baseline / system.
 */
public record Comparison(String operation, String throughputUnit, String latencyUnit, String subject, String baseline,
                         boolean headline, List<Measurement> measurements) {
    public Comparison {
        measurements = List.copyOf(measurements);
        if (measurements.stream().map(Measurement::system).distinct().count() != measurements.size()) {
            throw new IllegalArgumentException("'" + operation + "' lists a system twice: "
                    + measurements.stream().map(Measurement::system).toList());
        }
        for (String s : List.of(subject, baseline)) {
            if (measurements.stream().noneMatch(m -> m.system().equals(s))) {
                throw new IllegalArgumentException("'" + operation + "' has no measurement of " + s + " (has "
                        + measurements.stream().map(Measurement::system).toList() + ")");
            }
        }
    }

    public Measurement of(String system) {
        return measurements.stream().filter(m -> m.system().equals(system)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("'" + operation + "' has no measurement of " + system));
    }

    /** {@code system}'s throughput over the baseline's (> 1 = more throughput). */
    public double throughputRatio(String system) {
        return of(system).throughput() / of(baseline).throughput();
    }

    /** The baseline's p99 latency over {@code system}'s (> 1 = shorter tail). */
    public double p99Ratio(String system) {
        return of(baseline).p99() / of(system).p99();
    }

    /** The baseline's median latency over {@code system}'s (> 1 = faster typical call). */
    public double medianRatio(String system) {
        return of(baseline).median() / of(system).median();
    }
}
