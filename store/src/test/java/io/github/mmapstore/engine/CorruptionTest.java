package io.github.mmapstore.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Flips bits of one byte at a time in every file of a small closed store and checks that the engine
 * never returns a wrong answer. For each damaged copy exactly one of these must hold:
 * <ol>
 *   <li>(a) the store opens and every get, the full scan (both directions) and the commit metadata are
 *       exactly right;</li>
 *   <li>(b) a read throws {@link CorruptionException} (or {@link EngineClosedException} caused by one)
 *       naming the damaged file, and the next open is (c);</li>
 *   <li>(c) the open reports {@code rebuiltAfterCorruption}, the store is empty with null commit
 *       metadata, and the damaged file, byte for byte as damaged, sits in a {@code quarantine-*}
 *       folder.</li>
 * </ol>
 * The log and the manifest are checked in full at open, so damage there must always give (c).
 *
 * <p>Positions are a seeded sample (every byte of small files, the first 24 and last 200 bytes of
 * every file, and a proportional random share of the rest), at least 2,000 in total. The seed is
 * printed and can be fixed with {@code -Dcorruption.seed=N}.
 */
class CorruptionTest {
    private static final int TARGET_POSITIONS = 1300;

    @TempDir
    Path tmp;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    EngineConfig config() {
        return EngineConfig.defaults().withMemtableBytes(16 * 1024).withFsync(false).withCompactionTrigger(3);
    }

