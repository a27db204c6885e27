package io.github.mmapstore.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import net.jqwik.api.AfterFailureMode;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterTry;
import net.jqwik.api.lifecycle.BeforeTry;
import net.jqwik.api.statistics.Statistics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The layouts of segment format 2 (see {@link SegmentFormat}): keys of one length (0 to 20 bytes, so
 * also keys shorter than the 8-byte search prefix, which is then zero-padded) or of varying length,
 * values of one length (0 to 300 bytes) or of varying length, and no, few, many or only tombstones.
 * Every row set is written, opened and read back row by row and through the index; the column
 * directory must hold exactly the structural columns the rows call for, which the test derives from
 * the rows themselves (not from {@link SegmentWriter.Sizes}), so a writer that chose a layout wrongly
 * fails here too.
 */
class SegmentLayoutTest {
    static final java.util.Comparator<byte[]> ORDER = Arrays::compareUnsigned;

    /** How many of the rows are tombstones. */
    enum Tombstones { NONE, FEW, MANY, ALL }

    /**
     * One generated row set: {@code keyLength} / {@code valueLength} -1 means varying lengths. Values of
     * a tombstone are null.
     */
    record RowSet(int keyLength, int valueLength, Tombstones tombstones, long seed, TreeMap<byte[], byte[]> rows) {
        @Override
        public String toString() {
            return "RowSet[keys=" + (keyLength < 0 ? "varying" : keyLength + " bytes")
                    + ", values=" + (valueLength < 0 ? "varying" : valueLength + " bytes")
                    + ", tombstones=" + tombstones + ", rows=" + rows.size() + ", seed=" + seed + "]";
        }

        List<byte[]> keys() {
            return new ArrayList<>(rows.keySet());
        }

        long tombstoneCount() {
            return rows.values().stream().filter(v -> v == null).count();
        }
    }

    /** Bytes often seen at the edges of unsigned order (0x00, 0x7F/0x80 sign boundary, 0xFF). */
    private static final byte[] EDGE_BYTES = {0x00, 0x01, 0x7F, (byte) 0x80, (byte) 0xFE, (byte) 0xFF};

    private static byte randomByte(Random rnd) {
        return rnd.nextBoolean() ? EDGE_BYTES[rnd.nextInt(EDGE_BYTES.length)] : (byte) rnd.nextInt(256);
    }

    /**
     * A row set of up to {@code wanted} rows (fewer when the key length allows fewer distinct keys).
     * Half the keys start with one of three shared 8-byte stems, so many keys share their search prefix
     * and the search must fall through to the full key.
     */
    static RowSet rowSet(int keyLength, int valueLength, Tombstones share, int wanted, long seed) {
        Random rnd = new Random(seed);
        byte[][] stems = new byte[3][8];
        for (byte[] stem : stems) {
            for (int i = 0; i < 8; i++) {
                stem[i] = randomByte(rnd);
            }
        }
        TreeSet<byte[]> keys = new TreeSet<>(ORDER);
        for (int attempt = 0; attempt < wanted * 8 && keys.size() < wanted; attempt++) {
            int len = keyLength >= 0 ? keyLength : rnd.nextInt(21);
            byte[] key = new byte[len];
            int from = 0;
            if (rnd.nextBoolean()) {
                from = Math.min(len, 1 + rnd.nextInt(8));
                System.arraycopy(stems[rnd.nextInt(stems.length)], 0, key, 0, from);
            }
            for (int i = from; i < len; i++) {
                key[i] = randomByte(rnd);
            }
            keys.add(key);
        }
        int n = keys.size();
        Set<Integer> dead = new HashSet<>();
        switch (share) {
            case NONE -> { }
            case FEW -> {
                int count = 1 + rnd.nextInt(Math.max(1, n / 20));
                for (int i = 0; i < count; i++) {
                    dead.add(rnd.nextInt(n));
                }
            }
            case MANY -> {
                for (int i = 0; i < n; i++) {
                    if (rnd.nextInt(10) < 6) {
                        dead.add(i);
                    }
                }
            }
            case ALL -> {
                for (int i = 0; i < n; i++) {
                    dead.add(i);
                }
            }
        }
        TreeMap<byte[], byte[]> rows = new TreeMap<>(ORDER);
        int i = 0;
        for (byte[] key : keys) {
            byte[] value = null;
            if (!dead.contains(i)) {
                value = new byte[valueLength >= 0 ? valueLength : rnd.nextInt(301)];
                rnd.nextBytes(value);
            }
            rows.put(key, value);
            i++;
        }
        return new RowSet(keyLength, valueLength, share, seed, rows);
    }

