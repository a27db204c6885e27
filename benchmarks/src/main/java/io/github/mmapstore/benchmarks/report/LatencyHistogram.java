package io.github.mmapstore.benchmarks.report;

/**
 * Log-linear latency histogram of nanosecond values (64 sub-buckets per power of two, so any recorded
 * value is reported within 1.6 %). Allocation-free recording, so it can sit inside the measured loop.
 * Shared by the store-level and topology harnesses.
 */
public final class LatencyHistogram {
    private static final int SUB_BITS = 6;
    private static final int SUB = 1 << SUB_BITS;
    private final long[] counts = new long[(64 - SUB_BITS + 1) * SUB];
    private long total;
    private long sum;
    private long max;

    public void record(long nanos) {
        long v = Math.max(0, nanos);
        counts[index(v)]++;
        total++;
        sum += v;
        if (v > max) {
            max = v;
        }
    }

    /** Adds all of {@code o}'s recordings to this one. */
    public void add(LatencyHistogram o) {
        for (int i = 0; i < counts.length; i++) {
            counts[i] += o.counts[i];
        }
        total += o.total;
        sum += o.sum;
        max = Math.max(max, o.max);
    }

    public static int index(long v) {
        if (v < SUB) {
            return (int) v;
        }
        int e = 63 - Long.numberOfLeadingZeros(v);
        int shift = e - SUB_BITS;
        return (shift + 1) * SUB + (int) ((v >>> shift) - SUB);
    }

    /** The middle of bucket {@code i}. */
    public static double valueAt(int i) {
        if (i < SUB) {
            return i;
        }
        int shift = i / SUB - 1;
        long lo = ((long) (i % SUB) + SUB) << shift;
        long width = 1L << shift;
        return lo + (width - 1) / 2.0;
    }

    public long count() {
        return total;
    }

    public long sumNanos() {
        return sum;
    }

    public double meanNanos() {
        return total == 0 ? Double.NaN : (double) sum / total;
    }

    public long maxNanos() {
        return max;
    }

    /** The value at percentile {@code p} (0..100), in nanoseconds. */
    public double percentileNanos(double p) {
        if (total == 0) {
            return Double.NaN;
        }
        long rank = (long) Math.ceil(p / 100.0 * total);
        rank = Math.max(1, Math.min(total, rank));
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= rank) {
                return Math.min(valueAt(i), max);
            }
        }
        return max;
    }
}
