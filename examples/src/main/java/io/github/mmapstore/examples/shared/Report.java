package io.github.mmapstore.examples.shared;

import java.util.Locale;

/** The examples' console report: plain lines on standard output, figures formatted one way everywhere. */
public final class Report {
    private Report() {
    }

    public static void say(String format, Object... args) {
        System.out.println(String.format(Locale.ROOT, format, args));
    }

    public static void section(String title) {
        System.out.println();
        System.out.println("== " + title);
    }

    public static String secs(long nanos) {
        return String.format(Locale.ROOT, "%.2f s", nanos / 1e9);
    }

    public static String ms(long nanos) {
        return String.format(Locale.ROOT, "%.1f ms", nanos / 1e6);
    }

    /** {@code count} per second over {@code nanos}, e.g. {@code "12,345 records/s"}. */
    public static String rate(long count, long nanos, String unit) {
        return String.format(Locale.ROOT, "%,.0f %s/s", count / Math.max(1e-9, nanos / 1e9), unit);
    }

    public static String bytes(long b) {
        if (b < 0) {
            return "-" + bytes(-b);
        }
        if (b < 1024) {
            return b + " B";
        }
        if (b < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", b / 1024.0);
        }
        if (b < 1024L * 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f MiB", b / (1024.0 * 1024));
        }
        return String.format(Locale.ROOT, "%.2f GiB", b / (1024.0 * 1024 * 1024));
    }
}
