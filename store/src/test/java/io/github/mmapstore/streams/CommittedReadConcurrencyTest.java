package io.github.mmapstore.streams;

import static io.github.mmapstore.streams.IsolationFixture.CHANGELOG;
import static io.github.mmapstore.streams.IsolationFixture.k;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;
import org.apache.kafka.streams.state.WindowStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One thread writes and commits in rounds (every key gets the round number, then one commit), while
 * several threads read READ_COMMITTED: every read must show one committed round, all keys equal to it,
 * never older than the last commit before the read began and never newer than the commit running when it
 * ended. A 4 KiB memtable makes the writer spill (uncommitted) rounds into segments all along.
 */
class CommittedReadConcurrencyTest {
    static final int KEYS = 48;
    static final int READERS = 3;
    static final long RUN_MILLIS = 2_500;

    @TempDir
    Path stateDir;

    /** The round of a value written by {@link #value}. */
    static long round(byte[] value) {
        String s = new String(value, StandardCharsets.UTF_8);
        return Long.parseLong(s.substring(0, s.indexOf(':')));
    }

    static byte[] value(long round) {
        return (round + ":" + "x".repeat(120)).getBytes(StandardCharsets.UTF_8);
    }

    /** Rounds committed and being committed, for the readers' bounds. */
    static final class Rounds {
        final AtomicLong committed = new AtomicLong();
        final AtomicLong committing = new AtomicLong();
        final AtomicBoolean done = new AtomicBoolean();
    }

    interface Reader {
        /** One read: the rounds it saw (one per row or per key). */
        List<Long> read();
    }

    private void run(Runnable writeRound, Rounds rounds, Reader reader, int rowsPerRead) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(READERS + 1);
        try {
            Future<Long> writer = pool.submit(() -> {
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RUN_MILLIS);
                try {
                    while (System.nanoTime() < deadline) {
                        writeRound.run();
                    }
                } finally {
                    rounds.done.set(true);
                }
                return rounds.committed.get();
            });
            List<Future<Long>> readers = new ArrayList<>();
            for (int r = 0; r < READERS; r++) {
                readers.add(pool.submit((Callable<Long>) () -> {
                    long reads = 0;
                    long last = 0;
                    while (!rounds.done.get() || reads < 10) {
                        long before = rounds.committed.get();
                        List<Long> seen = reader.read();
                        long after = rounds.committing.get();
                        reads++;
                        if (before == 0 && seen.isEmpty()) {
                            continue;
                        }
                        assertThat(seen).as("rows of one read").hasSize(rowsPerRead);
                        long round = seen.get(0);
                        assertThat(seen).as("one read shows one commit").allMatch(x -> x == round);
                        assertThat(round).as("not older than the commit before the read").isGreaterThanOrEqualTo(before);
                        assertThat(round).as("not newer than the commit running after the read").isLessThanOrEqualTo(after);
                        assertThat(round).as("reads of one thread never go back").isGreaterThanOrEqualTo(last);
                        last = round;
                    }
                    return reads;
                }));
            }
            long committedRounds = writer.get(60, TimeUnit.SECONDS);
            long totalReads = 0;
            for (Future<Long> r : readers) {
                totalReads += r.get(60, TimeUnit.SECONDS);
            }
            assertThat(committedRounds).as("the writer made progress").isGreaterThanOrEqualTo(5);
            assertThat(totalReads).as("the readers made progress").isGreaterThan(30);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void keyValueReadersSeeOnlyCommittedRounds() throws Exception {
        try (IsolationFixture f = new IsolationFixture(stateDir, KeyValueCommittedReadTest.TINY_MEMTABLE)) {
            KeyValueStore<Bytes, byte[]> store = f.init(MmapStores.persistentKeyValueStore("kv").get());
            ReadOnlyKeyValueStore<Bytes, byte[]> view = store.readOnly(IsolationLevel.READ_COMMITTED);
            Rounds rounds = new Rounds();
            Runnable writeRound = () -> {
                long r = rounds.committed.get() + 1;
                for (int i = 0; i < KEYS; i++) {
                    store.put(k(String.format("k%03d", i)), value(r));
                }
                rounds.committing.set(r);
                store.commit(Map.of(CHANGELOG, r));
                rounds.committed.set(r);
            };
            // alternate between full scans, reverse scans and point reads (each get sees one commit too, so
            // the rounds of successive gets never go back and stay within the bounds)
            AtomicLong which = new AtomicLong();
            Reader reader = () -> {
                List<Long> seen = new ArrayList<>();
                long w = which.incrementAndGet() % 3;
                if (w == 2) {
                    byte[] v = view.get(k(String.format("k%03d", ThreadLocalRandom.current().nextInt(KEYS))));
                    if (v != null) {
                        for (int i = 0; i < KEYS; i++) {
                            seen.add(round(v)); // one row stands for all
                        }
                    }
                    return seen;
                }
                try (KeyValueIterator<Bytes, byte[]> it = w == 0 ? view.all() : view.reverseAll()) {
                    while (it.hasNext()) {
                        seen.add(round(it.next().value));
                    }
                }
                return seen;
            };
            run(writeRound, rounds, reader, KEYS);
        }
    }

    @Test
    void windowReadersSeeOnlyCommittedRoundsAcrossSegments() throws Exception {
        try (IsolationFixture f = new IsolationFixture(stateDir, KeyValueCommittedReadTest.TINY_MEMTABLE)) {
            @SuppressWarnings("unchecked")
            WindowStore<Bytes, byte[]> store = f.init((WindowStore<Bytes, byte[]>) MmapStores.persistentWindowStore("w",
                    Duration.ofMinutes(10), Duration.ofSeconds(10), false).get());
            ReadOnlyWindowStore<Bytes, byte[]> view = store.readOnly(IsolationLevel.READ_COMMITTED);
            long[] times = WindowSessionCommittedReadTest.TIMES; // three time segments
            int keys = 16;
            Rounds rounds = new Rounds();
            Runnable writeRound = () -> {
                long r = rounds.committed.get() + 1;
                for (long t : times) {
                    for (int i = 0; i < keys; i++) {
                        store.put(k(String.format("k%03d", i)), value(r), t);
                    }
                }
                rounds.committing.set(r);
                store.commit(Map.of(CHANGELOG, r));
                rounds.committed.set(r);
            };
            AtomicLong which = new AtomicLong();
            Reader reader = () -> {
                List<Long> seen = new ArrayList<>();
                boolean forward = which.incrementAndGet() % 2 == 0;
                try (KeyValueIterator<Windowed<Bytes>, byte[]> it = forward
                        ? view.fetchAll(Instant.ofEpochMilli(0), Instant.ofEpochMilli(700_000))
                        : view.backwardFetchAll(Instant.ofEpochMilli(0), Instant.ofEpochMilli(700_000))) {
                    while (it.hasNext()) {
                        KeyValue<Windowed<Bytes>, byte[]> kv = it.next();
                        seen.add(round(kv.value));
                        Thread.onSpinWait(); // give the writer time to commit in the middle of the walk
                    }
                }
                return seen;
            };
            // round 1 before the readers start: every time segment exists from then on (a fetch fixes its list of
            // segments when it is made and its snapshot at its first hasNext(); see
            // WindowSessionCommittedReadTest#windowFetchTakenBeforeACommitShowsOneCommit)
            writeRound.run();
            run(writeRound, rounds, reader, keys * times.length);
        }
    }
}
