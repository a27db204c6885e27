package io.github.mmapstore.examples;

import io.github.mmapstore.engine.EngineConfig;
import io.github.mmapstore.engine.EngineIterator;
import io.github.mmapstore.engine.EngineStats;
import io.github.mmapstore.engine.KeyValue;
import io.github.mmapstore.engine.OpenReport;
import io.github.mmapstore.engine.StoreEngine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The storage engine on its own, with real figures: loads a million keys with a durable commit every
 * 10,000 writes and time-boxed compaction after each commit (what the Kafka layer does), reads them
 * back at random and in ranges, then "crashes" with uncommitted writes in the log and in a flushed
 * segment, reopens, and checks that exactly the committed state came back.
 *
 * <p>Usage: {@code EngineDemo [store-dir] [keys]}. Without a directory it works in a temporary one and
 * deletes it at the end; a given directory must be empty or absent and is kept.
 */
public final class EngineDemo {
    private static final int VALUE_BYTES = 100;
    private static final int COMMIT_EVERY = 10_000;
    private static final long COMPACTION_BUDGET_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    private static final long MEMTABLE_BYTES = 16L * 1024 * 1024;

    private final int n;
    private final Path dir;
    private int failures;

    private EngineDemo(Path dir, int n) {
        this.dir = dir;
        this.n = n;
    }

    public static void main(String[] args) throws IOException {
        int n = args.length > 1 ? Integer.parseInt(args[1].replace("_", "")) : 1_000_000;
        if (n < 10_000) {
            throw new IllegalArgumentException("use at least 10000 keys, was " + n);
        }
        boolean temp = args.length == 0 || args[0].isBlank();
        Path dir;
        if (temp) {
            dir = Files.createTempDirectory("mmapstore-demo-");
        } else {
            dir = Paths.get(args[0]).toAbsolutePath();
            if (Files.exists(dir)) {
                try (Stream<Path> s = Files.list(dir)) {
                    if (s.findAny().isPresent()) {
                        System.err.println("EngineDemo: " + dir + " is not empty; give an empty or new directory");
                        System.exit(2);
                    }
                }
            }
        }
        EngineDemo demo = new EngineDemo(dir, n);
        long start = System.nanoTime();
        try {
            demo.run();
        } finally {
            if (temp) {
                deleteTree(dir);
            }
        }
        System.out.printf(Locale.ROOT, "%nDone in %.1f s%s.%n", (System.nanoTime() - start) / 1e9,
                temp ? " (temporary store deleted)" : " (store kept in " + dir + ")");
        if (demo.failures > 0) {
            System.out.println(demo.failures + " CHECK(S) FAILED");
            System.exit(1);
        }
    }

    private void run() throws IOException {
        EngineConfig config = EngineConfig.defaults().withMemtableBytes(MEMTABLE_BYTES);
        System.out.printf(Locale.ROOT, "MmapStore engine demo on Java %s, %d cores%n", Runtime.version(),
                Runtime.getRuntime().availableProcessors());
        System.out.printf(Locale.ROOT, "store: %s%n", dir);
        System.out.printf(Locale.ROOT,
                "config: memtable %d MiB, log buffer %d KiB, fsync=%s, compaction trigger %d segments%n",
                config.memtableBytes() >> 20, config.logBufferBytes() >> 10, config.fsync(), config.compactionTrigger());

        long lastCommitted;
        try (StoreEngine engine = StoreEngine.open(dir, config)) {
            lastCommitted = load(engine);
            randomGets(engine);
            scans(engine);
            lastCommitted = crash(engine, lastCommitted);
        }
        recover(config, lastCommitted);
    }

    // ---------------------------------------------------------------------------------------------
    // 1. Load
    // ---------------------------------------------------------------------------------------------

