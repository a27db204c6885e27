package io.github.mmapstore.streams;

import static io.github.mmapstore.streams.IsolationFixture.CHANGELOG;
import static io.github.mmapstore.streams.IsolationFixture.drain;
import static io.github.mmapstore.streams.IsolationFixture.drainWindowed;
import static io.github.mmapstore.streams.IsolationFixture.hex;
import static io.github.mmapstore.streams.IsolationFixture.k;
import static io.github.mmapstore.streams.IsolationFixture.str;
import static io.github.mmapstore.streams.IsolationFixture.v;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.kstream.internals.SessionWindow;
import org.apache.kafka.streams.processor.api.ReadOnlyRecord;
import org.apache.kafka.streams.query.FailureReason;
import org.apache.kafka.streams.query.KeyQuery;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.query.RangeQuery;
import org.apache.kafka.streams.query.TimestampedKeyWithHeadersQuery;
import org.apache.kafka.streams.query.WindowKeyQuery;
import org.apache.kafka.streams.query.WindowRangeQuery;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.SessionStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.TimestampedKeyValueStoreWithHeaders;
import org.apache.kafka.streams.state.ValueTimestampHeaders;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Interactive Queries v2 at both isolation levels, asked of the stores directly and through Kafka's metered
 * layer: READ_COMMITTED answers from the last commit at the position of the last commit, READ_UNCOMMITTED
 * from every write at the live position; a position bound past the committed position is not met by a
 * READ_COMMITTED query until the commit that reaches it.
 */
class CommittedIqv2Test {
    static final QueryConfig COMMITTED = new QueryConfig(false, IsolationLevel.READ_COMMITTED);
    static final QueryConfig UNCOMMITTED = new QueryConfig(false, IsolationLevel.READ_UNCOMMITTED);

    @TempDir
    Path stateDir;

    static Position at(long offset) {
        return Position.emptyPosition().withComponent("input", 0, offset);
    }

    static <R> R result(QueryResult<R> r) {
        assertThat(r.isSuccess()).as("query failed: %s %s", r.isFailure() ? r.getFailureReason() : "",
                r.isFailure() ? r.getFailureMessage() : "").isTrue();
        return r.getResult();
    }

