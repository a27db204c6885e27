package io.github.mmapstore.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * One writer, several readers. The writer rewrites all N keys in key order once per round, every key
 * of round r getting the value r (puts or write(batch)), and between rounds flushes, commits and runs
 * compaction steps, so versions, memtables and segments are replaced under the readers.
 *
 * <p>Readers check what a consistent snapshot must look like: an iterator sees the store as of one
 * instant of the writer's sequence, which in key order is a run of r followed by a run of r-1 (values
 * never increase along the keys, and differ by at most one); an iterator that saw writes made after it
 * started (or missed a segment) would see a larger value after a smaller one or a gap. Values are never
 * older than the last round completed before the iterator was created. Iterators pause half way now
 * and then, so the writer runs many rounds, flushes and compactions while they are open. A reader's
 * gets of a key never go back in time. Any exception in any thread fails the test.
 */
class ConcurrencyTest {
    static final int N = 200;
    static final long RUN_NANOS = 3_000_000_000L;

    @TempDir
    Path dir;

    static byte[] key(int i) {
        return String.format("k%03d", i).getBytes(StandardCharsets.UTF_8);
    }

    static byte[] value(long round, int key) {
        // Sizes vary with the round so segments and memtables fill at different points.
        ByteBuffer b = ByteBuffer.allocate(8 + (int) ((round + key) % 7) * 9);
        b.putLong(round);
        return b.array();
    }

    static long round(byte[] v) {
        return ByteBuffer.wrap(v).getLong();
    }

    @Test
    @Timeout(60)
    void readersSeeConsistentSnapshotsWhileWriterFlushesCommitsAndCompacts() throws Exception {
        EngineConfig config = EngineConfig.defaults().withFsync(false).withMemtableBytes(16 * 1024).withCompactionTrigger(2);
        try (StoreEngine e = StoreEngine.open(dir, config)) {
            for (int i = 0; i < N; i++) {
                e.put(key(i), value(0, i));
            }
            e.commit(null);
            AtomicLong completedRound = new AtomicLong(0);
            AtomicLong startedRound = new AtomicLong(0);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong iterations = new AtomicLong();
            AtomicLong gets = new AtomicLong();
            long deadline = System.nanoTime() + RUN_NANOS;

            Thread writer = new Thread(() -> {
                try {
                    long r = 0;
                    while (System.nanoTime() < deadline && failure.get() == null) {
                        r++;
                        startedRound.set(r);
                        if (r % 2 == 0) {
                            for (int i = 0; i < N; i++) {
                                e.put(key(i), value(r, i));
                            }
                        } else {
                            List<KeyValue> batch = new ArrayList<>();
                            for (int i = 0; i < N; i++) {
                                batch.add(new KeyValue(key(i), value(r, i)));
                                if (batch.size() == 40) {
                                    e.write(batch);
                                    batch = new ArrayList<>();
                                }
                            }
                        }
                        completedRound.set(r);
                        if (r % 3 == 0) {
                            e.commit(("r" + r).getBytes(StandardCharsets.UTF_8));
                        }
                        if (r % 5 == 0) {
                            e.flush();
                        }
                        if (r % 4 == 0) {
                            e.compact(200_000);
                        }
                        if (r % 97 == 0) {
                            e.compactFully();
                        }
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }, "writer");

            List<Thread> readers = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                int id = t;
                readers.add(new Thread(() -> {
                    Random rnd = new Random(id);
                    long[] lastSeen = new long[N];
                    try {
                        while (System.nanoTime() < deadline && failure.get() == null) {
                            if (rnd.nextBoolean()) {
                                scan(e, rnd, completedRound, startedRound);
                                iterations.incrementAndGet();
                            } else {
                                for (int g = 0; g < 50; g++) {
                                    int k = rnd.nextInt(N);
                                    long floor = completedRound.get();
                                    byte[] v = e.get(key(k));
                                    assertThat(v).as("get k%03d", k).isNotNull();
                                    long got = round(v);
                                    assertThat(got).as("get k%03d older than the last completed round", k).isGreaterThanOrEqualTo(floor);
                                    assertThat(got).as("get k%03d went back in time", k).isGreaterThanOrEqualTo(lastSeen[k]);
                                    assertThat(got).as("get k%03d from the future", k).isLessThanOrEqualTo(startedRound.get());
                                    lastSeen[k] = got;
                                    gets.incrementAndGet();
                                }
                            }
                        }
                    } catch (Throwable th) {
                        failure.compareAndSet(null, th);
                    }
                }, "reader-" + t));
            }
            writer.start();
            readers.forEach(Thread::start);
            writer.join();
            for (Thread r : readers) {
                r.join();
            }
            if (failure.get() != null) {
                throw new AssertionError("concurrent failure: " + failure.get(), failure.get());
            }
            EngineStats st = e.stats();
            System.out.printf("ConcurrencyTest: %d rounds, %d scans, %d gets, %d flushes, %d compactions, %d commits%n",
                    completedRound.get(), iterations.get(), gets.get(), st.flushes(), st.compactions(), st.commits());
            assertThat(completedRound.get()).as("writer made progress").isGreaterThan(20);
            assertThat(iterations.get()).as("readers made progress").isGreaterThan(20);
            assertThat(st.flushes()).isGreaterThan(5);
            assertThat(st.compactions()).isGreaterThan(2);
        }
    }

    static void scan(StoreEngine e, Random rnd, AtomicLong completedRound, AtomicLong startedRound) throws InterruptedException {
        int mode = rnd.nextInt(3);
        int lo = mode == 2 ? rnd.nextInt(N / 2) : 0;
        int hi = mode == 2 ? lo + rnd.nextInt(N - lo) : N - 1;
        boolean reverse = rnd.nextBoolean();
        boolean pause = rnd.nextInt(8) == 0;
        long floor = completedRound.get();
        List<Long> rounds = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        try (EngineIterator it = mode == 2 ? e.range(key(lo), true, key(hi), true, reverse)
                : reverse ? e.reverseAll() : e.all()) {
            int n = 0;
            while (it.hasNext()) {
                KeyValue kv = it.next();
                keys.add(new String(kv.key(), StandardCharsets.UTF_8));
                rounds.add(round(kv.value()));
                if (pause && ++n == (hi - lo) / 2) {
                    Thread.sleep(2); // let the writer run rounds, flushes and compactions under this iterator
                }
            }
        }
        long ceiling = startedRound.get();
        if (reverse) {
            rounds = rounds.reversed();
            keys = keys.reversed();
        }
        List<String> expectedKeys = new ArrayList<>();
        for (int i = lo; i <= hi; i++) {
            expectedKeys.add(new String(key(i), StandardCharsets.UTF_8));
        }
        assertThat(keys).as("keys of the snapshot").isEqualTo(expectedKeys);
        for (int i = 1; i < rounds.size(); i++) {
            if (rounds.get(i) > rounds.get(i - 1)) {
                throw new AssertionError("inconsistent snapshot: " + keys.get(i - 1) + "=" + rounds.get(i - 1) + " then "
                        + keys.get(i) + "=" + rounds.get(i) + " (a later write seen before an earlier one) in " + rounds);
            }
        }
        long max = rounds.get(0);
        long min = rounds.get(rounds.size() - 1);
        assertThat(max - min).as("snapshot spans more than one round: %s", rounds).isLessThanOrEqualTo(1);
        assertThat(min).as("snapshot older than the last round completed before it").isGreaterThanOrEqualTo(floor);
        assertThat(max).as("snapshot from the future").isLessThanOrEqualTo(ceiling);
    }
}
