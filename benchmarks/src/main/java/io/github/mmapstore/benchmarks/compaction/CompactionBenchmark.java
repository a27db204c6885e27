package io.github.mmapstore.benchmarks.compaction;

import io.github.mmapstore.benchmarks.Dirs;
import io.github.mmapstore.benchmarks.report.LatencyHistogram;
import io.github.mmapstore.benchmarks.report.LoadLog;
import io.github.mmapstore.benchmarks.report.MachineInfo;
import io.github.mmapstore.benchmarks.store.HarnessStore;
import io.github.mmapstore.streams.MmapStores;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * Update-heavy workload for compaction (issue 7): {@code keys} distinct 16-byte keys, first loaded once,
 * then overwritten for {@code seconds} with keys drawn from a Zipf distribution (exponent 0.99 by default)
 * and 100-byte values, committing every {@code commitMs} as Kafka Streams does under exactly-once (the
 * store's commit is where MmapStore runs its compaction steps). Competitors run one after the other in
 * this JVM through {@code KeyValueStore<Bytes, byte[]>}, each initialised with a real
 * {@code StateStoreContext} (kafka-streams-test-utils' {@code MockProcessorContext}):
 *
 * <ul>
 *   <li>{@code mmapstore}: {@code MmapStores.persistentKeyValueStore}, default configuration (5 ms base
 *       compaction budget paced by compaction debt, space-amplification bound 1.5) as with a changelog:
 *       {@code mmapstore.log=false}, commits are marks, checkpoints written and synced in the background;</li>
 *   <li>{@code mmapstore-nocompaction}: the same with {@code mmapstore.compaction.budget.ms=0};</li>
 *   <li>{@code rocksdb}: Kafka's {@code Stores.persistentKeyValueStore} (RocksDBStore, Kafka's options).</li>
 * </ul>
 *
 * <p>Every {@code intervalSeconds} it records put latency (p50, p99, max), commit latency, throughput,
 * bytes on disk (a walk of the store directory), space amplification (disk bytes over live bytes, live =
 * the key and value bytes of every key's newest version), and bytes the process wrote to storage
 * ({@code /proc/self/io} write_bytes), from which write amplification = written bytes / user bytes put.
 */
public final class CompactionBenchmark {
    static final int KEY_BYTES = 16;
    static final String STORE_NAME = HarnessStore.STORE_NAME;
    static final TopicPartition INPUT_TP = HarnessStore.INPUT_TP;
    static final TopicPartition CHANGELOG_TP = new TopicPartition("mmapstore-bench-" + STORE_NAME + "-changelog", 0);
    static final String MMAPSTORE = "mmapstore";
    static final String MMAPSTORE_OFF = "mmapstore-nocompaction";
    static final String ROCKSDB = "rocksdb";
    /** Zipf draws precomputed and cycled (2^24): drawing by binary search inside the loop would dominate. */
    static final int DRAWS = 1 << 24;

    int keys = 10_000_000;
    int seconds = 180;
    int intervalSeconds = 5;
    double zipfExponent = 0.99;
    int valueBytes = 100;
    /** Values are between {@link #valueBytes} and this many bytes long (uniform per write); 0: all {@link #valueBytes}. */
    int valueBytesMax;
    long commitMs = 100;
    boolean preload = true;
    List<String> competitors = List.of(MMAPSTORE, MMAPSTORE_OFF, ROCKSDB);
    Path out = Path.of("benchmarks/results");
    Path work = Path.of("benchmarks/work");
    String date = LocalDate.now().toString();
    String name;
    Path loadLog;
    String revision;

    int[] draws;
    static volatile long sink;

    /** One row of the time series. */
    record Interval(double atSeconds, long puts, double putP50Micros, double putP99Micros, double putMaxMicros,
                    long commits, double commitP99Millis, double commitMaxMillis, long diskBytes, long liveBytes,
                    long writtenBytes, long userBytes) {
        double spaceAmplification() {
            return liveBytes == 0 ? Double.NaN : (double) diskBytes / liveBytes;
        }

        double putsPerSecond(int intervalSeconds) {
            return puts / (double) intervalSeconds;
        }
    }

    /** What one competitor did. */
    record Run(String kind, double preloadSeconds, long preloadWrittenBytes, List<Interval> intervals,
               LatencyHistogram puts, LatencyHistogram commits, long userBytes, long writtenBytes,
               Map<String, Double> engineCounters, long finalDiskBytes, long liveBytes) {
        double writeAmplification() {
            return userBytes == 0 ? Double.NaN : (double) writtenBytes / userBytes;
        }
    }

    public static void main(String[] args) throws Exception {
        CompactionBenchmark b = new CompactionBenchmark();
        b.parse(args);
        b.run();
    }

    void parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--keys" -> keys = Integer.parseInt(args[++i].replace("_", ""));
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--interval" -> intervalSeconds = Integer.parseInt(args[++i]);
                case "--zipf" -> zipfExponent = Double.parseDouble(args[++i]);
                case "--value-bytes" -> valueBytes = Integer.parseInt(args[++i]);
                case "--value-bytes-max" -> valueBytesMax = Integer.parseInt(args[++i]);
                case "--commit-ms" -> commitMs = Long.parseLong(args[++i]);
                case "--no-preload" -> preload = false;
                case "--competitors" -> competitors = List.of(args[++i].split(","));
                case "--out" -> out = Path.of(args[++i]);
                case "--work" -> work = Path.of(args[++i]);
                case "--date" -> date = args[++i];
                case "--name" -> name = args[++i];
                case "--load-log" -> loadLog = Path.of(args[++i]);
                case "--rev" -> revision = args[++i];
                default -> throw new IllegalArgumentException("unknown option " + a + "\nusage: CompactionBenchmark"
                        + " [--keys N] [--seconds S] [--interval S] [--zipf s] [--value-bytes N] [--value-bytes-max M] [--commit-ms MS]"
                        + " [--no-preload] [--competitors mmapstore,mmapstore-nocompaction,rocksdb] [--out DIR]"
                        + " [--work DIR] [--date D] [--name BASE] [--load-log FILE] [--rev TEXT]");
            }
        }
        if (keys < 1 || seconds < 1 || intervalSeconds < 1 || valueBytes < 8 || commitMs < 1) {
            throw new IllegalArgumentException("keys, seconds, interval, commit-ms must be positive and value-bytes at least 8");
        }
        if (valueBytesMax != 0 && (valueBytesMax < valueBytes || valueBytesMax > Short.MAX_VALUE)) {
            throw new IllegalArgumentException("value-bytes-max must be at least value-bytes (" + valueBytes + ") and at most "
                    + Short.MAX_VALUE + ", was " + valueBytesMax);
        }
        if (name == null) {
            // a second run on the same day must not overwrite the first one's results
            name = date + "-compaction";
            for (int n = 2; Files.exists(out.resolve(name + ".md")); n++) {
                name = date + "-compaction-" + n;
            }
        }
    }

    void run() throws IOException {
        Files.createDirectories(out);
        Files.createDirectories(work);
        System.out.printf(Locale.ROOT, "compaction benchmark: %,d keys, %d s per competitor, zipf %.2f, %d-byte values, commit every %d ms%n",
                keys, seconds, zipfExponent, valueBytes, commitMs);
        draws = zipf(keys, zipfExponent, DRAWS, new SplittableRandom(42));
        String started = Instant.now().toString();
        List<Run> runs = new ArrayList<>();
        for (String kind : competitors) {
            runs.add(runOne(kind));
        }
        CompactionReport report = new CompactionReport(this, runs, started);
        report.write(out.resolve(name + ".md"));
        CompactionCharts.write(runs, intervalSeconds, out.resolve(name + "-latency.png"), out.resolve(name + "-disk.png"));
        System.out.println("wrote " + out.resolve(name + ".md"));
    }

    // =============================================================================================
    // One competitor

    Run runOne(String kind) throws IOException {
        // MmapStore as it runs with a changelog: no log of its own (what mmapstore.log=auto chooses there; the
        // harness's context cannot name a changelog, so it is said), checkpoints at commits, synced off the thread
        Map<String, Object> config = kind.equals(MMAPSTORE_OFF)
                ? Map.of("mmapstore.compaction.budget.ms", "0", "mmapstore.log", "false")
                : kind.equals(MMAPSTORE) ? Map.of("mmapstore.log", "false") : Map.of();
        HarnessStore opened = HarnessStore.open(work, kind, "mmapstore-compaction-bench", config, props -> switch (kind) {
            case MMAPSTORE, MMAPSTORE_OFF -> MmapStores.persistentKeyValueStore(STORE_NAME).get();
            case ROCKSDB -> Stores.persistentKeyValueStore(STORE_NAME).get();
            default -> throw new IllegalArgumentException("unknown competitor " + kind);
        }, c -> c);
        KeyValueStore<Bytes, byte[]> store = opened.store();
        Path dir = opened.dir();
        var context = opened.context();
        try {
            // the current value length of every key (0: never written): live bytes for values of varying length
            short[] lengths = new short[keys];
            long[] live = {0};
            long offset = 0;
            long counter = 0;

            // ---- preload: every key once, in a scrambled order, committing as the phase does ----
            double preloadSeconds = 0;
            long preloadWritten = 0;
            if (preload) {
                System.out.printf(Locale.ROOT, "[%s] preloading %,d keys%n", kind, keys);
                long w0 = processWriteBytes();
                long t0 = System.nanoTime();
                long lastCommit = t0;
                long step = scrambleStep(keys);
                for (long j = 0; j < keys; j++) {
                    int k = (int) ((j * step) % keys);
                    byte[] v = value(counter++);
                    store.put(Bytes.wrap(key(k)), v);
                    track(lengths, live, k, v.length);
                    if ((j & 1023) == 0 && System.nanoTime() - lastCommit >= commitMs * 1_000_000L) {
                        store.commit(Map.of(CHANGELOG_TP, offset += 1024));
                        lastCommit = System.nanoTime();
                    }
                }
                store.commit(Map.of(CHANGELOG_TP, ++offset));
                preloadSeconds = (System.nanoTime() - t0) / 1e9;
                preloadWritten = processWriteBytes() - w0;
                System.out.printf(Locale.ROOT, "[%s] preload took %.1f s, disk %.2f GB%n", kind, preloadSeconds, diskBytes(dir) / 1e9);
            }

            // ---- the measured update phase ----
            List<Interval> intervals = new ArrayList<>();
            LatencyHistogram allPuts = new LatencyHistogram();
            LatencyHistogram allCommits = new LatencyHistogram();
            LatencyHistogram putsNow = new LatencyHistogram();
            LatencyHistogram commitsNow = new LatencyHistogram();
            long phaseWritten0 = processWriteBytes();
            long intervalWritten0 = phaseWritten0;
            long userBytes = 0;
            long intervalUser = 0;
            long start = System.nanoTime();
            long end = start + seconds * 1_000_000_000L;
            long nextInterval = start + intervalSeconds * 1_000_000_000L;
            long lastCommit = start;
            int d = 0;
            long now = start;
            while (now < end) {
                for (int b = 0; b < 256; b++) {
                    int k = draws[d];
                    d = (d + 1) & (DRAWS - 1);
                    Bytes key = Bytes.wrap(key(k));
                    byte[] v = value(counter++);
                    long t = System.nanoTime();
                    store.put(key, v);
                    putsNow.record(System.nanoTime() - t);
                    track(lengths, live, k, v.length);
                    intervalUser += KEY_BYTES + v.length;
                }
                now = System.nanoTime();
                if (now - lastCommit >= commitMs * 1_000_000L) {
                    long t = System.nanoTime();
                    store.commit(Map.of(CHANGELOG_TP, offset += 256));
                    now = System.nanoTime();
                    commitsNow.record(now - t);
                    lastCommit = now;
                }
                if (now >= nextInterval || now >= end) {
                    long w = processWriteBytes();
                    intervals.add(new Interval((now - start) / 1e9, putsNow.count(), putsNow.percentileNanos(50) / 1e3,
                            putsNow.percentileNanos(99) / 1e3, putsNow.maxNanos() / 1e3, commitsNow.count(),
                            commitsNow.percentileNanos(99) / 1e6, commitsNow.maxNanos() / 1e6, diskBytes(dir), live[0],
                            w - intervalWritten0, intervalUser));
                    Interval last = intervals.get(intervals.size() - 1);
                    System.out.printf(Locale.ROOT, "[%s] %5.0f s  %,9.0f puts/s  put p50 %.2f p99 %.2f max %.0f us  commit p99 %.1f max %.1f ms  disk %.2f GB  space amp %.2f  wrote %.0f MB%n",
                            kind, last.atSeconds(), last.putsPerSecond(intervalSeconds), last.putP50Micros(), last.putP99Micros(),
                            last.putMaxMicros(), last.commitP99Millis(), last.commitMaxMillis(), last.diskBytes() / 1e9,
                            last.spaceAmplification(), last.writtenBytes() / 1e6);
                    allPuts.add(putsNow);
                    allCommits.add(commitsNow);
                    putsNow = new LatencyHistogram();
                    commitsNow = new LatencyHistogram();
                    userBytes += intervalUser;
                    intervalUser = 0;
                    intervalWritten0 = w;
                    nextInterval += intervalSeconds * 1_000_000_000L;
                    now = System.nanoTime();
                }
            }
            store.commit(Map.of(CHANGELOG_TP, ++offset));
            long phaseWritten = processWriteBytes() - phaseWritten0;
            Map<String, Double> counters = mmapCounters(context.metrics().metrics());
            return new Run(kind, preloadSeconds, preloadWritten, intervals, allPuts, allCommits, userBytes, phaseWritten,
                    counters, diskBytes(dir), live[0]);
        } finally {
            store.close();
            Dirs.deleteRecursively(dir);
        }
    }

    /** MmapStore's own gauges (empty for RocksDB), read through the StreamsMetrics they are registered with. */
    static Map<String, Double> mmapCounters(Map<MetricName, ? extends Metric> metrics) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
            String n = e.getKey().name();
            if (n.startsWith("mmapstore-") && e.getValue().metricValue() instanceof Double v) {
                out.put(n, v);
            }
        }
        return out;
    }

    // =============================================================================================
    // Data

    /** 16-byte key: a mix of the index (so hot keys spread over the key space), then the index. */
    static byte[] key(int k) {
        long h = mix(k);
        byte[] b = new byte[KEY_BYTES];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (h >>> (56 - 8 * i));
            b[8 + i] = (byte) ((long) k >>> (56 - 8 * i));
        }
        return b;
    }

    static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }

    /** Live bytes (keys and values of every key's newest version) after key {@code k} got a value of {@code length}. */
    static void track(short[] lengths, long[] live, int k, int length) {
        live[0] += lengths[k] == 0 ? KEY_BYTES + length : length - lengths[k];
        lengths[k] = (short) length;
    }

    /** A fresh value per write, as a serializer would produce; a counter stamped in front. */
    byte[] value(long counter) {
        int length = valueBytesMax == 0 ? valueBytes : valueBytes + (int) Long.remainderUnsigned(mix(counter), valueBytesMax - valueBytes + 1);
        byte[] v = new byte[length];
        for (int i = 0; i < 8; i++) {
            v[i] = (byte) (counter >>> (56 - 8 * i));
        }
        for (int i = 8; i < length; i++) {
            v[i] = (byte) (i * 31 + counter);
        }
        return v;
    }

    /** A step coprime with n, so that j * step mod n visits every key once in a scattered order. */
    static long scrambleStep(int n) {
        long s = (long) (n * 0.6180339887) | 1;
        while (gcd(s, n) != 1) {
            s += 2;
        }
        return s;
    }

    static long gcd(long a, long b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    /** {@code count} key indices from a Zipf distribution over {@code n} ranks, rank mapped to a scattered key. */
    static int[] zipf(int n, double s, int count, SplittableRandom r) {
        double[] cdf = new double[n];
        double sum = 0;
        for (int k = 0; k < n; k++) {
            sum += 1.0 / Math.pow(k + 1, s);
            cdf[k] = sum;
        }
        long step = scrambleStep(n);
        int[] outIdx = new int[count];
        for (int i = 0; i < count; i++) {
            double x = r.nextDouble() * sum;
            int at = Arrays.binarySearch(cdf, x);
            int rank = at >= 0 ? at : Math.min(n - 1, -at - 1);
            outIdx[i] = (int) ((rank * step) % n);
        }
        return outIdx;
    }

    // =============================================================================================
    // Measurement

    static long diskBytes(Path dir) {
        long[] n = {0};
        try (Stream<Path> s = Files.walk(dir)) {
            s.forEach(p -> {
                try {
                    if (Files.isRegularFile(p)) {
                        n[0] += Files.size(p);
                    }
                } catch (IOException gone) {
                    // deleted while walking (a compaction input, an SST file): skip
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // racing a deletion: keep what was counted
        }
        return n[0];
    }

    /** Bytes this process caused to be written to storage so far (/proc/self/io write_bytes), or -1. */
    static long processWriteBytes() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/io"))) {
                if (l.startsWith("write_bytes:")) {
                    return Long.parseLong(l.substring(12).trim());
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    String machine() {
        return MachineInfo.cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " cores, "
                + MachineInfo.memTotal() + " RAM, Linux " + MachineInfo.readTrim("/proc/sys/kernel/osrelease", "?")
                + ", JDK " + Runtime.version() + ", max heap " + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB";
    }

    String load() {
        return loadLog == null ? "load log not given; at the end: " + MachineInfo.readTrim("/proc/loadavg", "?")
                : LoadLog.summaryWithStart(loadLog);
    }
}
