package io.github.mmapstore.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Segment files, key order, prefix bounds and bloom filters. */
class SegmentTest {
    @TempDir
    Path dir;

    static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] big(int n, int seed) {
        byte[] v = new byte[n];
        new Random(seed).nextBytes(v);
        return v;
    }

    /** Keys that stress the order: empty, 0x00, 0x7F/0x80 (signed vs unsigned), 0xFF runs, shared 8-byte prefixes. */
    static List<byte[]> trickyKeys() {
        List<byte[]> keys = new ArrayList<>(List.of(
                new byte[0], bytes(0), bytes(0, 0), bytes(0x7F), bytes(0x80), bytes(0xFE, 0xFF), bytes(0xFF),
                bytes(0xFF, 0x00), bytes(0xFF, 0xFF), bytes(0xFF, 0xFF, 0xFF), b("a"), b("a\0"), b("ab"),
                b("abcdefgh"), b("abcdefgh\0"), b("abcdefghi"), b("abcdefgg\u007f"), bytes(0x61, 0xFF), bytes(0x61, 0xFF, 0xFF),
                b("b")));
        keys.sort(Arrays::compareUnsigned);
        return keys;
    }

    static Segment write(Path dir, long number, TreeMap<byte[], byte[]> rows) throws IOException {
        SegmentWriter.Sizes sizes = new SegmentWriter.Sizes(null);
        rows.forEach(sizes::add);
        Path path;
        try (SegmentWriter w = new SegmentWriter(dir, number, sizes)) {
            for (Map.Entry<byte[], byte[]> e : rows.entrySet()) {
                w.add(e.getKey(), e.getValue());
            }
            path = w.finish(false);
        }
        return Segment.open(path, number);
    }

    @Test
    void segmentRoundTripWithEdgeKeysBigValuesAndTombstones() throws IOException {
        TreeMap<byte[], byte[]> rows = new TreeMap<>(Arrays::compareUnsigned);
        List<byte[]> keys = trickyKeys();
        for (int i = 0; i < keys.size(); i++) {
            byte[] v = switch (i % 5) {
                case 0 -> new byte[0];
                case 1 -> null; // tombstone
                case 2 -> big(70_000 + i, i); // > 64 KiB column buffer, spans many pages
                default -> b("v" + i);
            };
            rows.put(keys.get(i), v);
        }
        Segment s = write(dir, 7, rows);
        try {
            s.verifyAll();
            assertThat(s.rows()).isEqualTo(rows.size());
            assertThat(s.tombstones()).isEqualTo(rows.values().stream().filter(v -> v == null).count());
            assertThat(s.firstKey()).isEqualTo(new byte[0]);
            assertThat(s.lastKey()).isEqualTo(bytes(0xFF, 0xFF, 0xFF));
            long row = 0;
            for (Map.Entry<byte[], byte[]> e : rows.entrySet()) {
                assertThat(s.key(row)).isEqualTo(e.getKey());
                assertThat(s.find(e.getKey())).isEqualTo(row);
                assertThat(s.isTombstone(row)).isEqualTo(e.getValue() == null);
                assertThat(s.value(row)).isEqualTo(e.getValue());
                assertThat(s.mightContain(e.getKey(), KeyHash.hash(e.getKey()))).as("no false negatives").isTrue();
                row++;
            }
            // Absent keys: the insertion point is right.
            for (byte[] absent : List.of(bytes(0, 1), bytes(0x7F, 0), b("aa"), b("abcdefgh\0\0"), bytes(0xFF, 0x01), b("c"))) {
                long r = s.find(absent);
                assertThat(r).isNegative();
                long ins = -r - 1;
                long expected = rows.headMap(absent, false).size();
                assertThat(ins).as("insertion point of %s", Arrays.toString(absent)).isEqualTo(expected);
                assertThat(s.lowerBound(absent, true)).isEqualTo(expected);
            }
        } finally {
            s.release();
        }
    }

    EngineConfig config() {
        return EngineConfig.defaults().withFsync(false).withMemtableBytes(4096).withLogBufferBytes(4096);
    }

    @Test
    void engineRoundTripOfEdgeKeysAndBigValuesThroughMemtableSegmentsAndReplay() {
        TreeMap<byte[], byte[]> model = new TreeMap<>(Arrays::compareUnsigned);
        List<byte[]> keys = trickyKeys();
        StoreEngine e = StoreEngine.open(dir, config());
        try {
            for (int i = 0; i < keys.size(); i++) {
                // > 64 KiB and > the 4 KiB log buffer: takes the log's large-frame path and the column's direct write
                byte[] v = i % 3 == 0 ? big(70_000, i) : i % 3 == 1 ? new byte[0] : b("v" + i);
                e.put(keys.get(i), v);
                model.put(keys.get(i), v);
                assertThat(e.get(keys.get(i))).isEqualTo(v);
            }
            e.delete(bytes(0xFF));
            model.remove(bytes(0xFF));
            e.commit(b("c"));
            assertThat(e.stats().segments()).as("big values flushed segments").isPositive();
            check(e, model);
            e.flush();
            check(e, model);
            e.put(b("late"), big(100_000, 99)); // only in the log at reopen
            model.put(b("late"), big(100_000, 99));
            e.commit(b("c2"));
            e.close();
            e = StoreEngine.open(dir, config());
            check(e, model);
            e.compactFully();
            check(e, model);
        } finally {
            e.close();
        }
    }

    static void check(StoreEngine e, TreeMap<byte[], byte[]> model) {
        for (Map.Entry<byte[], byte[]> en : model.entrySet()) {
            assertThat(e.get(en.getKey())).as("get %s", Arrays.toString(en.getKey())).isEqualTo(en.getValue());
        }
        List<Map.Entry<byte[], byte[]>> expected = new ArrayList<>(model.entrySet());
        EngineModelProperties.assertSameEntries("all", EngineModelProperties.drain(e.all()), expected);
        EngineModelProperties.assertSameEntries("reverseAll", EngineModelProperties.drain(e.reverseAll()), expected.reversed());
        // Every prefix of every key, plus the all-0xFF prefixes whose upper bound does not exist.
        List<byte[]> prefixes = new ArrayList<>(List.of(new byte[0], bytes(0xFF), bytes(0xFF, 0xFF), bytes(0xFF, 0xFF, 0xFF, 0xFF),
                bytes(0x61, 0xFF), bytes(0xFE)));
        for (byte[] k : model.keySet()) {
            for (int n = 0; n <= k.length; n++) {
                prefixes.add(Arrays.copyOf(k, n));
            }
        }
        for (byte[] p : prefixes) {
            List<Map.Entry<byte[], byte[]>> want = new ArrayList<>();
            for (Map.Entry<byte[], byte[]> en : model.entrySet()) {
                if (EngineModelProperties.startsWith(en.getKey(), p)) {
                    want.add(en);
                }
            }
            EngineModelProperties.assertSameEntries("prefixScan " + Arrays.toString(p),
                    EngineModelProperties.drain(e.prefixScan(p, false)), want);
            EngineModelProperties.assertSameEntries("reverse prefixScan " + Arrays.toString(p),
                    EngineModelProperties.drain(e.prefixScan(p, true)), want.reversed());
        }
    }

    @Test
    void prefixUpperBound() {
        assertThat(KeyOrder.prefixUpperBound(new byte[0])).isNull();
        assertThat(KeyOrder.prefixUpperBound(bytes(0xFF))).isNull();
        assertThat(KeyOrder.prefixUpperBound(bytes(0xFF, 0xFF, 0xFF))).isNull();
        assertThat(KeyOrder.prefixUpperBound(bytes(0x01, 0xFF))).isEqualTo(bytes(0x02));
        assertThat(KeyOrder.prefixUpperBound(bytes(0x61, 0x62))).isEqualTo(bytes(0x61, 0x63));
        assertThat(KeyOrder.prefixUpperBound(bytes(0x7F))).isEqualTo(bytes(0x80));
        assertThat(KeyOrder.prefixUpperBound(bytes(0xFE, 0xFF, 0xFF))).isEqualTo(bytes(0xFF));
        byte[] in = bytes(0x10, 0xFF);
        KeyOrder.prefixUpperBound(in);
        assertThat(in).as("input not modified").isEqualTo(bytes(0x10, 0xFF));
        // The bound is above every key with the prefix and at or below every larger key.
        Random rnd = new Random(1);
        for (int i = 0; i < 20_000; i++) {
            byte[] p = randomKey(rnd, 3);
            byte[] k = randomKey(rnd, 5);
            byte[] ub = KeyOrder.prefixUpperBound(p);
            boolean has = EngineModelProperties.startsWith(k, p);
            if (ub == null) {
                assertThat(has || Arrays.compareUnsigned(k, p) < 0).isTrue();
            } else if (has) {
                assertThat(Arrays.compareUnsigned(k, ub)).isNegative();
            } else if (Arrays.compareUnsigned(k, p) > 0) {
                assertThat(Arrays.compareUnsigned(k, ub)).isGreaterThanOrEqualTo(0);
            }
        }
    }

    static byte[] randomKey(Random rnd, int maxLen) {
        byte[] k = new byte[rnd.nextInt(maxLen + 1)];
        for (int j = 0; j < k.length; j++) {
            int c = rnd.nextInt(4);
            k[j] = (byte) (c == 0 ? 0 : c == 1 ? 0xFF : c == 2 ? 0x80 : rnd.nextInt(256));
        }
        return k;
    }

    @Test
    void keyOrderIsUnsignedLexicographic() throws IOException {
        Random rnd = new Random(2);
        for (int i = 0; i < 50_000; i++) {
            byte[] a = randomKey(rnd, 10);
            byte[] c = rnd.nextInt(4) == 0 ? Arrays.copyOf(a, rnd.nextInt(a.length + 1)) : randomKey(rnd, 10);
            int want = Integer.signum(Arrays.compareUnsigned(a, c));
            assertThat(Integer.signum(KeyOrder.compare(a, c))).isEqualTo(want);
            assertThat(Integer.signum(KeyOrder.COMPARATOR.compare(a, c))).isEqualTo(want);
            byte[] padded = new byte[c.length + 6];
            System.arraycopy(c, 0, padded, 3, c.length);
            assertThat(Integer.signum(KeyOrder.compare(a, MemorySegment.ofArray(padded), 3, c.length)))
                    .as("%s vs %s", Arrays.toString(a), Arrays.toString(c)).isEqualTo(want);
            long pa = KeyOrder.prefix(a);
            long pc = KeyOrder.prefix(c);
            if (pa != pc) {
                assertThat(Integer.signum(Long.compareUnsigned(pa, pc))).isEqualTo(want);
            }
        }
        // Hand-written: 0x80 sorts after 0x7F (signed order would put it first); shorter first on a common prefix.
        assertThat(KeyOrder.compare(bytes(0x80), bytes(0x7F))).isPositive();
        assertThat(KeyOrder.compare(bytes(0xFF), bytes(0xFF, 0x00))).isNegative();
        assertThat(KeyOrder.compare(new byte[0], bytes(0))).isNegative();

        // And the engine iterates in that order from the memtable and from segments alike.
        TreeMap<byte[], byte[]> model = new TreeMap<>(Arrays::compareUnsigned);
        try (StoreEngine e = StoreEngine.open(dir, config())) {
            for (int i = 0; i < 3000; i++) {
                byte[] k = randomKey(rnd, 10);
                e.put(k, b("" + i));
                model.put(k, b("" + i));
            }
            assertThat(e.stats().segments()).isPositive();
            EngineModelProperties.assertSameEntries("all", EngineModelProperties.drain(e.all()), new ArrayList<>(model.entrySet()));
        }
    }

    @Test
    void bloomFilterFalsePositiveRateIsBelowThreePercent() throws IOException {
        int n = 20_000;
        byte[] filter = new byte[(int) BloomFilter.bytesFor(n)];
        for (int i = 0; i < n; i++) {
            BloomFilter.add(filter, KeyHash.hash(b("present-" + i)));
        }
        MemorySegment f = MemorySegment.ofArray(filter);
        for (int i = 0; i < n; i++) {
            assertThat(BloomFilter.mightContain(f, KeyHash.hash(b("present-" + i)))).isTrue();
        }
        int probes = 200_000;
        int fp = 0;
        for (int i = 0; i < probes; i++) {
            if (BloomFilter.mightContain(f, KeyHash.hash(b("absent-" + i)))) {
                fp++;
            }
        }
        double rate = (double) fp / probes;
        System.out.printf("bloom false-positive rate %.4f%n", rate);
        assertThat(rate).isLessThan(0.03);

        // Same through a segment file, with short binary keys (hash quality on tiny inputs).
        TreeMap<byte[], byte[]> rows = new TreeMap<>(Arrays::compareUnsigned);
        for (int i = 0; i < 5000; i++) {
            rows.put(new byte[] {(byte) (i >>> 8), (byte) i}, bytes(1));
        }
        Segment s = write(dir, 3, rows);
        try {
            int sfp = 0;
            int sprobes = 0;
            for (int i = 0; i < 5000; i++) {
                // inside the segment's key range, so the filter (not the range check) has to answer
                byte[] k = new byte[] {(byte) (i >>> 8), (byte) i, 7};
                sprobes++;
                if (s.mightContain(k, KeyHash.hash(k))) {
                    sfp++;
                }
            }
            for (byte[] k : rows.keySet()) {
                assertThat(s.mightContain(k, KeyHash.hash(k))).isTrue();
            }
            assertThat((double) sfp / sprobes).isLessThan(0.03);
        } finally {
            s.release();
        }
    }
}