    private long load(StoreEngine engine) {
        section("1. Load: " + fmt(n) + " puts of " + VALUE_BYTES + "-byte values, commit every " + fmt(COMMIT_EVERY)
                + ", compaction steps of " + TimeUnit.NANOSECONDS.toMillis(COMPACTION_BUDGET_NANOS) + " ms after each commit");
        long[] commitNanos = new long[(n + COMMIT_EVERY - 1) / COMMIT_EVERY];
        long[] stepNanos = new long[commitNanos.length];
        int commits = 0;
        long putNanos = 0;
        long compactNanos = 0;
        int maxSegments = 0;
        long start = System.nanoTime();
        long mark = start;
        for (int k = 0; k < n; k++) {
            int i = permute(k);
            engine.put(key(i), value(i, 1));
            if ((k + 1) % COMMIT_EVERY == 0 || k == n - 1) {
                long t0 = System.nanoTime();
                putNanos += t0 - mark;
                engine.commit(offsetMetadata(k));
                long t1 = System.nanoTime();
                commitNanos[commits] = t1 - t0;
                maxSegments = Math.max(maxSegments, engine.stats().segments());
                engine.compact(COMPACTION_BUDGET_NANOS);
                long t2 = System.nanoTime();
                stepNanos[commits] = t2 - t1;
                compactNanos += t2 - t1;
                commits++;
                mark = t2;
            }
        }
        long total = System.nanoTime() - start;
        EngineStats st = engine.stats();
        double mb = (double) n * (13 + VALUE_BYTES) / (1 << 20);
        System.out.printf(Locale.ROOT, "  wall time           %8.2f s   %,12.0f puts/s overall (puts + commits + compaction)%n",
                total / 1e9, n / (total / 1e9));
        System.out.printf(Locale.ROOT, "  put time            %8.2f s   %,12.0f puts/s, %.0f MB/s of keys+values (flushes included)%n",
                putNanos / 1e9, n / (putNanos / 1e9), mb / (putNanos / 1e9));
        Arrays.sort(commitNanos, 0, commits);
        System.out.printf(Locale.ROOT, "  commits             %8d     latency p50 %.2f ms, p99 %.2f ms, max %.2f ms (fsync=%s)%n",
                commits, ms(pct(commitNanos, commits, 50)), ms(pct(commitNanos, commits, 99)),
                ms(commitNanos[commits - 1]), engine.config().fsync());
        Arrays.sort(stepNanos, 0, commits);
        System.out.printf(Locale.ROOT, "  compaction steps    %8.2f s   step p50 %.2f ms, p99 %.2f ms, max %.2f ms (finishing a merge syncs and verifies it)%n",
                compactNanos / 1e9, ms(pct(stepNanos, commits, 50)), ms(pct(stepNanos, commits, 99)),
                ms(stepNanos[commits - 1]));
        System.out.printf(Locale.ROOT, "  flushes %d, compactions %d (%.0f MB written), segments now %d (peak %d), %,d rows in segments, memtable %,d keys%n",
                st.flushes(), st.compactions(), st.compactedBytes() / 1e6, st.segments(), maxSegments, st.segmentRows(),
                st.memtableKeys());
        long more = 0;
        long t0 = System.nanoTime();
        while (engine.compact(COMPACTION_BUDGET_NANOS)) {
            more++;
        }
        st = engine.stats();
        System.out.printf(Locale.ROOT, "  compaction settled after %d more steps (%.0f ms): %d segments, %.0f MB mapped%n",
                more + 1, (System.nanoTime() - t0) / 1e6, st.segments(), st.mappedBytes() / 1e6);
        return n - 1;
    }

    // ---------------------------------------------------------------------------------------------
    // 2. Random gets
    // ---------------------------------------------------------------------------------------------

