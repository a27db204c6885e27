package io.github.mmapstore.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import net.jqwik.api.AfterFailureMode;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;

/**
 * Snapshots and iterators held open while the writer goes on: an {@link EngineSnapshot} or an iterator at
 * {@link ReadIsolation#COMMITTED} keeps showing the last commit as of when it was taken, at
 * {@link ReadIsolation#LATEST} every write as of then, through any mix of later writes, commits, memtable
 * spills (in the middle of a transaction too), flushes and compaction steps; and fresh reads at COMMITTED
 * show exactly the last commit. The engine runs without a log, as a store with a changelog does.
 *
 * <p>(Engine public API only; {@code EngineModelProperties} covers single reads and crashes, this covers
 * what a window fetch relies on: one state across several ranges opened one after another.)
 */
class HeldSnapshotProperties {

    sealed interface Op permits Put, Delete, Commit, Flush, Compact, Fill, OpenSnapshot, OpenIterator, Advance, Release, Check {
    }

    record Put(int key, int partition, int valueLen) implements Op {
    }

    record Delete(int key, int partition) implements Op {
    }

    record Commit() implements Op {
    }

    record Flush() implements Op {
    }

    record Compact(int budgetMicros) implements Op {
    }

    /** Enough writes to fill the memtable (a spill; with writes after the last commit, a split one). */
    record Fill(int partition) implements Op {
    }

    record OpenSnapshot(boolean committed) implements Op {
    }

    record OpenIterator(boolean committed, boolean reverse, int lowKey) implements Op {
    }

    /** Reads 1-3 more entries from every held iterator and a few ranges of every held snapshot. */
    record Advance(int n) implements Op {
    }

    /** Closes the oldest held snapshot or iterator. */
    record Release() implements Op {
    }

    /** Fresh reads at both levels against the model. */
    record Check() implements Op {
    }

    @Provide
    Arbitrary<List<Op>> sequences() {
        Arbitrary<Integer> keys = Arbitraries.integers().between(0, 23);
        Arbitrary<Integer> partitions = Arbitraries.integers().between(1, 3);
        Arbitrary<Op> put = Combinators.combine(keys, partitions, Arbitraries.integers().between(1, 120)).as(Put::new);
        Arbitrary<Op> delete = Combinators.combine(keys, partitions).as(Delete::new);
        Arbitrary<Op> commit = Arbitraries.just(new Commit());
        Arbitrary<Op> flush = Arbitraries.just(new Flush());
        Arbitrary<Op> compact = Arbitraries.integers().between(0, 2_000).map(Compact::new);
        Arbitrary<Op> fill = partitions.map(Fill::new);
        Arbitrary<Op> openSnapshot = Arbitraries.of(true, true, false).map(OpenSnapshot::new);
        Arbitrary<Op> openIterator = Combinators.combine(Arbitraries.of(true, true, false), Arbitraries.of(true, false),
                Arbitraries.integers().between(0, 23)).as(OpenIterator::new);
        Arbitrary<Op> advance = Arbitraries.integers().between(1, 3).map(Advance::new);
        Arbitrary<Op> release = Arbitraries.just(new Release());
        Arbitrary<Op> check = Arbitraries.just(new Check());
        Arbitrary<Op> op = Arbitraries.frequencyOf(
                Tuple.of(30, put), Tuple.of(8, delete), Tuple.of(8, commit), Tuple.of(2, flush), Tuple.of(4, compact),
                Tuple.of(3, fill), Tuple.of(4, openSnapshot), Tuple.of(4, openIterator), Tuple.of(8, advance),
                Tuple.of(2, release), Tuple.of(4, check));
        return op.list().ofMinSize(1).ofMaxSize(150).withSizeDistribution(RandomDistribution.uniform());
    }

    @Property(tries = 120, edgeCases = EdgeCasesMode.NONE, afterFailure = AfterFailureMode.SAMPLE_FIRST)
    void heldSnapshotsAndIteratorsKeepTheirState(@ForAll("sequences") List<Op> ops, @ForAll boolean partitioned)
            throws IOException {
        Path dir = Files.createTempDirectory("held-snapshots");
        try {
            new Harness(dir, partitioned).run(ops);
        } finally {
            deleteTree(dir);
        }
    }