    /** Builds the store; returns the expected contents. */
    TreeMap<byte[], byte[]> build(Path dir, byte[] meta) {
        TreeMap<byte[], byte[]> model = new TreeMap<>(Arrays::compareUnsigned);
        Random rnd = new Random(7);
        try (StoreEngine e = StoreEngine.open(dir, config())) {
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 300; i++) {
                    if (rnd.nextInt(3) == 0 && round > 0) {
                        continue;
                    }
                    byte[] k = b(String.format("key%04d", i));
                    int len = i % 97 == 5 ? 6000 : i % 50 == 0 ? 0 : 10 + rnd.nextInt(40);
                    byte[] v = new byte[len];
                    rnd.nextBytes(v);
                    e.put(k, v);
                    model.put(k, v);
                }
                for (int i = 0; i < 20; i++) {
                    byte[] k = b(String.format("key%04d", rnd.nextInt(300)));
                    e.delete(k);
                    model.remove(k);
                }
                e.flush();
                e.commit(b("meta-round-" + round));
                if (round == 1) {
                    e.compactFully();
                }
            }
            // Committed records that live only in the log (no flush after them).
            for (int i = 0; i < 40; i++) {
                byte[] k = b(String.format("key%04d", rnd.nextInt(320)));
                if (i % 5 == 0) {
                    e.delete(k);
                    model.remove(k);
                } else {
                    byte[] v = b("log-" + i);
                    e.put(k, v);
                    model.put(k, v);
                }
            }
            e.commit(meta);
            assertThat(e.stats().segments()).as("several segments").isGreaterThanOrEqualTo(2);
        }
        return model;
    }

    @Test
    void flippedBytesAreDetectedOrHarmless() throws IOException {
        long seed = Long.getLong("corruption.seed", System.nanoTime());
        System.out.println("CorruptionTest seed = " + seed + " (rerun with -Dcorruption.seed=" + seed + ")");
        Random rnd = new Random(seed);

        Path template = tmp.resolve("template");
        byte[] meta = b("offsets:{t-0:42}");
        TreeMap<byte[], byte[]> model = build(template, meta);
        List<byte[]> allKeys = new ArrayList<>(model.keySet());
        for (int i = 0; i < 330; i++) {
            allKeys.add(b(String.format("key%04d", i))); // deleted and never-written keys too
        }

        List<Path> files;
        try (Stream<Path> s = Files.list(template)) {
            files = s.filter(p -> !p.getFileName().toString().equals(FileNames.LOCK)).sorted().toList();
        }
        assertThat(files).anyMatch(p -> p.toString().endsWith(".log"));
        assertThat(files).anyMatch(p -> p.getFileName().toString().equals(FileNames.MANIFEST));
        assertThat(files.stream().filter(p -> p.toString().endsWith(".seg")).count()).isGreaterThanOrEqualTo(2);
        // Sanity: the undamaged copy is outcome (a).
        {
            Path copy = copyOf(template, tmp.resolve("pristine"));
            try (StoreEngine e = StoreEngine.open(copy, config())) {
                assertThat(e.openReport().rebuiltAfterCorruption()).isFalse();
                checkExact(e, model, allKeys, meta);
            }
        }

        long total = 0;
        Map<String, byte[]> original = new TreeMap<>();
        for (Path f : files) {
            total += Files.size(f);
            original.put(f.getFileName().toString(), Files.readAllBytes(f));
        }
        record Damage(String name, int pos, int mask) {
        }
        List<Damage> damages = new ArrayList<>();
        for (Path f : files) {
            int size = (int) Files.size(f);
            TreeSet<Integer> chosen = new TreeSet<>();
            if (size <= 600) {
                for (int i = 0; i < size; i++) {
                    chosen.add(i);
                }
            } else {
                for (int i = 0; i < 24; i++) {
                    chosen.add(i);
                }
                for (int i = size - 200; i < size; i++) {
                    chosen.add(i);
                }
                long share = Math.max(100, TARGET_POSITIONS * (long) size / total);
                for (int i = 0; i < share; i++) {
                    chosen.add(rnd.nextInt(size));
                }
            }
            for (int pos : chosen) {
                damages.add(new Damage(f.getFileName().toString(), pos, 1 + rnd.nextInt(255)));
            }
        }
        // Each damaged copy is independent; the opens are dominated by directory syncs (quarantine,
        // corruption marker), so a few threads shorten the run even on two cores.
        AtomicIntegerArray outcomes = new AtomicIntegerArray(3);
        AtomicInteger iteration = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (Damage d : damages) {
                futures.add(pool.submit(() -> {
                    // Undamaged files are hard links to the template (the engine only reads, renames and
                    // deletes them here; the template is checked unchanged at the end); the damaged one is a copy.
                    Path copy = linkOf(template, tmp.resolve("it" + iteration.incrementAndGet()), d.name);
                    byte[] bytes = original.get(d.name).clone();
                    bytes[d.pos] ^= (byte) d.mask;
                    Files.write(copy.resolve(d.name), bytes);
                    String where = d.name + " byte " + d.pos + " ^ 0x" + Integer.toHexString(d.mask) + " (seed " + seed + ")";
                    try {
                        outcomes.incrementAndGet(check(copy, d.name, d.pos, bytes, model, allKeys, meta, where));
                    } finally {
                        EngineModelProperties.deleteRecursively(copy);
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException ex) {
                    if (ex.getCause() instanceof AssertionError ae) {
                        throw ae;
                    }
                    throw new AssertionError(ex.getCause());
                } catch (InterruptedException ex) {
                    throw new AssertionError(ex);
                }
            }
        } finally {
            pool.shutdownNow();
        }
        int positions = damages.size();
        System.out.printf("CorruptionTest: %d positions in %d files: (a) right answers %d, (b) read failed %d, (c) rebuilt at open %d%n",
                positions, files.size(), outcomes.get(0), outcomes.get(1), outcomes.get(2));
        for (Path f : files) {
            assertThat(Files.readAllBytes(f)).as("template file %s unchanged", f).isEqualTo(original.get(f.getFileName().toString()));
        }
        assertThat(positions).isGreaterThanOrEqualTo(2000);
        assertThat(outcomes.get(2)).as("damage detected at open").isPositive();
        assertThat(outcomes.get(1)).as("damage detected by a read").isPositive();
    }

    /** Returns 0, 1 or 2 for outcome (a), (b), (c); fails on anything else. */
    int check(Path dir, String name, int pos, byte[] damagedBytes, TreeMap<byte[], byte[]> model, List<byte[]> allKeys,
              byte[] meta, String where) throws IOException {
        boolean segment = name.endsWith(FileNames.SEGMENT_SUFFIX);
        StoreEngine e;
        try {
            e = StoreEngine.open(dir, config());
        } catch (RuntimeException ex) {
            throw new AssertionError(where + ": open must not throw, it must quarantine: " + ex, ex);
        }
        try {
            if (e.openReport().rebuiltAfterCorruption()) {
                checkRebuilt(e, dir, name, damagedBytes, allKeys, where);
                return 2;
            }
            assertThat(segment).as(where + ": damage in the log or manifest must be found at open").isTrue();
            assertThat(e.lastCommitMetadata()).as(where + ": metadata").isEqualTo(meta);
            try {
                checkExact(e, model, allKeys, meta);
                return 0;
            } catch (CorruptionException ce) {
                assertNamesDamage(ce, name, pos, where);
            } catch (EngineClosedException ece) {
                if (!(ece.getCause() instanceof CorruptionException ce)) {
                    throw new AssertionError(where + ": unexpected " + ece, ece);
                }
                assertNamesDamage(ce, name, pos, where);
            }
        } catch (AssertionError | RuntimeException ex) {
            if (ex instanceof AssertionError) {
                throw new AssertionError(where + ": " + ex.getMessage(), ex);
            }
            throw new AssertionError(where + ": unexpected exception " + ex, ex);
        } finally {
            e.close();
        }
        // (b): the next open must rebuild.
        try (StoreEngine again = StoreEngine.open(dir, config())) {
            assertThat(again.openReport().rebuiltAfterCorruption()).as(where + ": reopen after a failed read rebuilds").isTrue();
            checkRebuilt(again, dir, name, damagedBytes, allKeys, where);
        }
        return 1;
    }

    static void assertNamesDamage(CorruptionException ce, String name, int pos, String where) {
        assertThat(ce.file().getFileName().toString()).as(where + ": exception names the damaged file: " + ce.getMessage())
                .isEqualTo(name);
        assertThat(ce.getMessage()).contains(name).contains("offset");
        if (ce.getMessage().contains("page")) {
            assertThat(ce.offset() / SegmentFormat.PAGE_BYTES).as(where + ": names the damaged page").isEqualTo(pos / SegmentFormat.PAGE_BYTES);
        }
    }

    static void checkRebuilt(StoreEngine e, Path dir, String name, byte[] damagedBytes, List<byte[]> allKeys, String where)
            throws IOException {
        assertThat(e.lastCommitMetadata()).as(where + ": rebuilt store has no commit metadata").isNull();
        assertThat(EngineModelProperties.drain(e.all())).as(where + ": rebuilt store is empty").isEmpty();
        for (byte[] k : allKeys) {
            assertThat(e.get(k)).as(where + ": rebuilt store is empty").isNull();
        }
        Path q = e.openReport().quarantine();
        assertThat(q).as(where + ": quarantine folder").isNotNull();
        assertThat(q.getFileName().toString()).startsWith(FileNames.QUARANTINE_PREFIX);
        assertThat(q.getParent()).isEqualTo(dir);
        assertThat(Files.readAllBytes(q.resolve(name))).as(where + ": damaged file kept, unchanged, in quarantine")
                .isEqualTo(damagedBytes);
    }

    static void checkExact(StoreEngine e, TreeMap<byte[], byte[]> model, List<byte[]> allKeys, byte[] meta) {
        for (byte[] k : allKeys) {
            byte[] got = e.get(k);
            byte[] want = model.get(k);
            if (!Arrays.equals(got, want)) {
                fail("wrong value for " + new String(k, StandardCharsets.UTF_8) + ": "
                        + EngineModelProperties.show(got) + " instead of " + EngineModelProperties.show(want));
            }
        }
        List<Map.Entry<byte[], byte[]>> expected = new ArrayList<>(model.entrySet());
        EngineModelProperties.assertSameEntriesBytes("full scan", EngineModelProperties.drain(e.all()), expected);
        EngineModelProperties.assertSameEntriesBytes("reverse scan", EngineModelProperties.drain(e.reverseAll()),
                expected.reversed());
        assertThat(e.lastCommitMetadata()).isEqualTo(meta);
    }

    static Path linkOf(Path from, Path to, String damagedName) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (Files.isRegularFile(p) && !n.equals(damagedName) && !n.equals(FileNames.LOCK)) {
                    Files.createLink(to.resolve(n), p);
                }
            }
        }
        return to;
    }

    static Path copyOf(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.toList()) {
                if (Files.isRegularFile(p)) {
                    Files.copy(p, to.resolve(p.getFileName()));
                }
            }
        }
        return to;
    }
}