    @Test
    void keyAndRangeQueriesOnTheStoreAndThroughKafkasLayers() {
        try (IsolationFixture f = new IsolationFixture(stateDir, Map.of())) {
            KeyValueStore<Bytes, byte[]> raw = f.init(MmapStores.persistentKeyValueStore("raw").get());
            KeyValueStore<String, String> typed = f.init(Stores.keyValueStoreBuilder(MmapStores.persistentKeyValueStore("typed"),
                    Serdes.String(), Serdes.String()).withCachingDisabled().withLoggingDisabled().build());
            f.offset(1);
            raw.put(k("a"), v("1"));
            typed.put("a", "1");
            f.offset(2);
            raw.put(k("b"), v("1"));
            typed.put("b", "1");
            raw.commit(Map.of(CHANGELOG, 2L));
            typed.commit(Map.of(CHANGELOG, 2L));
            f.offset(3);
            raw.put(k("a"), v("2"));
            typed.put("a", "2");
            f.offset(4);
            raw.delete(k("b"));
            typed.delete("b");
            f.offset(5);
            raw.put(k("c"), v("2"));
            typed.put("c", "2");

            // key queries
            QueryResult<byte[]> rc = raw.query(KeyQuery.withKey(k("a")), PositionBound.unbounded(), COMMITTED);
            assertThat(str(result(rc))).isEqualTo("1");
            assertThat(rc.getPosition()).as("committed position").isEqualTo(at(2));
            QueryResult<byte[]> ru = raw.query(KeyQuery.withKey(k("a")), PositionBound.unbounded(), UNCOMMITTED);
            assertThat(str(result(ru))).isEqualTo("2");
            assertThat(ru.getPosition()).as("live position").isEqualTo(at(5));
            assertThat(result(raw.query(KeyQuery.<Bytes, byte[]>withKey(k("c")), PositionBound.unbounded(), COMMITTED))).isNull();
            assertThat(str(result(raw.query(KeyQuery.<Bytes, byte[]>withKey(k("b")), PositionBound.unbounded(), COMMITTED)))).isEqualTo("1");
            assertThat(result(typed.query(KeyQuery.<String, String>withKey("a"), PositionBound.unbounded(), COMMITTED))).isEqualTo("1");
            assertThat(result(typed.query(KeyQuery.<String, String>withKey("a"), PositionBound.unbounded(), UNCOMMITTED))).isEqualTo("2");
            assertThat(result(typed.query(KeyQuery.<String, String>withKey("b"), PositionBound.unbounded(), COMMITTED))).isEqualTo("1");
            assertThat(result(typed.query(KeyQuery.<String, String>withKey("c"), PositionBound.unbounded(), COMMITTED))).isNull();

            // range queries
            QueryResult<KeyValueIterator<Bytes, byte[]>> range = raw.query(RangeQuery.withNoBounds(), PositionBound.unbounded(), COMMITTED);
            assertThat(drain(result(range))).containsExactly("a=" + hex(v("1")), "b=" + hex(v("1")));
            assertThat(range.getPosition()).isEqualTo(at(2));
            assertThat(drain(result(raw.query(RangeQuery.<Bytes, byte[]>withNoBounds(), PositionBound.unbounded(), UNCOMMITTED))))
                    .containsExactly("a=" + hex(v("2")), "c=" + hex(v("2")));
            assertThat(drain(result(raw.query(RangeQuery.<Bytes, byte[]>withRange(k("b"), k("z")), PositionBound.unbounded(), COMMITTED))))
                    .containsExactly("b=" + hex(v("1")));
            List<String> typedRange = new ArrayList<>();
            try (KeyValueIterator<String, String> it = result(typed.query(RangeQuery.<String, String>withNoBounds(),
                    PositionBound.unbounded(), COMMITTED))) {
                it.forEachRemaining(kv -> typedRange.add(kv.key + "=" + kv.value));
            }
            assertThat(typedRange).containsExactly("a=1", "b=1");

            // a bound past the committed position is met only at READ_UNCOMMITTED, until the next commit
            PositionBound bound = PositionBound.at(at(4));
            QueryResult<byte[]> notYet = raw.query(KeyQuery.withKey(k("a")), bound, COMMITTED);
            assertThat(notYet.isFailure()).isTrue();
            assertThat(notYet.getFailureReason()).isEqualTo(FailureReason.NOT_UP_TO_BOUND);
            assertThat(str(result(raw.query(KeyQuery.<Bytes, byte[]>withKey(k("a")), bound, UNCOMMITTED)))).isEqualTo("2");
            QueryResult<String> typedNotYet = typed.query(KeyQuery.withKey("a"), bound, COMMITTED);
            assertThat(typedNotYet.isFailure()).isTrue();
            assertThat(typedNotYet.getFailureReason()).isEqualTo(FailureReason.NOT_UP_TO_BOUND);

            raw.commit(Map.of(CHANGELOG, 5L));
            typed.commit(Map.of(CHANGELOG, 5L));
            QueryResult<byte[]> after = raw.query(KeyQuery.withKey(k("a")), bound, COMMITTED);
            assertThat(str(result(after))).isEqualTo("2");
            assertThat(after.getPosition()).isEqualTo(at(5));
            assertThat(result(typed.query(KeyQuery.<String, String>withKey("b"), PositionBound.unbounded(), COMMITTED))).isNull();
        }
    }

