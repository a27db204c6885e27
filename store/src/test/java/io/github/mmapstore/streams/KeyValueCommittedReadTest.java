package io.github.mmapstore.streams;

import static io.github.mmapstore.streams.IsolationFixture.CHANGELOG;
import static io.github.mmapstore.streams.IsolationFixture.drain;
import static io.github.mmapstore.streams.IsolationFixture.hex;
import static io.github.mmapstore.streams.IsolationFixture.k;
import static io.github.mmapstore.streams.IsolationFixture.str;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.function.Function;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.TimestampedKeyValueStoreWithHeaders;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.apache.kafka.streams.state.ValueTimestampHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * READ_COMMITTED views of the key-value stores (plain, timestamped, headers, timestamped embedding): every
 * read shows exactly the state of the last commit and never a write made after it, also when the memtable
 * spilled uncommitted writes into segments; READ_UNCOMMITTED shows everything; the next commit shows the
 * rest; an iterator opened before a commit keeps its state while the writer commits and writes more.
 */
class KeyValueCommittedReadTest {
    /** The smallest memtable the engine takes: a few hundred bytes of writes spill into segments. */
    static final Map<String, Object> TINY_MEMTABLE = Map.of("mmapstore.memtable.bytes", "4096");

    @TempDir
    Path stateDir;

    /** The key-value store kinds of {@link MmapStores}, each with values its store accepts. */
    enum Kind {
        PLAIN, TIMESTAMPED, HEADERS, TIMESTAMPED_EMBEDDING;

        KeyValueBytesStoreSupplier supplier(String name) {
            return switch (this) {
                case PLAIN -> MmapStores.persistentKeyValueStore(name);
                case TIMESTAMPED -> MmapStores.persistentTimestampedKeyValueStore(name);
                case HEADERS -> MmapStores.persistentTimestampedKeyValueStoreWithHeaders(name);
                case TIMESTAMPED_EMBEDDING -> MmapStores.timestampedEmbeddingStore(name, 2, Similarity.COSINE);
            };
        }

        /** A value of this kind's format, distinct per {@code tag}, padded to about {@code pad} bytes. */
        byte[] value(String tag, int pad) {
            return switch (this) {
                case PLAIN, TIMESTAMPED, HEADERS -> {
                    StringBuilder sb = new StringBuilder(tag);
                    while (sb.length() < pad) {
                        sb.append('.');
                    }
                    yield IsolationFixture.v(sb.toString());
                }
                case TIMESTAMPED_EMBEDDING -> {
                    int h = tag.hashCode();
                    byte[] meta = IsolationFixture.v(tag);
                    Embedding e = new Embedding(new float[] {1 + (h & 0xffff), 1 + ((h >>> 16) & 0xffff)}, 1f, 7L, meta);
                    byte[] body = new EmbeddingSerde(2).serializer().serialize(null, e);
                    byte[] out = new byte[8 + body.length];
                    ByteBuffer.wrap(out).putLong(7L).put(body);
                    yield out;
                }
            };
        }
    }

    static List<Arguments> kinds() {
        List<Arguments> out = new ArrayList<>();
        for (Kind k : Kind.values()) {
            out.add(Arguments.of(k, false));
            out.add(Arguments.of(k, true));
        }
        return out;
    }

    /** Everything a reader can ask a key-value store, as strings, over the key universe {@code keys}. */
    static List<String> observe(ReadOnlyKeyValueStore<Bytes, byte[]> s, List<String> keys) {
        List<String> out = new ArrayList<>();
        for (String key : keys) {
            out.add("get " + key + "=" + hex(s.get(k(key))));
        }
        out.add("all " + drain(s.all()));
        out.add("reverseAll " + drain(s.reverseAll()));
        out.add("range " + drain(s.range(k("b"), k("m"))));
        out.add("reverseRange " + drain(s.reverseRange(k("b"), k("m"))));
        out.add("rangeOpen " + drain(s.range(null, k("f"))));
        out.add("prefix " + drain(s.prefixScan("a", new StringSerializer())));
        return out;
    }