    private void randomGets(StoreEngine engine) {
        int gets = Math.min(n, 500_000);
        section("2. Random gets: " + fmt(gets) + " hits, then " + fmt(gets / 5) + " misses");
        SplittableRandom rnd = new SplittableRandom(42);
        // Warm-up: let the JIT compile the read path and the page checks touch the files once.
        for (int j = 0; j < 100_000; j++) {
            engine.get(key(rnd.nextInt(n)));
        }
        long[] lat = new long[gets];
        int wrong = 0;
        long start = System.nanoTime();
        for (int j = 0; j < gets; j++) {
            int i = rnd.nextInt(n);
            byte[] k = key(i);
            long t0 = System.nanoTime();
            byte[] v = engine.get(k);
            lat[j] = System.nanoTime() - t0;
            if (!Arrays.equals(v, value(i, 1))) {
                wrong++;
            }
        }
        long total = System.nanoTime() - start;
        Arrays.sort(lat);
        System.out.printf(Locale.ROOT, "  hits      %,12.0f gets/s   latency p50 %.2f us, p99 %.2f us, p99.9 %.2f us%n",
                gets / (total / 1e9), us(pct(lat, gets, 50)), us(pct(lat, gets, 99)), us(pct(lat, gets, 99.9)));
        check(wrong == 0, "every get returned the value that was put (" + fmt(wrong) + " wrong)");

        int misses = gets / 5;
        long[] mlat = new long[misses];
        int found = 0;
        start = System.nanoTime();
        for (int j = 0; j < misses; j++) {
            // Absent but inside every segment's key range (user:00001234~ sorts after user:00001234), so
            // the bloom filters, not the key-range check, must turn them away.
            byte[] k = Arrays.copyOf(key(rnd.nextInt(n)), 14);
            k[13] = '~';
            long t0 = System.nanoTime();
            byte[] v = engine.get(k);
            mlat[j] = System.nanoTime() - t0;
            if (v != null) {
                found++;
            }
        }
        total = System.nanoTime() - start;
        Arrays.sort(mlat);
        System.out.printf(Locale.ROOT, "  misses    %,12.0f gets/s   latency p50 %.2f us, p99 %.2f us (absent keys inside the key range)%n",
                misses / (total / 1e9), us(pct(mlat, misses, 50)), us(pct(mlat, misses, 99)));
        check(found == 0, "no absent key was found");
    }

    // ---------------------------------------------------------------------------------------------
    // 3. Scans
    // ---------------------------------------------------------------------------------------------

    private void scans(StoreEngine engine) {
        int from = n / 4;
        int count = n / 10;
        section("3. Scans: range [" + new String(key(from), StandardCharsets.US_ASCII) + ", "
                + new String(key(from + count - 1), StandardCharsets.US_ASCII) + "], then the whole store");
        // Twice: the first pass also checks the CRC32C of every page it touches for the first time.
        for (String pass : new String[] {"range cold", "range warm"}) {
            long t0 = System.nanoTime();
            int seen = 0;
            int ordered = 0;
            try (EngineIterator it = engine.range(key(from), key(from + count - 1))) {
                while (it.hasNext()) {
                    KeyValue kv = it.next();
                    if (Arrays.equals(kv.key(), key(from + seen)) && Arrays.equals(kv.value(), value(from + seen, 1))) {
                        ordered++;
                    }
                    seen++;
                }
            }
            long t = System.nanoTime() - t0;
            System.out.printf(Locale.ROOT, "  %-10s%,12d entries in %.1f ms = %,.0f entries/s%n", pass, seen, t / 1e6, seen / (t / 1e9));
            check(seen == count && ordered == count, "the range held exactly its " + fmt(count) + " keys, in order, with their values");
        }

        long t0 = System.nanoTime();
        long bytes = 0;
        int seen = 0;
        byte[] prev = null;
        boolean sorted = true;
        try (EngineIterator it = engine.all()) {
            while (it.hasNext()) {
                KeyValue kv = it.next();
                if (prev != null && Arrays.compareUnsigned(prev, kv.key()) >= 0) {
                    sorted = false;
                }
                prev = kv.key();
                bytes += kv.key().length + kv.value().length;
                seen++;
            }
        }
        long t = System.nanoTime() - t0;
        System.out.printf(Locale.ROOT, "  full scan %,12d entries in %.1f ms = %,.0f entries/s, %.0f MB/s%n", seen, t / 1e6,
                seen / (t / 1e9), bytes / 1e6 / (t / 1e9));
        check(seen == n && sorted, "a full scan returned all " + fmt(n) + " keys in unsigned byte order");
    }

    // ---------------------------------------------------------------------------------------------
    // 4. Crash
    // ---------------------------------------------------------------------------------------------