    static final class Harness {
        final StoreEngine engine;
        final TreeMap<byte[], byte[]> live = new TreeMap<>(KeyOrder.COMPARATOR);
        TreeMap<byte[], byte[]> committed = new TreeMap<>(KeyOrder.COMPARATOR);
        final List<HeldSnapshot> snapshots = new ArrayList<>();
        final List<HeldIterator> iterators = new ArrayList<>();
        int made;
        int step;

        Harness(Path dir, boolean partitioned) {
            EngineConfig config = EngineConfig.defaults().withMemtableBytes(4096).withFsync(false).withLog(false)
                    .withCompactionTrigger(2).withCompactionFileBytes(4096).withCheckpointIntervalMillis(0)
                    .withPartitioned(partitioned);
            engine = StoreEngine.open(dir, config);
        }

        static byte[] key(int key, int partition) {
            return ByteBuffer.allocate(9).putLong(partition).put((byte) key).array();
        }

        byte[] value(int len) {
            byte[] v = new byte[Math.max(4, len)];
            ByteBuffer.wrap(v).putInt(++made);
            return v;
        }

        void run(List<Op> ops) {
            try {
                for (Op op : ops) {
                    step++;
                    apply(op);
                }
                check("at the end");
                for (HeldIterator it : iterators) {
                    it.drainAndCheck("at the end");
                }
                for (HeldSnapshot s : snapshots) {
                    s.check("at the end");
                }
            } finally {
                for (HeldIterator it : iterators) {
                    it.it.close();
                }
                for (HeldSnapshot s : snapshots) {
                    s.snapshot.close();
                }
                engine.close();
            }
        }

        void apply(Op op) {
            switch (op) {
                case Put p -> {
                    byte[] k = key(p.key(), p.partition());
                    byte[] v = value(p.valueLen());
                    engine.put(k, v);
                    live.put(k, v);
                }
                case Delete d -> {
                    byte[] k = key(d.key(), d.partition());
                    engine.delete(k);
                    live.remove(k);
                }
                case Commit c -> {
                    engine.commit(("c" + step).getBytes());
                    committed = new TreeMap<>(live);
                }
                case Flush f -> engine.flush();
                case Compact c -> engine.compact(c.budgetMicros() * 1_000L);
                case Fill f -> {
                    for (int i = 0; i < 20; i++) {
                        byte[] k = key(100 + i, f.partition());
                        byte[] v = value(250);
                        engine.put(k, v);
                        live.put(k, v);
                    }
                }
                case OpenSnapshot o -> {
                    ReadIsolation level = o.committed() ? ReadIsolation.COMMITTED : ReadIsolation.LATEST;
                    snapshots.add(new HeldSnapshot(engine.snapshot(level), new TreeMap<>(o.committed() ? committed : live),
                            "snapshot at " + level + " taken at step " + step));
                }
                case OpenIterator o -> {
                    ReadIsolation level = o.committed() ? ReadIsolation.COMMITTED : ReadIsolation.LATEST;
                    byte[] from = key(o.lowKey(), 1);
                    TreeMap<byte[], byte[]> state = o.committed() ? committed : live;
                    Map<byte[], byte[]> expected = o.reverse() ? state.tailMap(from, true).descendingMap() : state.tailMap(from, true);
                    iterators.add(new HeldIterator(engine.range(from, true, null, true, o.reverse(), level), lines(expected),
                            "iterator at " + level + (o.reverse() ? " reverse" : "") + " opened at step " + step));
                }
                case Advance a -> {
                    for (HeldIterator it : iterators) {
                        it.advance(a.n(), "step " + step);
                    }
                    for (HeldSnapshot s : snapshots) {
                        s.spotCheck(a.n(), "step " + step);
                    }
                }
                case Release r -> {
                    if (!iterators.isEmpty() && (snapshots.isEmpty() || step % 2 == 0)) {
                        iterators.remove(0).drainAndCheck("released at step " + step);
                    } else if (!snapshots.isEmpty()) {
                        HeldSnapshot s = snapshots.remove(0);
                        s.check("released at step " + step);
                        s.snapshot.close();
                    }
                }
                case Check c -> check("step " + step);
            }
        }

