package io.github.mmapstore.benchmarks.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Samples /proc/loadavg every {@code periodSeconds} on a daemon thread while a report runs (other
 * processes on a shared machine skew the figures, so the report says how busy it was). Writes the same
 * "HH:MM:SS &lt;loadavg&gt;" lines as {@code benchmarks/lib.sh}, so {@link LoadLog} and the harnesses'
 * {@code --load-log} option read them, and keeps the samples for the load chart.
 */
public final class LoadSampler implements AutoCloseable {
    /** One sample: seconds since the sampler started, and the 1-, 5- and 15-minute load averages. */
    public record Sample(double seconds, double load1, double load5, double load15) {
    }

    private static final Path LOADAVG = Path.of("/proc/loadavg");
    private final Path log;
    private final long start = System.nanoTime();
    private final List<Sample> samples = new ArrayList<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "load-sampler");
        t.setDaemon(true);
        return t;
    });

    public LoadSampler(Path log, int periodSeconds) throws IOException {
        this.log = log;
        Path parent = log.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Files.writeString(log, "");
        timer.scheduleAtFixedRate(this::sample, 0, periodSeconds, TimeUnit.SECONDS);
    }

    public Path log() {
        return log;
    }

    /** The current /proc/loadavg line, or "n/a" where there is none. */
    public static String now() {
        return MachineInfo.readTrim(LOADAVG.toString(), "n/a");
    }

    private void sample() {
        String line = now();
        String[] f = line.split("\\s+");
        if (f.length < 3) {
            return; // not Linux: nothing to record
        }
        try {
            Sample s = new Sample((System.nanoTime() - start) / 1e9, Double.parseDouble(f[0]), Double.parseDouble(f[1]),
                    Double.parseDouble(f[2]));
            synchronized (samples) {
                samples.add(s);
            }
            Files.writeString(log, LocalTime.now().format(DateTimeFormatter.ofPattern("HH:mm:ss")) + " " + line + "\n",
                    StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            // A scheduled task that throws is silently never run again: say so, keep sampling.
            System.err.println("load sampler: cannot append to " + log + ": " + e.getMessage());
        }
    }

    public List<Sample> samples() {
        synchronized (samples) {
            return List.copyOf(samples);
        }
    }

    /** Stops sampling after one last sample; later calls do nothing. */
    @Override
    public void close() {
        if (!timer.isShutdown()) {
            timer.shutdownNow();
            sample();
        }
    }
}
