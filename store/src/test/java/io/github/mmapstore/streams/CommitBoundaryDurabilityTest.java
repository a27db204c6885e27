package io.github.mmapstore.streams;

import static io.github.mmapstore.streams.IsolationFixture.CHANGELOG;
import static io.github.mmapstore.streams.IsolationFixture.drain;
import static io.github.mmapstore.streams.IsolationFixture.drainWindowed;
import static io.github.mmapstore.streams.IsolationFixture.k;
import static io.github.mmapstore.streams.IsolationFixture.str;
import static io.github.mmapstore.streams.IsolationFixture.v;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.mmapstore.engine.StoreEngine;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.kstream.internals.SessionWindow;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.SessionStore;
import org.apache.kafka.streams.state.WindowStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Close and crash at store level. A store with a changelog keeps no log of its own: a close without commit
 * reopens at the last commit with its offsets (nothing written after it survives, spilled segments
 * included); a crash reopens at some durable checkpoint whose committed offset is exactly the offset of the
 * data present. With {@code mmapstore.log=true} such a store keeps a log and reopens at exactly its last commit.
 */
class CommitBoundaryDurabilityTest {
    static final int KEYS = 40;

    @TempDir
    Path stateDir;

    static Map<String, Object> config(String log, boolean spill) {
        Map<String, Object> c = new HashMap<>();
        if (log != null) {
            c.put("mmapstore.log", log);
        }
        if (spill) {
            c.put("mmapstore.memtable.bytes", "4096");
        }
        return c;
    }

    static boolean hasLogFiles(Path storeDir) throws IOException {
        try (Stream<Path> s = Files.list(storeDir)) {
            return s.anyMatch(p -> p.getFileName().toString().endsWith(".log"));
        }
    }

    static List<String> contents(KeyValueStore<Bytes, byte[]> store) {
        return drain(store.all());
    }

    @ParameterizedTest(name = "mmapstore.log={0}")
    @ValueSource(strings = {"auto", "true", "false"})
    void closeWithoutCommitReopensAtTheLastCommit(String log) throws IOException {
        for (boolean spill : new boolean[] {false, true}) {
            Path dir = stateDir.resolve("spill-" + spill);
            List<String> committed;
            try (IsolationFixture f = new IsolationFixture(dir, config(log, spill))) {
                KeyValueStore<Bytes, byte[]> store = f.init(MmapStores.persistentKeyValueStore("kv").get());
                for (int i = 0; i < KEYS; i++) {
                    store.put(k(String.format("k%02d", i)), v("committed-" + i + ".".repeat(spill ? 100 : 0)));
                }
                store.commit(Map.of(CHANGELOG, 10L));
                committed = contents(store);
                for (int i = 0; i < KEYS; i += 2) {
                    store.put(k(String.format("k%02d", i)), v("uncommitted" + ".".repeat(spill ? 200 : 0)));
                    store.delete(k(String.format("k%02d", i + 1)));
                    store.put(k(String.format("new%02d", i)), v("uncommitted" + ".".repeat(spill ? 200 : 0)));
                }
                assertThat(hasLogFiles(f.storeDir("kv"))).as("a log of its own").isEqualTo(log.equals("true"));
                store.close();
            }
            try (IsolationFixture f = new IsolationFixture(dir, config(log, spill))) {
                KeyValueStore<Bytes, byte[]> store = f.init(MmapStores.persistentKeyValueStore("kv").get());
                assertThat(store.committedOffset(CHANGELOG)).isEqualTo(10L);
                assertThat(contents(store)).as("spill %s: reopened after a close without commit", spill).isEqualTo(committed);
            }
        }
    }

