package io.github.mmapstore.streams;

import static io.github.mmapstore.streams.IsolationFixture.CHANGELOG;
import static io.github.mmapstore.streams.IsolationFixture.TRANSACTIONAL;
import static io.github.mmapstore.streams.IsolationFixture.k;
import static io.github.mmapstore.streams.IsolationFixture.v;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.kstream.internals.SessionWindow;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.SessionStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code approximateNumUncommittedBytes()}: with {@code enable.transactional.statestores=true} the key and
 * value bytes written since the last commit (Kafka 4.4 sums them against
 * {@code statestore.uncommitted.max.bytes} to commit early), back to 0 at each commit; 0 without the flag.
 */
class UncommittedBytesTest {
    @TempDir
    Path stateDir;

    @ParameterizedTest
    @EnumSource(KeyValueCommittedReadTest.Kind.class)
    void keyValueStoresCountKeyAndValueBytesSinceTheLastCommit(KeyValueCommittedReadTest.Kind kind) {
        try (IsolationFixture f = new IsolationFixture(stateDir, Map.of(TRANSACTIONAL, "true", "mmapstore.memtable.bytes", "4096"))) {
            KeyValueStore<Bytes, byte[]> store = f.init(kind.supplier("kv").get());
            assertThat(store.approximateNumUncommittedBytes()).isZero();
            byte[] v1 = kind.value("one", 0);
            byte[] v2 = kind.value("two-longer", 0);
            store.put(k("abc"), v1);
            long expected = 3 + v1.length;
            assertThat(store.approximateNumUncommittedBytes()).isEqualTo(expected);
            store.put(k("abc"), v2); // an overwrite is written again
            expected += 3 + v2.length;
            assertThat(store.approximateNumUncommittedBytes()).isEqualTo(expected);
            store.delete(k("abc")); // a tombstone: its key
            expected += 3;
            assertThat(store.approximateNumUncommittedBytes()).isEqualTo(expected);
            store.putAll(List.of(KeyValue.pair(k("x"), v1), KeyValue.pair(k("yy"), v2), KeyValue.pair(k("zzz"), null)));
            expected += 1 + v1.length + 2 + v2.length + 3;
            assertThat(store.approximateNumUncommittedBytes()).isEqualTo(expected);
            store.putIfAbsent(k("x"), v2); // present: nothing written
            assertThat(store.approximateNumUncommittedBytes()).isEqualTo(expected);

            store.commit(Map.of(CHANGELOG, 1L));
            assertThat(store.approximateNumUncommittedBytes()).as("after a commit").isZero();

            // many memtables' worth between commits: spills do not reset the count, only commits do
            long sum = 0;
            for (int i = 0; i < 200; i++) {
                byte[] v = kind.value("v" + i, 100);
                store.put(k("key" + i), v);
                sum += ("key" + i).length() + v.length;
            }
            assertThat(store.approximateNumUncommittedBytes()).isEqualTo(sum);
            store.commit(Map.of(CHANGELOG, 2L));
            assertThat(store.approximateNumUncommittedBytes()).isZero();
            store.commit(Map.of(CHANGELOG, 3L));
            assertThat(store.approximateNumUncommittedBytes()).isZero();
        }
    }

    @Test
    void zeroWithoutTransactionalStores() {
        for (String flag : new String[] {null, "false"}) {
            try (IsolationFixture f = new IsolationFixture(stateDir.resolve("flag-" + flag), flag == null ? Map.of() : Map.of(TRANSACTIONAL, flag))) {
                KeyValueStore<Bytes, byte[]> kv = f.init(MmapStores.persistentKeyValueStore("kv").get());
                @SuppressWarnings("unchecked")
                WindowStore<Bytes, byte[]> w = f.init((WindowStore<Bytes, byte[]>) MmapStores.persistentWindowStore("w",
                        Duration.ofMinutes(10), Duration.ofSeconds(10), false).get());
                SessionStore<Bytes, byte[]> s = f.init(MmapStores.persistentSessionStore("s", Duration.ofMinutes(10)).get());
                kv.put(k("a"), v("value"));
                w.put(k("a"), v("value"), 1_000L);
                s.put(new Windowed<>(k("a"), new SessionWindow(1_000L, 2_000L)), v("value"));
                assertThat(kv.approximateNumUncommittedBytes()).isZero();
                assertThat(w.approximateNumUncommittedBytes()).isZero();
                assertThat(s.approximateNumUncommittedBytes()).isZero();
            }
        }
    }

    @Test
    void windowAndSessionStoresCountSinceTheLastCommit() {
        try (IsolationFixture f = new IsolationFixture(stateDir, Map.of(TRANSACTIONAL, "true"))) {
            @SuppressWarnings("unchecked")
            WindowStore<Bytes, byte[]> w = f.init((WindowStore<Bytes, byte[]>) MmapStores.persistentWindowStore("w",
                    Duration.ofMinutes(10), Duration.ofSeconds(10), false).get());
            SessionStore<Bytes, byte[]> s = f.init(MmapStores.persistentSessionStore("s", Duration.ofMinutes(10)).get());
            assertThat(w.approximateNumUncommittedBytes()).isZero();
            w.put(k("a"), v("value"), 1_000L);
            long one = w.approximateNumUncommittedBytes();
            // at least the window key (key, start, seqnum) and the value; the engine adds its segment prefix
            assertThat(one).isGreaterThanOrEqualTo(1 + 8 + 4 + 5);
            w.put(k("b"), v("value"), 2_000L);
            assertThat(w.approximateNumUncommittedBytes()).as("same sizes, twice").isEqualTo(2 * one);
            w.put(k("c"), v("value-longer"), 3_000L);
            assertThat(w.approximateNumUncommittedBytes()).isEqualTo(3 * one + 7);
            w.commit(Map.of(CHANGELOG, 1L));
            assertThat(w.approximateNumUncommittedBytes()).isZero();

            s.put(new Windowed<>(k("a"), new SessionWindow(1_000L, 2_000L)), v("agg"));
            long sone = s.approximateNumUncommittedBytes();
            assertThat(sone).isGreaterThanOrEqualTo(1 + 16 + 3);
            s.put(new Windowed<>(k("b"), new SessionWindow(1_000L, 2_000L)), v("agg"));
            assertThat(s.approximateNumUncommittedBytes()).isEqualTo(2 * sone);
            s.commit(Map.of(CHANGELOG, 1L));
            assertThat(s.approximateNumUncommittedBytes()).isZero();
        }
    }

    @Test
    void kafkasLayersReportTheStoresCount() {
        try (IsolationFixture f = new IsolationFixture(stateDir, Map.of(TRANSACTIONAL, "true"))) {
            KeyValueStore<String, String> store = f.init(Stores.keyValueStoreBuilder(MmapStores.persistentKeyValueStore("kv"),
                    Serdes.String(), Serdes.String()).withCachingDisabled().withLoggingDisabled().build());
            store.put("key", "value");
            assertThat(store.approximateNumUncommittedBytes()).isEqualTo(3 + 5);
            store.commit(Map.of(CHANGELOG, 1L));
            assertThat(store.approximateNumUncommittedBytes()).isZero();
        }
    }
}