        void check(String when) {
            assertThat(drain(engine.range(null, true, null, true, false, ReadIsolation.COMMITTED)))
                    .as(when + ": fresh committed read").isEqualTo(lines(committed));
            assertThat(drain(engine.range(null, true, null, true, true, ReadIsolation.COMMITTED)))
                    .as(when + ": fresh committed reverse read").isEqualTo(lines(committed.descendingMap()));
            assertThat(drain(engine.range(null, true, null, true, false, ReadIsolation.LATEST)))
                    .as(when + ": fresh latest read").isEqualTo(lines(live));
            for (int p = 1; p <= 3; p++) {
                for (int k = 0; k < 24; k += 5) {
                    byte[] key = key(k, p);
                    assertThat(hex(engine.get(key, ReadIsolation.COMMITTED))).as(when + ": committed get").isEqualTo(hex(committed.get(key)));
                    assertThat(hex(engine.get(key, ReadIsolation.LATEST))).as(when + ": latest get").isEqualTo(hex(live.get(key)));
                }
            }
        }
    }

    record HeldSnapshot(EngineSnapshot snapshot, TreeMap<byte[], byte[]> state, String what) {
        void check(String when) {
            assertThat(drain(snapshot.range(null, true, null, true, false))).as(what + ", read " + when).isEqualTo(lines(state));
            assertThat(drain(snapshot.range(null, true, null, true, true))).as(what + ", reverse read " + when)
                    .isEqualTo(lines(state.descendingMap()));
        }

        /** A few ranges and gets, one partition after another, as a window fetch walks time segments. */
        void spotCheck(int n, String when) {
            for (int p = 1; p <= 3; p++) {
                byte[] lo = Harness.key(n, p);
                byte[] hi = Harness.key(n + 8, p);
                assertThat(drain(snapshot.range(lo, true, hi, false, false))).as(what + ", partition " + p + " at " + when)
                        .isEqualTo(lines(state.subMap(lo, true, hi, false)));
                byte[] k = Harness.key(n, p);
                assertThat(hex(snapshot.get(k))).as(what + ", get at " + when).isEqualTo(hex(state.get(k)));
            }
        }
    }

    static final class HeldIterator {
        final EngineIterator it;
        final List<String> expected;
        final String what;
        int pos;

        HeldIterator(EngineIterator it, List<String> expected, String what) {
            this.it = it;
            this.expected = expected;
            this.what = what;
        }

        void advance(int n, String when) {
            for (int i = 0; i < n && pos < expected.size(); i++) {
                assertThat(it.hasNext()).as(what + ": entry " + pos + " at " + when).isTrue();
                assertThat(line(it.next())).as(what + ": entry " + pos + " at " + when).isEqualTo(expected.get(pos));
                pos++;
            }
        }

        void drainAndCheck(String when) {
            List<String> rest = drain(it);
            assertThat(rest).as(what + ": the rest, " + when).isEqualTo(expected.subList(pos, expected.size()));
        }
    }

    static String hex(byte[] b) {
        return b == null ? "null" : HexFormat.of().formatHex(b);
    }

    static String line(KeyValue kv) {
        return hex(kv.key()) + "=" + hex(kv.value());
    }

    static List<String> lines(Map<byte[], byte[]> m) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<byte[], byte[]> e : m.entrySet()) {
            out.add(hex(e.getKey()) + "=" + hex(e.getValue()));
        }
        return out;
    }

    static List<String> drain(EngineIterator it) {
        List<String> out = new ArrayList<>();
        try (it) {
            while (it.hasNext()) {
                out.add(line(it.next()));
            }
        }
        return out;
    }

    static void deleteTree(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }
}
