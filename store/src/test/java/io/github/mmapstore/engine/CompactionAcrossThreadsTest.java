package io.github.mmapstore.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka Streams hands a task, and so its stores, from thread to thread (the state updater restores and
 * commits, the stream thread processes and closes), and a compaction runs in budgeted steps from commits.
 * A step begun on one thread must be continued, finished or abandoned on another.
 */
class CompactionAcrossThreadsTest {
    @TempDir
    Path dir;

    private static byte[] key(int i) {
        return String.format("k%07d", i).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] value(int i) {
        byte[] v = new byte[200];
        Arrays.fill(v, (byte) i);
        return v;
    }

    /** Big segments, so that sealing a merged output (a checksum per 4 KiB page) takes several 1 ns steps. */
    private StoreEngine loaded(int keys) {
        return load(dir, keys);
    }

    private static StoreEngine load(Path dir, int keys) {
        StoreEngine e = StoreEngine.open(dir, EngineConfig.defaults().withMemtableBytes(1 << 20).withFsync(false));
        for (int i = 0; i < keys; i++) {
            // keys in scattered order, so that flushed segments overlap and must be merged
            int k = (int) ((i * 7919L) % keys);
            e.put(key(k), value(k));
            if (i % 5000 == 4999) {
                e.flush(); // committed segments of similar size, all due for one merge
                e.commit(null);
            }
        }
        e.commit(null);
        return e;
    }

    private static void onNewThread(Runnable r) throws InterruptedException {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                r.run();
            } catch (Throwable x) {
                failure.set(x);
            }
        });
        t.join();
        assertThat(failure.get()).as("step on thread %s", t.getName()).isNull();
    }

    @Test
    void eachCompactionStepMayRunOnAnotherThread() throws Exception {
        int keys = 25_000;
        try (StoreEngine e = loaded(keys)) {
            assertThat(e.stats().segments()).isGreaterThan(2);
            boolean[] more = {true};
            int steps = 0;
            while (more[0] && steps++ < 100_000) {
                onNewThread(() -> more[0] = e.compact(1));
            }
            assertThat(more[0]).isFalse();
            assertThat(steps).as("the compaction took several steps, so a step continued another thread's work").isGreaterThan(2);
            for (int i = 0; i < keys; i += 97) {
                assertThat(e.get(key(i))).isEqualTo(value(i));
            }
        }
    }

    @Test
    void aCompactionBegunOnOneThreadIsAbandonedByAnother(@TempDir Path probe) throws Exception {
        // With a 1 ns budget every step does a fixed amount of work, so the same data takes the same number
        // of steps: count them on a copy, then stop one step short (sealing the output) and close elsewhere.
        int steps = 0;
        try (StoreEngine p = load(probe, 25_000)) {
            while (p.compact(1)) {
                steps++;
            }
        }
        assertThat(steps).isGreaterThan(2);
        // the last steps seal the output (a mapped file, checksummed page by page), then verify it: stop
        // at each of them in turn, so that some stop leaves the output half sealed
        for (int stop = Math.max(1, steps - 15); stop < steps; stop++) {
            Path run = dir.resolve("stop-" + stop);
            StoreEngine e = load(run, 25_000);
            for (int i = 0; i < stop; i++) {
                e.compact(1);
            }
            onNewThread(e::close);
            try (StoreEngine again = StoreEngine.open(run, EngineConfig.defaults().withFsync(false))) {
                for (int i = 0; i < 25_000; i += 997) {
                    assertThat(again.get(key(i))).isEqualTo(value(i));
                }
            }
        }
    }
}
