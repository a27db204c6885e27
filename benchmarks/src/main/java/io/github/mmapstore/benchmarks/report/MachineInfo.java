package io.github.mmapstore.benchmarks.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** Facts about the machine a benchmark ran on, for the "Machine" section of the reports (Linux /proc). */
public final class MachineInfo {
    private MachineInfo() {
    }

    /** The CPU's model name, or the architecture where /proc/cpuinfo is not there. */
    public static String cpuModel() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) {
                    return l.substring(l.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException ignored) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }

    /**
     * The SIMD-related CPU flags (avx, avx2, avx512*, fma) from /proc/cpuinfo, space-separated, or "unknown"
     * where there is no /proc/cpuinfo.
     */
    public static String simdFlags() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("flags")) {
                    return java.util.Arrays.stream(l.substring(l.indexOf(':') + 1).trim().split("\\s+"))
                            .filter(f -> f.startsWith("avx") || f.equals("fma") || f.startsWith("sse4"))
                            .sorted().collect(java.util.stream.Collectors.joining(" "));
                }
            }
        } catch (IOException ignored) {
            // not Linux
        }
        return "unknown";
    }

    /** The operating system's pretty name (/etc/os-release) or os.name. */
    public static String osName() {
        try {
            for (String l : Files.readAllLines(Path.of("/etc/os-release"))) {
                if (l.startsWith("PRETTY_NAME=")) {
                    return l.substring("PRETTY_NAME=".length()).replace("\"", "");
                }
            }
        } catch (IOException ignored) {
            // not Linux
        }
        return System.getProperty("os.name");
    }

    /** Total memory as "N.N GiB", or "unknown". */
    public static String memTotal() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (l.startsWith("MemTotal:")) {
                    long kb = Long.parseLong(l.replaceAll("[^0-9]", ""));
                    return String.format(Locale.ROOT, "%.1f GiB", kb / 1024.0 / 1024.0);
                }
            }
        } catch (IOException | NumberFormatException ignored) {
            // not Linux
        }
        return "unknown";
    }

    /** The trimmed contents of a file (e.g. /proc/sys/kernel/osrelease, /proc/loadavg), or {@code fallback}. */
    public static String readTrim(String path, String fallback) {
        try {
            return Files.readString(Path.of(path)).trim();
        } catch (IOException e) {
            return fallback;
        }
    }
}