    @Provide
    Arbitrary<RowSet> rowSets() {
        Arbitrary<Integer> keyLength = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just(-1)),
                Tuple.of(2, Arbitraries.integers().between(0, 7)),
                Tuple.of(3, Arbitraries.integers().between(8, 20)));
        Arbitrary<Integer> valueLength = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just(-1)),
                Tuple.of(1, Arbitraries.integers().between(0, 4)),
                Tuple.of(3, Arbitraries.integers().between(0, 300)));
        Arbitrary<Integer> wanted = Arbitraries.frequencyOf(
                Tuple.of(1, Arbitraries.integers().between(1, 5)),
                Tuple.of(3, Arbitraries.integers().between(6, 400)));
        return Combinators.combine(keyLength, valueLength, Arbitraries.of(Tombstones.class), wanted,
                Arbitraries.longs()).as(SegmentLayoutTest::rowSet);
    }

    private Path dir;

    @BeforeTry
    void createDir() throws IOException {
        dir = Files.createTempDirectory("mmapstore-layout-");
    }

    @AfterTry
    void deleteDir() throws IOException {
        deleteTree(dir);
    }

    static void deleteTree(Path root) throws IOException {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Collections.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    // =============================================================================================
    // Expectations, derived from the rows alone
    // =============================================================================================

    /** The one length of every key, or -1. */
    static long commonKeyLength(RowSet set) {
        Set<Integer> lengths = new HashSet<>();
        set.rows.keySet().forEach(k -> lengths.add(k.length));
        return lengths.size() == 1 ? lengths.iterator().next() : -1;
    }

    /** The one length of every present value (0 when there is none), or -1. */
    static long commonValueLength(RowSet set) {
        Set<Integer> lengths = new HashSet<>();
        set.rows.values().stream().filter(v -> v != null).forEach(v -> lengths.add(v.length));
        return lengths.isEmpty() ? 0 : lengths.size() == 1 ? lengths.iterator().next() : -1;
    }

    /**
     * Whether the values are stored in fixed slots: they share one length, and zeroed slots for the
     * tombstones cost no more than the rows + 1 four-byte offsets the alternative needs.
     */
    static boolean fixedValueSlots(RowSet set) {
        long length = commonValueLength(set);
        return length >= 0 && set.tombstoneCount() * length <= (set.rows.size() + 1) * 4L;
    }

    /** Column id to length, for the structural columns these rows call for. */
    static Map<Integer, Long> expectedColumns(RowSet set) {
        long rows = set.rows.size();
        long keyBytes = set.rows.keySet().stream().mapToLong(k -> k.length).sum();
        long valueBytes = set.rows.values().stream().filter(v -> v != null).mapToLong(v -> v.length).sum();
        Map<Integer, Long> out = new TreeMap<>();
        out.put(SegmentFormat.COL_KEYS, keyBytes);
        if (commonKeyLength(set) < 0) {
            out.put(SegmentFormat.COL_KEY_PREFIX, rows * 8);
            out.put(SegmentFormat.COL_KEY_OFFSETS_32, (rows + 1) * 4);
        }
        if (fixedValueSlots(set)) {
            out.put(SegmentFormat.COL_VALUES, rows * commonValueLength(set));
        } else {
            out.put(SegmentFormat.COL_VALUES, valueBytes);
            out.put(SegmentFormat.COL_VALUE_OFFSETS_32, (rows + 1) * 4);
        }
        if (set.tombstoneCount() > 0) {
            out.put(SegmentFormat.COL_FLAGS, rows);
        }
        return out;
    }

    /** Keys that are not in the set: next to each key, before the first and after the last. */
    static List<byte[]> probes(RowSet set, Random rnd) {
        List<byte[]> out = new ArrayList<>();
        out.add(new byte[0]);
        byte[] high = new byte[22];
        Arrays.fill(high, (byte) 0xFF);
        out.add(high);
        for (byte[] key : set.rows.keySet()) {
            out.add(Arrays.copyOf(key, key.length + 1)); // just above the key
            if (key.length > 0) {
                out.add(Arrays.copyOf(key, key.length - 1)); // a proper prefix: below it
                byte[] up = key.clone();
                up[up.length - 1]++;
                out.add(up);
                byte[] down = key.clone();
                down[down.length - 1]--;
                out.add(down);
                byte[] shorterPadded = Arrays.copyOf(key, Math.max(0, key.length - 1));
                out.add(Arrays.copyOf(shorterPadded, shorterPadded.length + 2));
            }
            byte[] random = new byte[rnd.nextInt(21)];
            rnd.nextBytes(random);
            out.add(random);
        }
        return out;
    }

    // =============================================================================================
    // Properties
    // =============================================================================================

    @Property(tries = 300, edgeCases = EdgeCasesMode.MIXIN, afterFailure = AfterFailureMode.SAMPLE_FIRST)
    void everyLayoutReadsBackItsRows(@ForAll("rowSets") RowSet set) throws IOException {
        collectLayout(set);
        Segment s = SegmentTest.write(dir, 1, set.rows);
        try {
            s.verifyAll();
            List<byte[]> keys = set.keys();
            assertThat(s.rows()).isEqualTo(keys.size());
            assertThat(s.tombstones()).isEqualTo(set.tombstoneCount());
            assertThat(s.firstKey()).isEqualTo(keys.get(0));
            assertThat(s.lastKey()).isEqualTo(keys.get(keys.size() - 1));
            long userBytes = 0;
            for (int row = 0; row < keys.size(); row++) {
                byte[] key = keys.get(row);
                byte[] value = set.rows.get(key);
                assertThat(s.key(row)).as("key of row %d", row).isEqualTo(key);
                assertThat(s.prefix(row)).as("prefix of row %d", row).isEqualTo(KeyOrder.prefix(key));
                assertThat(s.isTombstone(row)).as("tombstone flag of row %d", row).isEqualTo(value == null);
                assertThat(s.value(row)).as("value of row %d", row).isEqualTo(value);
                assertThat(s.storedValueLength(row)).as("stored value length of row %d", row)
                        .isEqualTo(value == null ? -1 : value.length);
                if (value != null) {
                    assertThat(s.storedValue(row)).as("stored value of row %d", row).isEqualTo(value);
                }
                assertThat(s.find(key)).as("find of the key of row %d", row).isEqualTo(row);
                assertThat(s.lowerBound(key, true)).isEqualTo(row);
                assertThat(s.lowerBound(key, false)).isEqualTo(row + 1);
                assertThat(s.mightContain(key, KeyHash.hash(key))).as("bloom of row %d", row).isTrue();
                userBytes += key.length + (value == null ? 0 : value.length);
            }
            assertThat(s.userBytes()).isEqualTo(userBytes);
        } finally {
            s.release();
        }
    }

    /**
     * Counts the layouts the generator produced, and fails the property when one was never produced
     * (a generator change that stops reaching a layout must not pass unnoticed).
     */
    static void collectLayout(RowSet set) {
        long keyLength = commonKeyLength(set);
        String keys = keyLength < 0 ? "varying" : keyLength < 8 ? "fixed, under 8 bytes" : "fixed, 8 bytes or more";
        String values = !fixedValueSlots(set) ? "offsets" : set.tombstoneCount() == 0 ? "fixed slots"
                : commonValueLength(set) == 0 || set.tombstoneCount() == set.rows.size() ? "fixed empty slots with tombstones"
                : "fixed slots with zeroed tombstone slots";
        Statistics.label("keys").collect(keys);
        Statistics.label("values").collect(values);
        Statistics.label("tombstones").collect(set.tombstones);
        Statistics.label("keys").coverage(c -> {
            c.check("varying").count(n -> n > 0);
            c.check("fixed, under 8 bytes").count(n -> n > 0);
            c.check("fixed, 8 bytes or more").count(n -> n > 0);
        });
        Statistics.label("values").coverage(c -> {
            c.check("offsets").count(n -> n > 0);
            c.check("fixed slots").count(n -> n > 0);
            c.check("fixed empty slots with tombstones").count(n -> n > 0);
            c.check("fixed slots with zeroed tombstone slots").count(n -> n > 0);
        });
        Statistics.label("tombstones").coverage(c -> {
            for (Tombstones t : Tombstones.values()) {
                c.check(t).count(n -> n > 0);
            }
        });
    }

    @Property(tries = 300, edgeCases = EdgeCasesMode.MIXIN, afterFailure = AfterFailureMode.SAMPLE_FIRST)
    void absentKeysAreNotFoundAndBoundAtTheirInsertionPoint(@ForAll("rowSets") RowSet set) throws IOException {
        Segment s = SegmentTest.write(dir, 1, set.rows);
        try {
            List<byte[]> keys = set.keys();
            for (byte[] probe : probes(set, new Random(set.seed))) {
                int expected = Collections.binarySearch(keys, probe, ORDER);
                String what = "probe " + java.util.HexFormat.of().formatHex(probe);
                assertThat(s.find(probe)).as(what).isEqualTo(expected);
                long insertion = expected >= 0 ? expected : -expected - 1;
                assertThat(s.lowerBound(probe, true)).as(what + " inclusive").isEqualTo(insertion);
                assertThat(s.lowerBound(probe, false)).as(what + " exclusive")
                        .isEqualTo(expected >= 0 ? expected + 1 : insertion);
            }
        } finally {
            s.release();
        }
    }

    @Property(tries = 300, edgeCases = EdgeCasesMode.MIXIN, afterFailure = AfterFailureMode.SAMPLE_FIRST)
    void columnDirectoryHoldsExactlyTheStructuralColumnsTheRowsNeed(@ForAll("rowSets") RowSet set) throws IOException {
        Segment s = SegmentTest.write(dir, 1, set.rows);
        try {
            Map<Integer, Long> actual = new TreeMap<>();
            s.columnDirectory().forEach((id, c) -> {
                if (id != SegmentFormat.COL_BLOOM) {
                    actual.put(id, c[1]);
                }
            });
            assertThat(actual).isEqualTo(expectedColumns(set));
            assertThat(s.columnDirectory()).containsKey(SegmentFormat.COL_BLOOM);
            long keyLength = commonKeyLength(set);
            String keys = keyLength >= 0 ? "keys of " + keyLength + " bytes each" : "keys with 4-byte offsets";
            String values = fixedValueSlots(set) ? "values of " + commonValueLength(set) + " bytes each"
                    : "values with 4-byte offsets";
            assertThat(s.layout()).isEqualTo(keys + ", " + values);
        } finally {
            s.release();
        }
    }

    /**
     * Through the engine: a first flush of the rows' keys, then a second of the row set itself (its
     * tombstones delete keys of the first), each segment in the row set's layout. The verifier finds
     * nothing to report, before and after a full compaction, and the engine reads the expected state.
     */
    @Property(tries = 40, edgeCases = EdgeCasesMode.MIXIN, afterFailure = AfterFailureMode.SAMPLE_FIRST)
    void verifierAcceptsStoresOfEveryLayout(@ForAll("rowSets") RowSet set) throws IOException {
        EngineConfig config = EngineConfig.defaults().withFsync(false);
        TreeMap<byte[], byte[]> model = new TreeMap<>(ORDER);
        try (StoreEngine e = StoreEngine.open(dir, config)) {
            for (byte[] key : set.rows.keySet()) {
                byte[] first = set.rows.get(key) == null ? new byte[] {1, 2, 3} : set.rows.get(key);
                e.put(key, first);
                model.put(key, first);
            }
            e.commit(new byte[] {1});
            e.flush();
            apply(e, model, set.rows);
            e.commit(new byte[] {2});
            e.flush();
            e.commit(new byte[] {3});
        }
        try (StoreSnapshot snap = StoreSnapshot.open(dir, null)) {
            assertThat(snap.segments()).hasSize(2);
            StoreSnapshot.SegmentInfo second = snap.segments().stream()
                    .max(java.util.Comparator.comparingLong(StoreSnapshot.SegmentInfo::number)).orElseThrow();
            Set<Integer> ids = new TreeSet<>();
            second.columns().forEach(c -> ids.add(c.id()));
            ids.remove(SegmentFormat.COL_BLOOM);
            assertThat(ids).isEqualTo(expectedColumns(set).keySet());
        }
        assertThat(StoreVerifier.verify(dir).findings()).isEmpty();
        try (StoreEngine e = StoreEngine.open(dir, config)) {
            e.compactFully();
            e.commit(new byte[] {4});
            assertContent(e, model);
        }
        assertThat(StoreVerifier.verify(dir).findings()).isEmpty();
    }

    /** Writes {@code rows} (null: a delete) to the engine and to the model. */
    private static void apply(StoreEngine e, TreeMap<byte[], byte[]> model, Map<byte[], byte[]> rows) {
        for (Map.Entry<byte[], byte[]> row : rows.entrySet()) {
            if (row.getValue() == null) {
                e.delete(row.getKey());
                model.remove(row.getKey());
            } else {
                e.put(row.getKey(), row.getValue());
                model.put(row.getKey(), row.getValue());
            }
        }
    }

    @Provide
    Arbitrary<List<RowSet>> rowSetLists() {
        return rowSets().list().ofMinSize(2).ofMaxSize(4);
    }

    /**
     * Merges of segments in different layouts: each row set is one flush (its tombstones delete, and it
     * overwrites a few keys of the sets before it with values of its own length policy), then compaction
     * runs to the end, with outputs cut into files of about 4 KiB or not cut. Every file the merge wrote
     * holds exactly the structural columns its own rows call for, the engine reads the model's state
     * before and after a reopen, and the verifier finds nothing.
     */
    @Property(tries = 40, edgeCases = EdgeCasesMode.MIXIN, afterFailure = AfterFailureMode.SAMPLE_FIRST)
    void compactionWritesEveryOutputInTheLayoutOfItsRows(@ForAll("rowSetLists") List<RowSet> sets,
                                                         @ForAll boolean cutFiles) throws IOException {
        EngineConfig config = EngineConfig.defaults().withFsync(false).withCompactionTrigger(2);
        if (cutFiles) {
            config = config.withCompactionFileBytes(4096);
        }
        TreeMap<byte[], byte[]> model = new TreeMap<>(ORDER);
        try (StoreEngine e = StoreEngine.open(dir, config)) {
            List<byte[]> earlier = new ArrayList<>();
            for (RowSet set : sets) {
                Random rnd = new Random(set.seed);
                apply(e, model, set.rows);
                for (int i = 0; i < Math.min(20, earlier.size()); i++) {
                    byte[] key = earlier.get(rnd.nextInt(earlier.size()));
                    byte[] value = new byte[set.valueLength >= 0 ? set.valueLength : rnd.nextInt(301)];
                    rnd.nextBytes(value);
                    e.put(key, value);
                    model.put(key, value);
                }
                earlier.addAll(set.rows.keySet());
                e.commit(new byte[] {1});
                e.flush();
                e.commit(new byte[] {2});
            }
            while (e.compact(Long.MAX_VALUE)) {
                // until no compaction work is left
            }
            assertContent(e, model);
        }
        try (StoreSnapshot snap = StoreSnapshot.open(dir, null)) {
            Statistics.label("files after compaction").collect(snap.segments().size() > 1 ? "several" : snap.segments().size() == 1 ? "one" : "none");
            Statistics.label("files after compaction").coverage(c -> c.check("several").count(n -> n > 0));
            for (StoreSnapshot.SegmentInfo info : snap.segments()) {
                Segment s = Segment.open(info.file(), info.number());
                try {
                    TreeMap<byte[], byte[]> rows = new TreeMap<>(ORDER);
                    for (long row = 0; row < s.rows(); row++) {
                        rows.put(s.key(row), s.value(row));
                    }
                    RowSet own = new RowSet(-1, -1, Tombstones.NONE, 0, rows);
                    Map<Integer, Long> actual = new TreeMap<>();
                    s.columnDirectory().forEach((id, c) -> {
                        if (id != SegmentFormat.COL_BLOOM) {
                            actual.put(id, c[1]);
                        }
                    });
                    assertThat(actual).as("columns of %s", info.file().getFileName()).isEqualTo(expectedColumns(own));
                } finally {
                    s.release();
                }
            }
        }
        assertThat(StoreVerifier.verify(dir).findings()).isEmpty();
        try (StoreEngine e = StoreEngine.open(dir, config)) {
            assertContent(e, model);
        }
    }

    static void assertContent(StoreEngine e, TreeMap<byte[], byte[]> model) {
        List<KeyValue> all = new ArrayList<>();
        try (EngineIterator it = e.all()) {
            while (it.hasNext()) {
                all.add(it.next());
            }
        }
        assertThat(all).hasSize(model.size());
        int i = 0;
        for (Map.Entry<byte[], byte[]> m : model.entrySet()) {
            assertThat(all.get(i).key()).isEqualTo(m.getKey());
            assertThat(all.get(i).value()).isEqualTo(m.getValue());
            assertThat(e.get(m.getKey())).isEqualTo(m.getValue());
            i++;
        }
    }

    // =============================================================================================
    // The choice between fixed value slots and offsets, at its boundary
    // =============================================================================================

    @TempDir
    Path tempDir;

    /**
     * 9 rows, one a tombstone: ten 4-byte offsets cost 40 bytes, so values of 40 bytes keep fixed slots
     * (the tombstone's zeroed 40-byte slot costs no more) and values of 41 bytes get offsets.
     */
    @Test
    void tombstoneSlotsAreChosenUpToTheCostOfOffsets() throws IOException {
        for (int length : new int[] {40, 41}) {
            TreeMap<byte[], byte[]> rows = new TreeMap<>(ORDER);
            for (int i = 0; i < 9; i++) {
                byte[] value = new byte[length];
                Arrays.fill(value, (byte) (i + 1));
                rows.put(new byte[] {(byte) i, 7}, i == 4 ? null : value);
            }
            Segment s = SegmentTest.write(Files.createDirectories(tempDir.resolve("l" + length)), 1, rows);
            try {
                Map<Integer, long[]> cols = s.columnDirectory();
                if (length == 40) {
                    assertThat(cols).doesNotContainKeys(SegmentFormat.COL_VALUE_OFFSETS, SegmentFormat.COL_VALUE_OFFSETS_32);
                    assertThat(cols.get(SegmentFormat.COL_VALUES)[1]).isEqualTo(9 * 40);
                } else {
                    assertThat(cols).containsKey(SegmentFormat.COL_VALUE_OFFSETS_32);
                    assertThat(cols.get(SegmentFormat.COL_VALUES)[1]).isEqualTo(8 * 41);
                }
                for (int i = 0; i < 9; i++) {
                    assertThat(s.value(i)).isEqualTo(rows.get(new byte[] {(byte) i, 7}));
                }
                assertThat(s.userBytes()).isEqualTo(9 * 2 + 8L * length);
            } finally {
                s.release();
            }
        }
    }
}