    @Test
    void headersKeyQueryThroughKafkasMeteredLayer() {
        try (IsolationFixture f = new IsolationFixture(stateDir, Map.of())) {
            TimestampedKeyValueStoreWithHeaders<String, String> store = f.init(Stores.timestampedKeyValueStoreWithHeadersBuilder(
                    MmapStores.persistentTimestampedKeyValueStoreWithHeaders("h"), Serdes.String(), Serdes.String())
                    .withCachingDisabled().withLoggingDisabled().build());
            RecordHeaders h = new RecordHeaders();
            h.add("h", new byte[] {7});
            f.offset(1);
            store.put("a", ValueTimestampHeaders.make("1", 10L, h));
            store.commit(Map.of(CHANGELOG, 1L));
            f.offset(2);
            store.put("a", ValueTimestampHeaders.make("2", 20L, h));
            f.offset(3);
            store.put("b", ValueTimestampHeaders.make("2", 30L, h));

            QueryResult<ReadOnlyRecord<String, String>> rc = store.query(TimestampedKeyWithHeadersQuery.withKey("a"),
                    PositionBound.unbounded(), COMMITTED);
            assertThat(result(rc).value()).isEqualTo("1");
            assertThat(result(rc).timestamp()).isEqualTo(10L);
            assertThat(rc.getPosition()).isEqualTo(at(1));
            QueryResult<ReadOnlyRecord<String, String>> ru = store.query(TimestampedKeyWithHeadersQuery.withKey("a"),
                    PositionBound.unbounded(), UNCOMMITTED);
            assertThat(result(ru).value()).isEqualTo("2");
            assertThat(ru.getPosition()).isEqualTo(at(3));
            assertThat(result(store.query(TimestampedKeyWithHeadersQuery.<String, String>withKey("b"), PositionBound.unbounded(),
                    COMMITTED))).isNull();
        }
    }

    @Test
    void windowKeyAndRangeQueries() {
        try (IsolationFixture f = new IsolationFixture(stateDir, Map.of())) {
            @SuppressWarnings("unchecked")
            WindowStore<Bytes, byte[]> store = f.init((WindowStore<Bytes, byte[]>) MmapStores.persistentWindowStore("w",
                    Duration.ofMinutes(10), Duration.ofSeconds(10), false).get());
            f.offset(1);
            store.put(k("a"), v("1"), 60_000L);
            f.offset(2);
            store.put(k("a"), v("1"), 310_000L);
            store.commit(Map.of(CHANGELOG, 2L));
            f.offset(3);
            store.put(k("a"), v("2"), 60_000L);
            f.offset(4);
            store.put(k("b"), v("2"), 450_000L);

            Instant from = Instant.ofEpochMilli(0);
            Instant to = Instant.ofEpochMilli(700_000);
            QueryResult<WindowStoreIterator<byte[]>> rc = store.query(WindowKeyQuery.withKeyAndWindowStartRange(k("a"), from, to),
                    PositionBound.unbounded(), COMMITTED);
            assertThat(values(result(rc))).containsExactly("60000=" + hex(v("1")), "310000=" + hex(v("1")));
            assertThat(rc.getPosition()).isEqualTo(at(2));
            QueryResult<WindowStoreIterator<byte[]>> ru = store.query(WindowKeyQuery.withKeyAndWindowStartRange(k("a"), from, to),
                    PositionBound.unbounded(), UNCOMMITTED);
            assertThat(values(result(ru))).containsExactly("60000=" + hex(v("2")), "310000=" + hex(v("1")));
            assertThat(ru.getPosition()).isEqualTo(at(4));

            QueryResult<KeyValueIterator<Windowed<Bytes>, byte[]>> rangeRc = store.query(
                    WindowRangeQuery.withWindowStartRange(from, to), PositionBound.unbounded(), COMMITTED);
            assertThat(drainWindowed(result(rangeRc))).containsExactly("a@60000-70000=" + hex(v("1")), "a@310000-320000=" + hex(v("1")));
            QueryResult<KeyValueIterator<Windowed<Bytes>, byte[]>> rangeRu = store.query(
                    WindowRangeQuery.withWindowStartRange(from, to), PositionBound.unbounded(), UNCOMMITTED);
            assertThat(drainWindowed(result(rangeRu))).containsExactly("a@60000-70000=" + hex(v("2")),
                    "a@310000-320000=" + hex(v("1")), "b@450000-460000=" + hex(v("2")));

            store.commit(Map.of(CHANGELOG, 4L));
            assertThat(drainWindowed(result(store.query(WindowRangeQuery.<Bytes, byte[]>withWindowStartRange(from, to),
                    PositionBound.unbounded(), COMMITTED)))).hasSize(3);
        }
    }