    /** Committed updates, then uncommitted writes (some flushed to a segment), then a crash. */
    private long crash(StoreEngine engine, long lastCommitted) throws IOException {
        section("4. Crash: committed updates, then uncommitted writes and a flush, then the process \"dies\"");
        // Committed: every 100th key gets generation 2. These sit in the log (not in a segment) at the
        // crash, so recovery must replay them.
        engine.flush();
        int updated = 0;
        for (int i = 0; i < n; i += 100) {
            engine.put(key(i), value(i, 2));
            updated++;
        }
        long offset = lastCommitted + updated;
        engine.commit(offsetMetadata(offset));
        System.out.printf(Locale.ROOT, "  committed   %,8d updates (generation 2) with metadata \"%s\"%n", updated,
                new String(offsetMetadata(offset), StandardCharsets.UTF_8));

        // Uncommitted: overwrites, deletes and new keys; a flush in the middle writes some of them to a
        // segment file that no manifest names yet.
        int overwrites = 0;
        int deletes = 0;
        int inserts = 0;
        for (int i = 1; i < n; i += 50) {
            engine.put(key(i), value(i, 9));
            overwrites++;
        }
        for (int i = 3; i < n; i += 200) {
            engine.delete(key(i));
            deletes++;
        }
        engine.flush();
        long segsAfterFlush = countFiles(".seg");
        for (int i = n; i < n + 20_000; i++) {
            engine.put(key(i), value(i, 9));
            inserts++;
        }
        check(engine.get(key(1)) != null && Arrays.equals(engine.get(key(1)), value(1, 9)),
                "before the crash, readers see the uncommitted overwrite of key 1");
        System.out.printf(Locale.ROOT, "  uncommitted %,8d overwrites, %,d deletes, %,d new keys; one flush wrote them to a segment (%d .seg files on disk)%n",
                overwrites, deletes, inserts, segsAfterFlush);
        System.out.printf(Locale.ROOT, "  log on disk %,8d bytes in %d file(s) at the crash%n", sizeOf(".log"), countFiles(".log"));
        engine.abandon();
        System.out.println("  abandon(): no close, no commit, nothing more written");
        return offset;
    }

    // ---------------------------------------------------------------------------------------------
    // 5. Recover
    // ---------------------------------------------------------------------------------------------