    /** The same observations of a model state. */
    static List<String> observe(NavigableMap<Bytes, byte[]> m, List<String> keys) {
        List<String> out = new ArrayList<>();
        for (String key : keys) {
            out.add("get " + key + "=" + hex(m.get(k(key))));
        }
        out.add("all " + lines(m));
        out.add("reverseAll " + lines(m.descendingMap()));
        out.add("range " + lines(m.subMap(k("b"), true, k("m"), true)));
        out.add("reverseRange " + lines(m.subMap(k("b"), true, k("m"), true).descendingMap()));
        out.add("rangeOpen " + lines(m.headMap(k("f"), true)));
        out.add("prefix " + lines(m.subMap(k("a"), true, k("b"), false)));
        return out;
    }

    static List<String> lines(Map<Bytes, byte[]> m) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<Bytes, byte[]> e : m.entrySet()) {
            out.add(str(e.getKey().get()) + "=" + hex(e.getValue()));
        }
        return out;
    }

    /** A store and its model: what was written, and what the last commit holds. */
    static final class Modelled {
        final KeyValueStore<Bytes, byte[]> store;
        final Kind kind;
        final TreeMap<Bytes, byte[]> live = new TreeMap<>();
        TreeMap<Bytes, byte[]> committed = new TreeMap<>();
        final List<String> universe = new ArrayList<>();
        long offset;

        Modelled(KeyValueStore<Bytes, byte[]> store, Kind kind) {
            this.store = store;
            this.kind = kind;
        }

        void put(String key, String tag, int pad) {
            byte[] value = kind.value(tag, pad);
            store.put(k(key), value);
            live.put(k(key), value);
            if (!universe.contains(key)) {
                universe.add(key);
            }
        }

        void delete(String key) {
            store.delete(k(key));
            live.remove(k(key));
            if (!universe.contains(key)) {
                universe.add(key);
            }
        }

        void commit() {
            store.commit(Map.of(CHANGELOG, ++offset));
            committed = new TreeMap<>(live);
        }

        void check(String when) {
            ReadOnlyKeyValueStore<Bytes, byte[]> view = store.readOnly(IsolationLevel.READ_COMMITTED);
            assertThat(observe(view, universe)).as(when + ": READ_COMMITTED").isEqualTo(observe(committed, universe));
            ReadOnlyKeyValueStore<Bytes, byte[]> latest = store.readOnly(IsolationLevel.READ_UNCOMMITTED);
            assertThat(observe(latest, universe)).as(when + ": READ_UNCOMMITTED").isEqualTo(observe(live, universe));
            assertThat(observe(store, universe)).as(when + ": the store itself").isEqualTo(observe(live, universe));
        }
    }

    @ParameterizedTest(name = "{0}, spilling to segments: {1}")
    @MethodSource("kinds")
    void committedViewShowsExactlyTheLastCommit(Kind kind, boolean spill) {
        try (IsolationFixture f = new IsolationFixture(stateDir, spill ? TINY_MEMTABLE : Map.of())) {
            Modelled m = new Modelled(f.init(kind.supplier("kv").get()), kind);
            int pad = spill ? 300 : 0;
            m.check("empty store");
            for (String key : List.of("a", "aa", "ab", "b", "c", "d", "e", "f", "g", "h")) {
                m.put(key, "one-" + key, pad);
            }
            m.check("before the first commit");
            assertThat(m.store.readOnly(IsolationLevel.READ_COMMITTED).get(k("a"))).as("nothing committed yet").isNull();
            m.commit();
            m.check("right after the first commit");

            // writes after the commit: overwrites, deletes, new keys (and, spilling, several memtables' worth)
            m.put("a", "two-a", pad);
            m.delete("b");
            m.put("ac", "two-ac", pad);
            m.put("z", "two-z", pad);
            for (int i = 0; i < (spill ? 40 : 3); i++) {
                m.put("f" + i, "two-f" + i, pad);
                m.put("c", "two-c-" + i, pad);
            }
            m.delete("d");
            m.check("after writes following the first commit");
            ReadOnlyKeyValueStore<Bytes, byte[]> view = m.store.readOnly(IsolationLevel.READ_COMMITTED);
            assertThat(str(view.get(k("a")))).as("an overwrite is not seen before its commit").isNotEqualTo(str(m.live.get(k("a"))));
            assertThat(view.get(k("b"))).as("a delete is not seen before its commit").isNotNull();
            assertThat(view.get(k("z"))).as("a new key is not seen before its commit").isNull();

            m.commit();
            m.check("after the second commit");
            // the same view object reads the newest commit on each call
            assertThat(view.get(k("z"))).isEqualTo(m.live.get(k("z")));
            assertThat(view.get(k("b"))).isNull();

            // a third round: delete everything written so far but one key, then commit half-way
            for (String key : new ArrayList<>(m.universe)) {
                if (!key.equals("h")) {
                    m.delete(key);
                }
            }
            m.check("after deleting all but one key");
            m.commit();
            m.check("after the third commit");
        }
    }

    @ParameterizedTest(name = "{0}, spilling to segments: {1}")
    @MethodSource("kinds")
    void iteratorOpenedBeforeACommitKeepsItsState(Kind kind, boolean spill) {
        try (IsolationFixture f = new IsolationFixture(stateDir, spill ? TINY_MEMTABLE : Map.of())) {
            Modelled m = new Modelled(f.init(kind.supplier("kv").get()), kind);
            int pad = spill ? 300 : 0;
            for (int i = 0; i < 30; i++) {
                m.put(String.format("k%02d", i), "r1-" + i, pad);
            }
            m.commit();
            m.put("k00", "uncommitted", pad);
            List<String> expected = lines(m.committed);
            List<String> expectedReverse = lines(m.committed.descendingMap());
            List<String> expectedRange = lines(m.committed.subMap(k("k10"), true, k("k20"), true));

            ReadOnlyKeyValueStore<Bytes, byte[]> view = m.store.readOnly(IsolationLevel.READ_COMMITTED);
            KeyValueIterator<Bytes, byte[]> forward = view.all();
            KeyValueIterator<Bytes, byte[]> reverse = view.reverseAll();
            KeyValueIterator<Bytes, byte[]> notStarted = view.range(k("k10"), k("k20"));
            List<String> seen = new ArrayList<>();
            List<String> seenReverse = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                KeyValue<Bytes, byte[]> kv = forward.next();
                seen.add(str(kv.key.get()) + "=" + hex(kv.value));
                kv = reverse.next();
                seenReverse.add(str(kv.key.get()) + "=" + hex(kv.value));
            }
            // the writer goes on: overwrites everything, deletes half, commits twice, writes more
            for (int round = 2; round <= 3; round++) {
                for (int i = 0; i < 30; i++) {
                    String key = String.format("k%02d", i);
                    if (i % 2 == 0) {
                        m.delete(key);
                    } else {
                        m.put(key, "r" + round + "-" + i, pad);
                    }
                }
                m.put("k99", "new-" + round, pad);
                m.commit();
            }
            m.put("k05", "uncommitted-again", pad);
            seen.addAll(drain(forward));
            seenReverse.addAll(drain(reverse));
            assertThat(seen).as("forward iterator opened before two commits").isEqualTo(expected);
            assertThat(seenReverse).as("reverse iterator opened before two commits").isEqualTo(expectedReverse);
            assertThat(drain(notStarted)).as("iterator opened but not started before two commits")
                    .isEqualTo(expectedRange);
            m.check("after the iterators");
        }
    }

    /** Kafka's builders: the metered layer (typed keys and values) hands the level down to the store. */
    @Test
    void kafkaBuildersPassTheIsolationLevelDown() {
        try (IsolationFixture f = new IsolationFixture(stateDir, TINY_MEMTABLE)) {
            KeyValueStore<String, String> plain = f.init(Stores.keyValueStoreBuilder(
                    MmapStores.persistentKeyValueStore("plain"), Serdes.String(), Serdes.String())
                    .withCachingDisabled().withLoggingDisabled().build());
            TimestampedKeyValueStore<String, String> ts = f.init(Stores.timestampedKeyValueStoreBuilder(
                    MmapStores.persistentTimestampedKeyValueStore("ts"), Serdes.String(), Serdes.String())
                    .withCachingDisabled().withLoggingDisabled().build());
            TimestampedKeyValueStoreWithHeaders<String, String> headers = f.init(Stores.timestampedKeyValueStoreWithHeadersBuilder(
                    MmapStores.persistentTimestampedKeyValueStoreWithHeaders("headers"), Serdes.String(), Serdes.String())
                    .withCachingDisabled().withLoggingDisabled().build());

            RecordHeaders h = new RecordHeaders();
            h.add("h", new byte[] {1});
            for (int i = 0; i < 10; i++) {
                plain.put("k" + i, "c" + i);
                ts.put("k" + i, ValueAndTimestamp.make("c" + i, i));
                headers.put("k" + i, ValueTimestampHeaders.make("c" + i, i, h));
            }
            plain.commit(Map.of(CHANGELOG, 1L));
            ts.commit(Map.of(CHANGELOG, 1L));
            headers.commit(Map.of(CHANGELOG, 1L));
            for (int i = 0; i < 100; i++) { // several memtables of writes after the commit
                String pad = "u".repeat(100) + i;
                plain.put("k" + (i % 12), pad);
                ts.put("k" + (i % 12), ValueAndTimestamp.make(pad, 1000 + i));
                headers.put("k" + (i % 12), ValueTimestampHeaders.make(pad, 1000 + i, h));
            }
            plain.delete("k3");
            ts.delete("k3");
            // (no delete on the headers store: Kafka's metered headers layer needs a record context for it)

            Function<KeyValueIterator<String, ?>, List<String>> keysAndValues = it -> {
                List<String> out = new ArrayList<>();
                try (it) {
                    while (it.hasNext()) {
                        KeyValue<String, ?> kv = it.next();
                        out.add(kv.key + "=" + kv.value);
                    }
                }
                return out;
            };
            List<String> expectedPlain = new ArrayList<>();
            List<String> expectedTs = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                expectedPlain.add("k" + i + "=c" + i);
                expectedTs.add("k" + i + "=" + ValueAndTimestamp.make("c" + i, i));
            }
            ReadOnlyKeyValueStore<String, String> pv = plain.readOnly(IsolationLevel.READ_COMMITTED);
            assertThat(pv.get("k3")).isEqualTo("c3");
            assertThat(pv.get("k11")).isNull();
            assertThat(keysAndValues.apply(pv.all())).isEqualTo(expectedPlain);
            assertThat(keysAndValues.apply(pv.range("k2", "k5"))).isEqualTo(expectedPlain.subList(2, 6));
            assertThat(keysAndValues.apply(pv.reverseAll())).isEqualTo(expectedPlain.reversed());
            assertThat(keysAndValues.apply(pv.prefixScan("k1", new StringSerializer()))).containsExactly("k1=c1");
            assertThat(plain.readOnly(IsolationLevel.READ_UNCOMMITTED).get("k3")).isNull();
            assertThat(plain.readOnly(IsolationLevel.READ_UNCOMMITTED).get("k11")).startsWith("uuu");

            ReadOnlyKeyValueStore<String, ValueAndTimestamp<String>> tv = ts.readOnly(IsolationLevel.READ_COMMITTED);
            assertThat(tv.get("k3")).isEqualTo(ValueAndTimestamp.make("c3", 3));
            assertThat(keysAndValues.apply(tv.all())).isEqualTo(expectedTs);
            assertThat(ts.get("k3")).isNull();

            ReadOnlyKeyValueStore<String, ValueTimestampHeaders<String>> hv = headers.readOnly(IsolationLevel.READ_COMMITTED);
            assertThat(hv.get("k3")).isEqualTo(ValueTimestampHeaders.make("c3", 3, h));
            assertThat(hv.get("k11")).isNull();
            int n = 0;
            try (KeyValueIterator<String, ValueTimestampHeaders<String>> it = hv.all()) {
                while (it.hasNext()) {
                    KeyValue<String, ValueTimestampHeaders<String>> kv = it.next();
                    assertThat(kv.value.value()).isEqualTo("c" + kv.key.substring(1));
                    n++;
                }
            }
            assertThat(n).isEqualTo(10);

            plain.commit(Map.of(CHANGELOG, 2L));
            ts.commit(Map.of(CHANGELOG, 2L));
            headers.commit(Map.of(CHANGELOG, 2L));
            assertThat(pv.get("k3")).isNull();
            assertThat(tv.get("k3")).isNull();
            assertThat(hv.get("k3")).isEqualTo(headers.get("k3"));
            assertThat(pv.get("k11")).isEqualTo(plain.get("k11"));
            assertThat(hv.get("k11")).isEqualTo(headers.get("k11"));
        }
    }
}
