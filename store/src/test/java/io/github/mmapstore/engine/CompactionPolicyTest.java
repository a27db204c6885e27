package io.github.mmapstore.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The compaction policy through the engine: space returns after overwrites and deletes, an insert-only
 * store is never rewritten for space, read amplification is brought back under its bound, and the
 * compaction figures in {@link EngineStats} add up.
 */
class CompactionPolicyTest {
    static final int VALUE_BYTES = 100;

    @TempDir
    Path dir;

    static byte[] key(int i) {
        return ByteBuffer.allocate(16).putLong(i * 0x9E3779B97F4A7C15L).putLong(i).array();
    }

    static byte[] value(int i, int version) {
        byte[] v = new byte[VALUE_BYTES];
        ByteBuffer.wrap(v).putInt(i).putInt(version);
        return v;
    }

    EngineConfig config() {
        return EngineConfig.defaults().withMemtableBytes(256 * 1024).withFsync(false);
    }

    static long dirBytes(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        }
    }

    static java.util.Set<String> segmentFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(FileNames.SEGMENT_SUFFIX))
                    .collect(java.util.stream.Collectors.toSet());
        }
    }

    /** Small steps, as commits and punctuations run them, until no work is left. */
    static int compactInSteps(StoreEngine e) {
        int steps = 0;
        while (e.compact(2_000_000)) {
            steps++;
            assertThat(steps).as("compaction never finishes").isLessThan(100_000);
        }
        return steps;
    }

    @Test
    void spaceReturnsAfterOverwritesAndDeletes() throws IOException {
        int keys = 20_000;
        TreeMap<Integer, Integer> model = new TreeMap<>();
        Random rnd = new Random(7);
        try (StoreEngine e = StoreEngine.open(dir, config().withCompactionTrigger(1000))) {
            // A trigger of 1000 segments keeps size-tiered merges out: only the space bound merges.
            for (int i = 0; i < keys; i++) {
                e.put(key(i), value(i, 0));
                model.put(i, 0);
            }
            e.commit(null);
            for (int round = 1; round <= 4; round++) {
                for (int j = 0; j < keys * 9 / 10; j++) {
                    int i = rnd.nextInt(keys);
                    e.put(key(i), value(i, round));
                    model.put(i, round);
                }
                e.flush();
                e.commit(null);
            }
            for (int i = 0; i < keys; i++) {
                if (i % 5 != 0) {
                    e.delete(key(i));
                    model.remove(i);
                }
            }
            e.flush();
            e.commit(null);
            long live = (long) model.size() * (16 + VALUE_BYTES);
            long before = dirBytes(dir);
            assertThat(before).as("overwrites and deletes left garbage behind").isGreaterThan(3 * live);

            int steps = compactInSteps(e);
            e.commit(null);
            // Merge inputs are deleted once the manifest without them is on disk; the wait returns after
            // those deletions too (it once returned while the manifest thread was still deleting them).
            e.awaitBackgroundForTesting();

            assertThat(steps).isPositive();
            assertThat(segmentFiles(dir)).as("segment files on disk: the manifest's only").hasSize(e.stats().segments());
            long after = dirBytes(dir);
            assertThat((double) after / live).as("disk bytes over live user bytes after compaction (%d -> %d bytes)", before, after)
                    .isLessThanOrEqualTo(1.5);
            EngineStats st = e.stats();
            assertThat(st.segmentTombstones()).as("tombstones dropped at the bottom").isZero();
            assertThat(st.segmentRows()).isEqualTo(model.size());
            assertThat(st.compaction().spaceAmplification()).isLessThanOrEqualTo(1.5);
            for (var en : model.entrySet()) {
                assertThat(e.get(key(en.getKey()))).isEqualTo(value(en.getKey(), en.getValue()));
            }
            assertThat(e.get(key(1))).isNull();
        }
    }

    @Test
    void insertOnlyStoreIsNeverRewrittenForSpace() {
        try (StoreEngine e = StoreEngine.open(dir, config().withCompactionTrigger(1000))) {
            for (int round = 0; round < 6; round++) {
                for (int i = 0; i < 3000; i++) {
                    int k = round * 3000 + i;
                    e.put(key(k), value(k, 0));
                }
                e.flush();
                e.commit(null);
            }
            int segments = e.stats().segments();
            assertThat(segments).isGreaterThanOrEqualTo(6);
            assertThat(e.segmentSpaceAmplification()).as("every sampled row is live").isEqualTo(1.0);
            assertThat(e.compact(Long.MAX_VALUE)).isFalse();
            assertThat(e.stats().compactions()).isZero();
            assertThat(e.stats().compaction().pendingBytes()).isZero();
        }
    }

    @Test
    void readAmplificationIsBroughtUnderItsBound() {
        int trigger = 4;
        try (StoreEngine e = StoreEngine.open(dir, config().withCompactionTrigger(trigger))) {
            for (int round = 0; round < 12; round++) {
                for (int i = 0; i < 2000; i++) {
                    int k = round * 2000 + i;
                    e.put(key(k), value(k, 0));
                }
                e.flush();
                e.commit(null);
            }
            assertThat(e.stats().compaction().readAmplification()).isGreaterThanOrEqualTo(trigger);
            assertThat(e.stats().compaction().pendingBytes()).isPositive();
            compactInSteps(e);
            assertThat(e.stats().compaction().readAmplification()).isLessThan(trigger);
            assertThat(e.stats().compaction().pendingBytes()).isZero();
            for (int k = 0; k < 24_000; k += 997) {
                assertThat(e.get(key(k))).isEqualTo(value(k, 0));
            }
        }
    }

    @Test
    void compactionFiguresAddUp() throws IOException {
        try (StoreEngine e = StoreEngine.open(dir, config().withCompactionTrigger(2))) {
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 3000; i++) {
                    e.put(key(i), value(i, round));
                }
                e.flush();
                e.commit(null);
            }
            EngineStats.Compaction before = e.stats().compaction();
            assertThat(before.flushBytesWritten()).isPositive();
            assertThat(before.logBytesWritten()).isGreaterThanOrEqualTo(3L * 3000 * (16 + VALUE_BYTES));
            compactInSteps(e);
            e.awaitBackgroundForTesting(); // merge inputs are deleted once the manifest without them is on disk
            EngineStats st = e.stats();
            EngineStats.Compaction c = st.compaction();
            assertThat(st.segments()).isEqualTo(1);
            assertThat(c.steps()).isGreaterThan(before.steps());
            assertThat(c.bytesWritten()).isGreaterThanOrEqualTo(st.mappedBytes());
            assertThat(c.bytesRead()).as("two passes over the inputs and one over the output").isGreaterThan(2 * c.bytesWritten());
            assertThat(c.stepNanosMax()).isGreaterThanOrEqualTo(c.stepNanosLast());
            assertThat(c.stepNanosTotal()).isGreaterThanOrEqualTo(c.stepNanosMax());
            assertThat(c.diskBytes()).isEqualTo(dirBytes(dir));
            assertThat(c.liveBytes()).as("keys and values of the live rows").isEqualTo(3000L * (16 + VALUE_BYTES));
            assertThat(c.readAmplification()).isEqualTo(1);
        }
    }

    @Test
    void segmentsFlushedDuringALargeMergeAreMergedAboveIt() {
        int keys = 20_000;
        TreeMap<Integer, Integer> model = new TreeMap<>();
        try (StoreEngine e = StoreEngine.open(dir, config().withCompactionTrigger(3))) {
            for (int i = 0; i < keys; i++) {
                e.put(key(i), value(i, 0));
                model.put(i, 0);
            }
            e.flush();
            e.commit(null);
            for (int i = 0; i < keys; i += 2) {
                e.put(key(i), value(i, 1));
                model.put(i, 1);
            }
            e.flush();
            e.commit(null);
            // Overwrites of half the keys: a space merge of the committed segments is due. Start it, do not
            // finish it. (Flushes merged some pending segments already: count from here.)
            long merged = e.stats().compactions();
            assertThat(e.compact(0)).isTrue();
            assertThat(e.stats().compactions()).isEqualTo(merged);
            int below = e.stats().segments();
            int version = 2;
            for (int round = 0; round < 5; round++) {
                for (int i = round; i < keys; i += 50) {
                    e.put(key(i), value(i, version));
                    model.put(i, version);
                }
                version++;
                e.flush();
                e.commit(null);
            }
            assertThat(e.stats().segments()).isEqualTo(below + 5);
            // The next steps merge the five new segments above the large merge first.
            int guard = 0;
            while (e.stats().compactions() == merged) {
                assertThat(e.compact(0)).isTrue();
                assertThat(++guard).isLessThan(100_000);
            }
            assertThat(e.stats().segments()).as("five merged into one above the large merge, which goes on")
                    .isEqualTo(below + 1);
            assertThat(e.compact(Long.MAX_VALUE / 2)).isFalse();
            EngineStats st = e.stats();
            // a small merge above, then the large one (and, if their garbage together is past the point where
            // a full merge starts, one more of both)
            assertThat(st.compactions()).as("a small merge above, then the large one").isBetween(merged + 2, merged + 3);
            assertThat(st.segments()).isLessThanOrEqualTo(2);
            for (var en : model.entrySet()) {
                assertThat(e.get(key(en.getKey()))).isEqualTo(value(en.getKey(), en.getValue()));
            }
        }
        try (StoreEngine e = StoreEngine.open(dir, config().withCompactionTrigger(3))) {
            for (var en : model.entrySet()) {
                assertThat(e.get(key(en.getKey()))).isEqualTo(value(en.getKey(), en.getValue()));
            }
        }
    }

    @Test
    void aLargeMergeInstallsItsOutputFileByFileAndReleasesInputsAsItGoes() throws IOException {
        int keys = 20_000;
        long fileBytes = 64 * 1024;
        TreeMap<Integer, Integer> model = new TreeMap<>();
        EngineConfig cfg = config().withCompactionTrigger(1000).withCompactionFileBytes(fileBytes);
        try (StoreEngine e = StoreEngine.open(dir, cfg)) {
            for (int i = 0; i < keys; i++) {
                e.put(key(i), value(i, 0));
                model.put(i, 0);
            }
            e.commit(null);
            e.compactFully();
            EngineStats full = e.stats();
            assertThat(full.segments()).as("one sorted run of many files").isGreaterThan(20);
            assertThat(full.compaction().readAmplification()).as("a lookup touches one file of a run").isEqualTo(1);
            // Overwrite 40 % of the keys and delete some: a full merge is due.
            Random rnd = new Random(11);
            for (int j = 0; j < keys * 4 / 10; j++) {
                int i = rnd.nextInt(keys);
                e.put(key(i), value(i, 1));
                model.put(i, 1);
            }
            for (int i = 0; i < keys; i += 7) {
                e.delete(key(i));
                model.remove(i);
            }
            e.flush();
            e.commit(null);
            assertThat(e.compactionDebt()).as("garbage past the point where a full merge starts").isGreaterThanOrEqualTo(0);
            long before = dirBytes(dir);
            long merged = e.stats().compactions();
            long peak = before;
            int partialInstalls = 0;
            java.util.Set<String> lastFiles = segmentFiles(dir);
            int guard = 0;
            while (e.compact(200_000)) {
                peak = Math.max(peak, dirBytes(dir));
                java.util.Set<String> files = segmentFiles(dir);
                if (e.stats().compactions() == merged && !files.equals(lastFiles)) {
                    partialInstalls++;
                    lastFiles = files;
                    // Mid-merge, reads see the newest version of every key.
                    for (int i = 0; i < keys; i += 37) {
                        Integer v = model.get(i);
                        assertThat(e.get(key(i))).as("key %d mid-merge", i).isEqualTo(v == null ? null : value(i, v));
                    }
                }
                assertThat(++guard).isLessThan(1_000_000);
            }
            assertThat(e.stats().compactions()).isGreaterThan(merged);
            assertThat(partialInstalls).as("output files installed while the merge went on").isGreaterThan(5);
            assertThat(peak - before).as("disk never holds the whole output next to the whole input (before %d)", before)
                    .isLessThan(before / 4);
            e.commit(null);
            assertThat(e.stats().segmentTombstones()).as("tombstones with no older version dropped, the rest next time")
                    .isLessThanOrEqualTo((keys + 6) / 7);
            // They are garbage like any other (counted against the bound); the next full merge drops them.
            e.compactFully();
            for (var en : model.entrySet()) {
                assertThat(e.get(key(en.getKey()))).isEqualTo(value(en.getKey(), en.getValue()));
            }
            assertThat(e.get(key(0))).isNull();
            assertThat(e.stats().segmentTombstones()).as("a second merge reaching the bottom drops the rest").isZero();
            assertThat(e.stats().segmentRows()).isEqualTo(model.size());
        }
        try (StoreEngine e = StoreEngine.open(dir, cfg)) {
            for (int i = 0; i < keys; i++) {
                Integer v = model.get(i);
                assertThat(e.get(key(i))).isEqualTo(v == null ? null : value(i, v));
            }
            try (EngineIterator it = e.all()) {
                int n = 0;
                while (it.hasNext()) {
                    it.next();
                    n++;
                }
                assertThat(n).isEqualTo(model.size());
            }
        }
    }

    @Test
    void readAmplificationCountsFilesCoveringOneKey() throws IOException {
        EngineConfig cfg = config().withCompactionTrigger(1000).withCompactionFileBytes(16 * 1024);
        try (StoreEngine e = StoreEngine.open(dir, cfg)) {
            for (int i = 0; i < 5000; i++) {
                e.put(key(i), value(i, 0));
            }
            e.commit(null);
            e.compactFully();
            assertThat(e.stats().segments()).isGreaterThan(10);
            assertThat(e.stats().compaction().readAmplification()).isEqualTo(1);
            for (int i = 0; i < 5000; i += 10) {
                e.put(key(i), value(i, 1)); // fewer than one memtable: one flushed segment
            }
            e.commit(null); // flushed after its commit: written whole, not as the committed state and the rest
            e.flush();
            assertThat(e.stats().compaction().readAmplification()).as("a flushed segment over the run").isEqualTo(2);
        }
    }
}
