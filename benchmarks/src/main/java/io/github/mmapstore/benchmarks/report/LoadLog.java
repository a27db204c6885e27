package io.github.mmapstore.benchmarks.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Summary of a load-average log as written by the run scripts ({@code benchmarks/lib.sh}): lines of
 * "HH:MM:SS <contents of /proc/loadavg>", one every 10 s.
 */
public final class LoadLog {
    private LoadLog() {
    }

    /** Statistics of the 1-minute load average; {@code first} is null when there are no samples. */
    private record Stats(String first, double min, double max, double sum, int n) {
    }

    private static Stats read(Path log) throws IOException {
        double min = Double.MAX_VALUE;
        double max = 0;
        double sum = 0;
        int n = 0;
        String first = null;
        for (String l : Files.readAllLines(log)) {
            String[] p = l.trim().split("\\s+");
            if (p.length >= 2) {
                double v = Double.parseDouble(p[1]);
                if (first == null) {
                    first = p[1];
                }
                min = Math.min(min, v);
                max = Math.max(max, v);
                sum += v;
                n++;
            }
        }
        return new Stats(first, min, max, sum, n);
    }

    /** min / mean / max of the 1-minute load average. */
    public static String summary(Path log) {
        try {
            Stats s = read(log);
            return s.n() == 0 ? "no samples" : String.format(Locale.ROOT,
                    "1-min loadavg min %.2f / mean %.2f / max %.2f over %d samples", s.min(), s.sum() / s.n(), s.max(), s.n());
        } catch (IOException | NumberFormatException e) {
            return "unavailable (" + e.getMessage() + ")";
        }
    }

    /** First value, then min / mean / max of the 1-minute load average. */
    public static String summaryWithStart(Path log) {
        try {
            Stats s = read(log);
            return s.n() == 0 ? "no samples" : String.format(Locale.ROOT,
                    "1-min loadavg at start %s; during the run min %.2f / mean %.2f / max %.2f over %d samples (every 10 s)",
                    s.first(), s.min(), s.sum() / s.n(), s.max(), s.n());
        } catch (IOException | NumberFormatException e) {
            return "unavailable (" + e.getMessage() + ")";
        }
    }
}
