package io.github.mmapstore.streams;

import static io.github.mmapstore.streams.IsolationFixture.drain;
import static io.github.mmapstore.streams.IsolationFixture.k;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.mmapstore.streams.KeyValueCommittedReadTest.Kind;
import io.github.mmapstore.streams.KeyValueCommittedReadTest.Modelled;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Random puts, deletes, commits and memtable spills on a key-value store from {@link MmapStores} (4 KiB
 * memtable: spills in the middle of transactions), against a model of the live and the committed state:
 * the READ_COMMITTED view always equals the last commit, READ_UNCOMMITTED everything written, and committed
 * iterators opened along the way end with exactly the state they started with.
 */
class KeyValueCommittedReadProperties {

    sealed interface Op permits Put, Delete, Commit, Fill, Open, Check {
    }

    record Put(String key, int pad) implements Op {
    }

    record Delete(String key) implements Op {
    }

    record Commit() implements Op {
    }

    /** A memtable's worth of writes to other keys. */
    record Fill() implements Op {
    }

    /** Opens a committed iterator (all, reverse, or a range) and reads one entry of it. */
    record Open(int which) implements Op {
    }

    record Check() implements Op {
    }

    @Provide
    Arbitrary<List<Op>> sequences() {
        Arbitrary<String> keys = Arbitraries.of("a", "aa", "ab", "b", "ba", "c", "d", "e", "f", "g", "m", "z");
        Arbitrary<Op> put = Combinators.combine(keys, Arbitraries.of(0, 10, 400)).as(Put::new);
        Arbitrary<Op> op = Arbitraries.frequencyOf(
                Tuple.of(20, put),
                Tuple.of(6, keys.map(Delete::new)),
                Tuple.of(6, Arbitraries.just(new Commit())),
                Tuple.of(2, Arbitraries.just(new Fill())),
                Tuple.of(3, Arbitraries.integers().between(0, 2).map(Open::new)),
                Tuple.of(5, Arbitraries.just(new Check())));
        return op.list().ofMinSize(1).ofMaxSize(80).withSizeDistribution(RandomDistribution.uniform());
    }

    @Property(tries = 60, edgeCases = EdgeCasesMode.NONE, afterFailure = AfterFailureMode.SAMPLE_FIRST)
    void committedViewMatchesTheModel(@ForAll("sequences") List<Op> ops, @ForAll Kind kind) throws IOException {
        Path dir = Files.createTempDirectory("kv-committed");
        try (IsolationFixture f = new IsolationFixture(dir, KeyValueCommittedReadTest.TINY_MEMTABLE)) {
            KeyValueStore<Bytes, byte[]> store = f.init(kind.supplier("kv").get());
            Modelled m = new Modelled(store, kind);
            for (String key : List.of("a", "aa", "ab", "b", "ba", "c", "d", "e", "f", "g", "m", "z", "y")) {
                m.universe.add(key);
            }
            List<KeyValueIterator<Bytes, byte[]>> open = new ArrayList<>();
            List<List<String>> expected = new ArrayList<>();
            int made = 0;
            int fills = 0;
            for (int i = 0; i < ops.size(); i++) {
                Op op = ops.get(i);
                switch (op) {
                    case Put p -> m.put(p.key(), "v" + (++made), p.pad());
                    case Delete d -> m.delete(d.key());
                    case Commit c -> m.commit();
                    case Fill fill -> {
                        fills++;
                        for (int j = 0; j < 12; j++) {
                            m.put("y" + fills + "-" + j, "fill" + (++made), 400);
                        }
                    }
                    case Open o -> {
                        ReadOnlyKeyValueStore<Bytes, byte[]> view = store.readOnly(IsolationLevel.READ_COMMITTED);
                        KeyValueIterator<Bytes, byte[]> it;
                        List<String> exp;
                        switch (o.which()) {
                            case 0 -> {
                                it = view.all();
                                exp = KeyValueCommittedReadTest.lines(m.committed);
                            }
                            case 1 -> {
                                it = view.reverseAll();
                                exp = KeyValueCommittedReadTest.lines(m.committed.descendingMap());
                            }
                            default -> {
                                it = view.range(k("aa"), k("e"));
                                exp = KeyValueCommittedReadTest.lines(m.committed.subMap(k("aa"), true, k("e"), true));
                            }
                        }
                        open.add(it);
                        expected.add(new ArrayList<>(exp));
                        if (it.hasNext()) {
                            it.peekNextKey(); // started: its state is fixed from here on
                        }
                    }
                    case Check c -> m.check("after op " + i + " " + op);
                }
            }
            m.check("at the end");
            for (int i = 0; i < open.size(); i++) {
                assertThat(drain(open.get(i))).as("committed iterator " + i).isEqualTo(expected.get(i));
            }
        } finally {
            IsolationFixture.deleteTree(dir);
        }
    }
}