    @Test
    void sessionRangeQuery() {
        try (IsolationFixture f = new IsolationFixture(stateDir, Map.of())) {
            SessionStore<Bytes, byte[]> store = f.init(MmapStores.persistentSessionStore("s", Duration.ofMinutes(10)).get());
            f.offset(1);
            store.put(new Windowed<>(k("a"), new SessionWindow(60_000L, 70_000L)), v("1"));
            store.commit(Map.of(CHANGELOG, 1L));
            f.offset(2);
            store.put(new Windowed<>(k("a"), new SessionWindow(60_000L, 70_000L)), v("2"));
            store.put(new Windowed<>(k("a"), new SessionWindow(310_000L, 320_000L)), v("2"));

            QueryResult<KeyValueIterator<Windowed<Bytes>, byte[]>> rc = store.query(WindowRangeQuery.withKey(k("a")),
                    PositionBound.unbounded(), COMMITTED);
            assertThat(drainWindowed(result(rc))).containsExactly("a@60000-70000=" + hex(v("1")));
            assertThat(rc.getPosition()).isEqualTo(at(1));
            QueryResult<KeyValueIterator<Windowed<Bytes>, byte[]>> ru = store.query(WindowRangeQuery.withKey(k("a")),
                    PositionBound.unbounded(), UNCOMMITTED);
            assertThat(drainWindowed(result(ru))).containsExactly("a@60000-70000=" + hex(v("2")), "a@310000-320000=" + hex(v("2")));
            assertThat(ru.getPosition()).isEqualTo(at(2));
        }
    }

    static byte[] embedding(float x, float y) {
        byte[] body = new EmbeddingSerde(2).serializer().serialize(null, new Embedding(new float[] {x, y}));
        return ByteBuffer.allocate(8 + body.length).putLong(5L).put(body).array();
    }

    @Test
    void knnQueryAtBothLevels() {
        try (IsolationFixture f = new IsolationFixture(stateDir, KeyValueCommittedReadTest.TINY_MEMTABLE)) {
            KeyValueStore<Bytes, byte[]> store = f.init(MmapStores.timestampedEmbeddingStore("e", 2, Similarity.COSINE).get());
            f.offset(1);
            store.put(k("e1"), embedding(1f, 0f));
            store.put(k("e2"), embedding(1f, 0.5f));
            store.put(k("e3"), embedding(0f, 1f));
            store.commit(Map.of(CHANGELOG, 1L));
            f.offset(2);
            store.delete(k("e1"));
            store.put(k("e3"), embedding(1f, 0.1f)); // now the nearest
            for (int i = 0; i < 60; i++) { // spill the uncommitted writes into segments
                store.put(k("x" + i), embedding(-1f, i));
            }
            float[] q = {1f, 0f};
            QueryResult<KnnResult> rc = store.query(KnnQuery.nearest(q, 3), PositionBound.unbounded(), COMMITTED);
            assertThat(keys(result(rc))).containsExactly("e1", "e2", "e3");
            assertThat(rc.getPosition()).isEqualTo(at(1));
            QueryResult<KnnResult> ru = store.query(KnnQuery.nearest(q, 3), PositionBound.unbounded(), UNCOMMITTED);
            assertThat(keys(result(ru))).containsExactly("e3", "e2", "x59");
            assertThat(ru.getPosition()).isEqualTo(at(2));
            QueryResult<KnnResult> bounded = store.query(KnnQuery.nearest(q, 3), PositionBound.at(at(2)), COMMITTED);
            assertThat(bounded.isFailure()).isTrue();
            assertThat(bounded.getFailureReason()).isEqualTo(FailureReason.NOT_UP_TO_BOUND);

            store.commit(Map.of(CHANGELOG, 2L));
            assertThat(keys(result(store.query(KnnQuery.nearest(q, 3), PositionBound.at(at(2)), COMMITTED))))
                    .containsExactly("e3", "e2", "x59");
        }
    }

    static List<String> keys(KnnResult r) {
        List<String> out = new ArrayList<>();
        for (KnnResult.Match m : r.matches()) {
            out.add(str(m.key().get()));
        }
        return out;
    }

    static List<String> values(WindowStoreIterator<byte[]> it) {
        List<String> out = new ArrayList<>();
        try (it) {
            while (it.hasNext()) {
                KeyValue<Long, byte[]> kv = it.next();
                out.add(kv.key + "=" + hex(kv.value));
            }
        }
        return out;
    }
}