    @Test
    void windowAndSessionStoresCloseWithoutCommitAtTheLastCommit() {
        List<String> window;
        List<String> sessions;
        try (IsolationFixture f = new IsolationFixture(stateDir, config(null, true))) {
            @SuppressWarnings("unchecked")
            WindowStore<Bytes, byte[]> w = f.init((WindowStore<Bytes, byte[]>) MmapStores.persistentWindowStore("w",
                    Duration.ofMinutes(10), Duration.ofSeconds(10), false).get());
            SessionStore<Bytes, byte[]> s = f.init(MmapStores.persistentSessionStore("s", Duration.ofMinutes(10)).get());
            for (long t : WindowSessionCommittedReadTest.TIMES) {
                w.put(k("a"), v("committed" + t), t);
                s.put(new Windowed<>(k("a"), new SessionWindow(t, t + 5_000L)), v("committed" + t));
            }
            w.commit(Map.of(CHANGELOG, 7L));
            s.commit(Map.of(CHANGELOG, 8L));
            window = drainWindowed(w.all());
            sessions = drainWindowed(s.fetch(k("a")));
            for (int i = 0; i < 60; i++) { // spills
                for (long t : WindowSessionCommittedReadTest.TIMES) {
                    w.put(k("a"), v("uncommitted" + ".".repeat(100)), t);
                    w.put(k("b" + i), v("uncommitted" + ".".repeat(100)), t);
                    s.put(new Windowed<>(k("b" + i), new SessionWindow(t, t + 1_000L)), v("uncommitted" + ".".repeat(100)));
                }
            }
            s.remove(new Windowed<>(k("a"), new SessionWindow(60_000L, 65_000L)));
            w.close();
            s.close();
        }
        try (IsolationFixture f = new IsolationFixture(stateDir, config(null, true))) {
            @SuppressWarnings("unchecked")
            WindowStore<Bytes, byte[]> w = f.init((WindowStore<Bytes, byte[]>) MmapStores.persistentWindowStore("w",
                    Duration.ofMinutes(10), Duration.ofSeconds(10), false).get());
            SessionStore<Bytes, byte[]> s = f.init(MmapStores.persistentSessionStore("s", Duration.ofMinutes(10)).get());
            assertThat(w.committedOffset(CHANGELOG)).isEqualTo(7L);
            assertThat(s.committedOffset(CHANGELOG)).isEqualTo(8L);
            assertThat(drainWindowed(w.all())).isEqualTo(window);
            assertThat(drainWindowed(s.fetch(k("a")))).isEqualTo(sessions);
            assertThat(drainWindowed(s.fetch(k("b0")))).isEmpty();
        }
    }

    /** Every key holds the round it was last committed in; junk after the commit must never survive. */
    static byte[] roundValue(long round) {
        return v(round + ":" + ".".repeat(80));
    }

    /**
     * Copies of the live store directory taken at random moments (after a commit, with uncommitted writes
     * spilling after it) reopen at some commit, with that commit's offset and exactly its data. Without a
     * log (checkpoints at every commit here) that is some recent commit; with a log it is the last one.
     */
    @ParameterizedTest(name = "mmapstore.log={0}")
    @ValueSource(strings = {"auto", "true"})
    void crashCopiesPairDataWithExactlyItsOffset(String log) {
        Map<String, Object> cfg = config(log, true);
        cfg.put("mmapstore.checkpoint.interval.ms", "0");
        int rounds = 25;
        List<Path> copies = new ArrayList<>();
        try (IsolationFixture f = new IsolationFixture(stateDir.resolve("live"), cfg)) {
            KeyValueStore<Bytes, byte[]> store = f.init(MmapStores.persistentKeyValueStore("kv").get());
            for (long r = 1; r <= rounds; r++) {
                for (int i = 0; i < KEYS; i += 3) { // the last round's junk is not part of this commit
                    store.delete(k(String.format("junk%02d", i)));
                }
                for (int i = 0; i < KEYS; i++) {
                    store.put(k(String.format("k%02d", i)), roundValue(r));
                }
                store.commit(Map.of(CHANGELOG, r));
                for (int i = 0; i < KEYS; i += 3) { // uncommitted, more than a memtable's worth
                    store.put(k(String.format("k%02d", i)), v("junk" + ".".repeat(300)));
                    store.put(k(String.format("junk%02d", i)), v("junk" + ".".repeat(300)));
                }
                Path copy = stateDir.resolve("copy-" + r);
                IsolationFixture.copyLive(f.storeDir("kv"), copy.resolve("mmapstore").resolve("kv"));
                copies.add(copy);
            }
        }
        int recovered = 0;
        for (int c = 0; c < copies.size(); c++) {
            long round = c + 1;
            try (IsolationFixture f = new IsolationFixture(copies.get(c), cfg)) {
                KeyValueStore<Bytes, byte[]> store = f.init(MmapStores.persistentKeyValueStore("kv").get());
                Long offset = store.committedOffset(CHANGELOG);
                List<String> rows = new ArrayList<>();
                try (KeyValueIterator<Bytes, byte[]> it = store.all()) {
                    while (it.hasNext()) {
                        KeyValue<Bytes, byte[]> kv = it.next();
                        rows.add(str(kv.key.get()) + "=" + str(kv.value));
                    }
                }
                if (offset == null) {
                    assertThat(rows).as("copy %s: no committed offset, so no data", round).isEmpty();
                    continue;
                }
                recovered++;
                assertThat(offset).as("copy %s: an offset of a commit made before it", round).isBetween(1L, round);
                if (log.equals("true")) {
                    assertThat(offset).as("copy %s: with a log, the last commit", round).isEqualTo(round);
                }
                List<String> expected = new ArrayList<>();
                for (int i = 0; i < KEYS; i++) {
                    expected.add(String.format("k%02d", i) + "=" + str(roundValue(offset)));
                }
                assertThat(rows).as("copy %s at committed offset %s: exactly that commit's data", round, offset).isEqualTo(expected);
            }
        }
        assertThat(recovered).as("copies that recovered a commit").isGreaterThan(rounds / 2);
    }

