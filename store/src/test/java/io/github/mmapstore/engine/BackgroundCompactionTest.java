package io.github.mmapstore.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Merges on background threads ({@link StoreEngine#compactInBackground}): a slice merges outside the
 * engine's monitor while the writer writes, commits and reads, then installs under it. The store keeps
 * answering exactly what was written, the merges bring the segment count down without a single
 * {@link StoreEngine#compact} budget, and a close, an abandon (a crash) or a full compaction in the middle
 * of a slice leaves a store that reopens with its last commit.
 */
class BackgroundCompactionTest {
    @TempDir
    Path dir;

    private final ExecutorService pool = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "test-compaction");
        t.setDaemon(true);
        return t;
    });

    /** Slices queued on the pool: merges did run there. */
    private final java.util.concurrent.atomic.AtomicLong slices = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.Executor counted = r -> {
        slices.incrementAndGet();
        pool.execute(r);
    };

    @AfterEach
    void stopPool() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
    }

    private static byte[] key(int i) {
        return String.format("k%07d", i).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] value(int i, int version) {
        byte[] v = new byte[64 + (i % 7)];
        Arrays.fill(v, (byte) (i * 31 + version));
        return v;
    }

    private static EngineConfig config(boolean log) {
        return EngineConfig.defaults().withMemtableBytes(64 << 10).withFsync(false).withCompactionTrigger(3)
                .withCompactionFileBytes(256 << 10).withLog(log);
    }

    /** Writes, commits and reads race the merges; every read matches the model, and the merges keep up. */
    @Test
    void readsAndWritesStayExactWhileMergesRunBehindThem() throws Exception {
        for (boolean log : new boolean[] {true, false}) {
            Path d = dir.resolve("log-" + log);
            TreeMap<String, byte[]> model = new TreeMap<>();
            Random rnd = new Random(log ? 1 : 2);
            try (StoreEngine e = StoreEngine.open(d, config(log))) {
                e.compactInBackground(counted);
                assertThat(e.compactsInBackground()).isTrue();
                int keys = 4000;
                for (int w = 0; w < 60_000; w++) {
                    int k = rnd.nextInt(keys);
                    if (rnd.nextInt(10) == 0) {
                        e.delete(key(k));
                        model.remove(new String(key(k), StandardCharsets.UTF_8));
                    } else {
                        byte[] v = value(k, w);
                        e.put(key(k), v);
                        model.put(new String(key(k), StandardCharsets.UTF_8), v);
                    }
                    if (w % 500 == 499) {
                        e.commit(null);
                        e.compact(0); // wakes the background merges, as a Kafka commit's step does
                    }
                    if (w % 97 == 0) {
                        int probe = rnd.nextInt(keys);
                        byte[] expected = model.get(new String(key(probe), StandardCharsets.UTF_8));
                        assertThat(e.get(key(probe))).as("key %d after %d writes", probe, w).isEqualTo(expected);
                    }
                }
                e.commit(null);
                assertThat(e.stats().compactions()).as("merges ran").isGreaterThan(0);
                assertThat(slices.get()).as("slices ran on the background pool").isGreaterThan(10);
                assertThat(e.stats().compaction().steps()).isGreaterThan(0);
                // the merges catch up on their own: no budget is ever handed to compact()
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (e.stats().compaction().pendingBytes() > 0 && System.nanoTime() < deadline) {
                    e.compact(0);
                    Thread.sleep(5);
                }
                assertThat(e.stats().compaction().pendingBytes()).as("background compaction caught up").isZero();
                assertAll(e, model);
            }
            try (StoreEngine e = StoreEngine.open(d, config(log))) {
                assertAll(e, model);
            }
        }
    }

    /** A close, a crash or a full compaction while slices run: the store reopens with its last commit, whole. */
    @Test
    void closeAbandonAndFullCompactionWaitForTheSliceInFlight() throws Exception {
        for (int round = 0; round < 3; round++) {
            Path d = dir.resolve("round-" + round);
            TreeMap<String, byte[]> model = new TreeMap<>();
            StoreEngine e = StoreEngine.open(d, config(false));
            e.compactInBackground(counted);
            for (int w = 0; w < 30_000; w++) {
                int k = (w * 7919) % 5000;
                byte[] v = value(k, w);
                e.put(key(k), v);
                model.put(new String(key(k), StandardCharsets.UTF_8), v);
                if (w % 1000 == 999) {
                    e.commit(null);
                    e.compact(0);
                }
            }
            byte[] last = "last".getBytes(StandardCharsets.UTF_8);
            e.commit(last);
            // a crash from here on keeps the last commit (a checkpoint asked for while a flush is in flight
            // is taken by a later call)
            for (int tries = 0; !Arrays.equals(e.durableCommitMetadata(), last) && tries < 100; tries++) {
                e.checkpoint();
                e.awaitDurable();
            }
            assertThat(e.durableCommitMetadata()).isEqualTo(last);
            switch (round) {
                case 0 -> e.close();
                case 1 -> e.abandon();
                default -> {
                    e.compactFully();
                    assertThat(e.stats().segments()).isLessThanOrEqualTo(2);
                    assertAll(e, model);
                    e.close();
                }
            }
            assertThatThrownBy(() -> e.get(key(1))).isInstanceOf(EngineClosedException.class);
            try (StoreEngine r = StoreEngine.open(d, config(false))) {
                assertAll(r, model);
            }
        }
    }

    /** Readers on other threads see every committed key while the merges replace the files under them. */
    @Test
    void readersOnOtherThreadsNeverMissAKeyWhileFilesAreReplaced() throws Exception {
        try (StoreEngine e = StoreEngine.open(dir, config(false))) {
            e.compactInBackground(counted);
            int keys = 3000;
            for (int k = 0; k < keys; k++) {
                e.put(key(k), value(k, 0));
            }
            e.commit(null);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            boolean[] stop = {false};
            Thread reader = Thread.ofPlatform().start(() -> {
                Random rnd = new Random(5);
                try {
                    while (!stop[0]) {
                        int k = rnd.nextInt(keys);
                        byte[] v = e.get(key(k));
                        assertThat(v).as("key %d", k).isNotNull();
                        assertThat(v.length).isEqualTo(64 + (k % 7));
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            for (int w = 0; w < 40_000; w++) {
                int k = (w * 31) % keys;
                e.put(key(k), value(k, w)); // overwrites only: every key stays present
                if (w % 800 == 799) {
                    e.commit(null);
                    e.compact(0);
                }
            }
            stop[0] = true;
            reader.join();
            assertThat(failure.get()).isNull();
            assertThat(e.stats().compactions()).isGreaterThan(0);
        }
    }

    /**
     * A writer slowed down for compaction waits for the slice queued, bounded by its timeout, and not at
     * all when nothing is queued; the slice, once it runs, merges and installs as usual.
     */
    @Test
    void awaitCompactionWaitsForAQueuedSliceAtMostItsTimeout() throws Exception {
        java.util.concurrent.BlockingQueue<Runnable> queued = new java.util.concurrent.LinkedBlockingQueue<>();
        try (StoreEngine e = StoreEngine.open(dir, config(false))) {
            e.compactInBackground(queued::add); // slices wait in the queue until the test runs them
            while (!queued.isEmpty()) {
                queued.take().run(); // an empty store: the slice finds nothing to merge and queues no other
            }
            long t0 = System.nanoTime();
            e.awaitCompaction(TimeUnit.SECONDS.toNanos(10));
            assertThat(System.nanoTime() - t0).as("nothing queued: no wait").isLessThan(TimeUnit.SECONDS.toNanos(2));
            for (int round = 0; round < 6; round++) {
                for (int k = 0; k < 2000; k++) {
                    e.put(key(k), value(k, round));
                }
                e.flush();
                e.commit(null);
            }
            e.compact(0);
            assertThat(queued).as("a slice was queued").isNotEmpty();
            t0 = System.nanoTime();
            e.awaitCompaction(TimeUnit.MILLISECONDS.toNanos(50));
            long waited = System.nanoTime() - t0;
            assertThat(waited).as("waited for the queued slice, up to the timeout")
                    .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(40)).isLessThan(TimeUnit.SECONDS.toNanos(5));
            int before = e.stats().segments();
            for (int i = 0; i < 10_000 && !queued.isEmpty(); i++) {
                queued.take().run();
            }
            assertThat(e.stats().compactions()).isPositive();
            assertThat(e.stats().segments()).isLessThan(before);
            for (int k = 0; k < 2000; k += 37) {
                assertThat(e.get(key(k))).isEqualTo(value(k, 5));
            }
        }
    }

    private static void assertAll(StoreEngine e, TreeMap<String, byte[]> model) {
        try (EngineIterator it = e.all()) {
            for (var en : model.entrySet()) {
                assertThat(it.hasNext()).as("missing %s", en.getKey()).isTrue();
                var kv = it.next();
                assertThat(new String(kv.key(), StandardCharsets.UTF_8)).isEqualTo(en.getKey());
                assertThat(kv.value()).as("value of %s", en.getKey()).isEqualTo(en.getValue());
            }
            assertThat(it.hasNext()).as("keys beyond the model").isFalse();
        }
    }
}