    private void recover(EngineConfig config, long lastCommitted) {
        section("5. Reopen and recover");
        long t0 = System.nanoTime();
        try (StoreEngine engine = StoreEngine.open(dir, config)) {
            long wall = System.nanoTime() - t0;
            OpenReport r = engine.openReport();
            System.out.printf(Locale.ROOT, "  open took %.1f ms (OpenReport.openNanos %.1f ms)%n", wall / 1e6, r.openNanos() / 1e6);
            System.out.println("  " + r);
            System.out.printf(Locale.ROOT, "  %s %,d committed log records; cut %,d uncommitted log bytes; %d .seg files remain%n",
                    r.replayDeferred() ? "the first read replays" : "replayed", r.replayedRecords(), r.discardedLogBytes(),
                    countFiles(".seg"));
            String meta = new String(engine.lastCommitMetadata(), StandardCharsets.UTF_8);
            System.out.printf(Locale.ROOT, "  last commit metadata: \"%s\"%n", meta);
            check(meta.equals(new String(offsetMetadata(lastCommitted), StandardCharsets.UTF_8)),
                    "the commit metadata is that of the last completed commit");
            check(!r.rebuiltAfterCorruption() && !r.created(), "the store reopened (not created, not rebuilt)");

            int badOverwrite = 0;
            for (int i = 1; i < n; i += 50) {
                if (!Arrays.equals(engine.get(key(i)), value(i, committedGeneration(i)))) {
                    badOverwrite++;
                }
            }
            int badDelete = 0;
            for (int i = 3; i < n; i += 200) {
                if (!Arrays.equals(engine.get(key(i)), value(i, committedGeneration(i)))) {
                    badDelete++;
                }
            }
            int badInsert = 0;
            for (int i = n; i < n + 20_000; i++) {
                if (engine.get(key(i)) != null) {
                    badInsert++;
                }
            }
            check(badOverwrite == 0, "uncommitted overwrites are gone: those keys hold their committed values");
            check(badDelete == 0, "uncommitted deletes are gone: those keys are back");
            check(badInsert == 0, "uncommitted new keys are gone");

            long t1 = System.nanoTime();
            int seen = 0;
            int good = 0;
            int gen2 = 0;
            try (EngineIterator it = engine.all()) {
                while (it.hasNext()) {
                    KeyValue kv = it.next();
                    int i = seen;
                    int g = committedGeneration(i);
                    if (Arrays.equals(kv.key(), key(i)) && Arrays.equals(kv.value(), value(i, g))) {
                        good++;
                        if (g == 2) {
                            gen2++;
                        }
                    }
                    seen++;
                }
            }
            System.out.printf(Locale.ROOT, "  verified all %,d committed entries by a full scan in %.0f ms%n", seen,
                    (System.nanoTime() - t1) / 1e6);
            check(seen == n && good == n, "exactly the committed " + fmt(n) + " keys are present, each with its committed value");
            check(gen2 == (n + 99) / 100, "the " + fmt(gen2) + " committed generation-2 updates (replayed from the log) are present");
            EngineStats st = engine.stats();
            System.out.printf(Locale.ROOT, "  after recovery: %d segments, %,d rows, memtable %,d keys, %.0f MB on disk%n",
                    st.segments(), st.segmentRows(), st.memtableKeys(), sizeOf("") / 1e6);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Data
    // ---------------------------------------------------------------------------------------------

    /** A bijection of [0, n) that scatters writes (7919 is prime, so coprime with n unless n is a multiple). */
    private int permute(int k) {
        if (n % 7919 == 0) {
            return k;
        }
        return (int) ((k * 7919L + 12345L) % n);
    }

    private static int committedGeneration(int i) {
        return i % 100 == 0 ? 2 : 1;
    }

    /** {@code user:%08d}, 13 bytes, so that byte order is numeric order. */
    static byte[] key(int i) {
        byte[] k = {'u', 's', 'e', 'r', ':', '0', '0', '0', '0', '0', '0', '0', '0'};
        for (int p = 12; p >= 5 && i > 0; p--) {
            k[p] = (byte) ('0' + i % 10);
            i /= 10;
        }
        return k;
    }

    /** A value that names its key and generation, padded with bytes derived from both. */
    static byte[] value(int i, int generation) {
        ByteBuffer b = ByteBuffer.allocate(VALUE_BYTES);
        b.putInt(i).putInt(generation);
        long x = i * 0x9E3779B97F4A7C15L + generation;
        while (b.remaining() >= 8) {
            x ^= x >>> 29;
            x *= 0xBF58476D1CE4E5B9L;
            b.putLong(x);
        }
        while (b.hasRemaining()) {
            b.put((byte) x);
        }
        return b.array();
    }

    /** What the Kafka layer stores with a commit: the changelog offset (here a stand-in). */
    private static byte[] offsetMetadata(long offset) {
        return ("changelog-offset=" + offset).getBytes(StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------------------------------------
    // Helpers
    // ---------------------------------------------------------------------------------------------

    private void check(boolean ok, String what) {
        System.out.println("  " + (ok ? "OK   " : "FAIL ") + what);
        if (!ok) {
            failures++;
        }
    }

    private long countFiles(String suffix) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(suffix)).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private long sizeOf(String suffix) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(suffix) && Files.isRegularFile(p))
                    .mapToLong(p -> {
                        try {
                            return Files.size(p);
                        } catch (IOException e) {
                            return 0;
                        }
                    }).sum();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void section(String title) {
        System.out.println();
        System.out.println(title);
    }

    private static String fmt(long v) {
        return String.format(Locale.ROOT, "%,d", v);
    }

    private static long pct(long[] sorted, int count, double p) {
        int idx = (int) Math.min(count - 1, Math.max(0, Math.ceil(p / 100.0 * count) - 1));
        return sorted[idx];
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    private static double us(long nanos) {
        return nanos / 1e3;
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
