package io.github.mmapstore.benchmarks.report;

/**
 * What one system achieved in one operation of a report: throughput (in the comparison's throughput
 * unit) and the median and 99th percentile latency (in its latency unit). NaN = not measured (e.g. a
 * throughput-only JMH benchmark has no latency percentiles).
 */
public record Measurement(String system, double throughput, double median, double p99) {
    public Measurement {
        if (system == null || system.isBlank()) {
            throw new IllegalArgumentException("a measurement needs the name of the system measured");
        }
    }
}