    /** The timestamped embedding store, subclassed (public API) to reach its engine: crash after a durable checkpoint. */
    static final class EngineAccess extends MmapTimestampedEmbeddingStore {
        EngineAccess(String name) {
            super(name, MmapEmbeddingStoreSupplier.METRICS_SCOPE, 2, Similarity.COSINE);
        }

        StoreEngine engine() {
            return engineForSubclasses();
        }
    }

    static byte[] embedding(long round, int i) {
        byte[] body = new EmbeddingSerde(2).serializer().serialize(null, new Embedding(new float[] {round, i + 1}));
        return ByteBuffer.allocate(8 + body.length).putLong(round).put(body).array();
    }

    @Test
    void abandonedEngineReopensAtItsDurableCheckpoint() {
        Map<String, Object> cfg = config(null, true);
        cfg.put("mmapstore.checkpoint.interval.ms", "3600000"); // checkpoints only when memtables fill or asked
        for (int crashAt = 1; crashAt <= 4; crashAt++) {
            Path dir = stateDir.resolve("crash-" + crashAt);
            long durable;
            try (IsolationFixture f = new IsolationFixture(dir, cfg)) {
                EngineAccess store = f.init(new EngineAccess("e"));
                for (long r = 1; r <= crashAt; r++) {
                    for (int i = 0; i < KEYS; i += 2) { // the last round's junk is not part of this commit
                        store.delete(k(String.format("x%02d", i)));
                    }
                    for (int i = 0; i < KEYS; i++) {
                        store.put(k(String.format("k%02d", i)), embedding(r, i));
                    }
                    store.commit(Map.of(CHANGELOG, r));
                    if (r == crashAt) {
                        store.engine().awaitDurable(); // no flush in flight: the checkpoint below is taken at this commit
                        store.engine().checkpoint(); // the last commit made durable on request
                    }
                    for (int i = 0; i < KEYS; i += 2) { // uncommitted, spilling
                        store.put(k(String.format("k%02d", i)), embedding(1000 + r, i));
                        store.put(k(String.format("x%02d", i)), embedding(1000 + r, i));
                    }
                }
                store.engine().awaitDurable();
                durable = crashAt;
                store.engine().abandon();
            }
            try (IsolationFixture f = new IsolationFixture(dir, cfg)) {
                KeyValueStore<Bytes, byte[]> store = f.init(MmapStores.timestampedEmbeddingStore("e", 2, Similarity.COSINE).get());
                assertThat(store.committedOffset(CHANGELOG)).as("crash after round %s", crashAt).isEqualTo(durable);
                List<String> expected = new ArrayList<>();
                for (int i = 0; i < KEYS; i++) {
                    expected.add(String.format("k%02d", i) + "=" + IsolationFixture.hex(embedding(durable, i)));
                }
                assertThat(drain(store.all())).as("crash after round %s", crashAt).isEqualTo(expected);
            }
        }
    }
}
