package io.github.mmapstore.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Top-k from the store equals a brute-force reference in double precision (ties broken by key), for every
 * similarity, with and without filters, across memtable and segments, after overwrites, deletes and reopen.
 */
class EmbeddingStoreExactnessTest {
    static final int DIM = 37;

    @TempDir
    Path stateDir;

    private final List<MmapEmbeddingStore> open = new ArrayList<>();

    @AfterEach
    void close() {
        open.forEach(MmapEmbeddingStore::close);
    }

    private MmapEmbeddingStore store(Similarity sim) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "emb");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
        props.put("mmapstore.fsync", "false");
        props.put("mmapstore.memtable.bytes", "65536");
        MockProcessorContext<Object, Object> ctx = new MockProcessorContext<>(props, new TaskId(0, 0), stateDir.toFile());
        StateStoreContext ssc = ctx.getStateStoreContext();
        MmapEmbeddingStore s = (MmapEmbeddingStore) MmapStores.embeddingStore("emb", DIM, sim).get();
        s.init(ssc, s);
        open.add(s);
        return s;
    }

    static Bytes key(int i) {
        return Bytes.wrap(ByteBuffer.allocate(4).putInt(i).array());
    }

    static float[] randomVector(Random rnd) {
        float[] v = new float[DIM];
        for (int i = 0; i < DIM; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    static double reference(Similarity sim, float[] q, float[] v) {
        double dot = 0;
        double nq = 0;
        double nv = 0;
        double l2 = 0;
        for (int i = 0; i < q.length; i++) {
            dot += (double) q[i] * v[i];
            nq += (double) q[i] * q[i];
            nv += (double) v[i] * v[i];
            double d = (double) q[i] - v[i];
            l2 += d * d;
        }
        return switch (sim) {
            case COSINE -> dot / Math.sqrt(nq) / Math.sqrt(nv);
            case DOT_PRODUCT -> dot;
            case EUCLIDEAN -> Math.sqrt(l2);
        };
    }

    static List<Integer> bruteForce(Similarity sim, Map<Integer, Embedding> model, KnnQuery q, float[] query) {
        List<Map.Entry<Integer, Double>> scored = new ArrayList<>();
        for (Map.Entry<Integer, Embedding> e : model.entrySet()) {
            Embedding emb = e.getValue();
            if (emb.confidence() < q.minConfidence() || emb.timestamp() < q.fromTimestamp() || emb.timestamp() > q.toTimestamp()) {
                continue;
            }
            if (q.keyPrefix() != null && (e.getKey() >>> 24) != (q.keyPrefix().get()[0] & 0xFF)) {
                continue;
            }
            scored.add(Map.entry(e.getKey(), reference(sim, query, emb.vector())));
        }
        Comparator<Map.Entry<Integer, Double>> c = Comparator.comparingDouble(Map.Entry::getValue);
        if (sim != Similarity.EUCLIDEAN) {
            c = c.reversed();
        }
        c = c.thenComparing(e -> key(e.getKey()));
        scored.sort(c);
        return scored.stream().limit(q.k()).map(Map.Entry::getKey).toList();
    }

    private static void check(Similarity sim, MmapEmbeddingStore store, Map<Integer, Embedding> model, Random rnd) {
        for (int t = 0; t < 20; t++) {
            float[] query = randomVector(rnd);
            KnnQuery q = KnnQuery.nearest(query, 1 + rnd.nextInt(12));
            if (t % 3 == 1) {
                q = q.withMinConfidence(0.5f).withTimestampRange(100, 800);
            } else if (t % 3 == 2) {
                q = q.withKeyPrefix(Bytes.wrap(new byte[] {0}));
            }
            KnnResult r = store.search(q);
            List<Integer> expected = bruteForce(sim, model, q, query);
            List<Integer> actual = r.matches().stream().map(m -> ByteBuffer.wrap(m.key().get()).getInt()).toList();
            assertThat(actual).as("top-%d under %s, query %s", q.k(), sim, q).isEqualTo(expected);
            for (KnnResult.Match m : r.matches()) {
                double ref = reference(sim, query, model.get(ByteBuffer.wrap(m.key().get()).getInt()).vector());
                assertThat((double) m.score()).isCloseTo(ref, org.assertj.core.data.Offset.offset(1e-4 * Math.max(1, Math.abs(ref))));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Similarity.class)
    void topKEqualsBruteForceAcrossMemtableSegmentsOverwritesDeletesAndReopen(Similarity sim) {
        Random rnd = new Random(sim.ordinal() * 31L + 5);
        MmapEmbeddingStore store = store(sim);
        EmbeddingSerde serde = new EmbeddingSerde(DIM);
        Map<Integer, Embedding> model = new TreeMap<>();
        for (int i = 0; i < 3000; i++) {
            int k = rnd.nextInt(1500) | (rnd.nextBoolean() ? 0 : 0x01000000);
            if (rnd.nextInt(8) == 0) {
                store.delete(key(k));
                model.remove(k);
            } else {
                Embedding e = new Embedding(randomVector(rnd), rnd.nextFloat(), rnd.nextInt(1000), new byte[] {(byte) i});
                store.put(key(k), serde.serializer().serialize("t", e));
                model.put(k, e);
            }
            if (i == 1500) {
                store.commit(Map.of());
            }
        }
        check(sim, store, model, rnd);
        store.commit(Map.of());
        store.close();
        open.clear();
        MmapEmbeddingStore reopened = store(sim);
        check(sim, reopened, model, rnd);
        // Embeddings come back intact when asked for.
        KnnResult withEmb = reopened.search(KnnQuery.nearest(randomVector(rnd), 3).withEmbeddings());
        for (KnnResult.Match m : withEmb.matches()) {
            assertThat(m.embedding()).isEqualTo(model.get(ByteBuffer.wrap(m.key().get()).getInt()));
        }
    }

    @Test
    void badInputIsRefusedAndChangesNothing() {
        MmapEmbeddingStore store = store(Similarity.COSINE);
        EmbeddingSerde any = new EmbeddingSerde();
        float[] ok = new float[DIM];
        ok[0] = 1;
        store.put(key(1), any.serializer().serialize("t", new Embedding(ok)));
        byte[] before = store.get(key(1));
        assertThatThrownBy(() -> store.put(key(1), any.serializer().serialize("t", new Embedding(new float[DIM]))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("zero vector");
        assertThatThrownBy(() -> store.put(key(1), any.serializer().serialize("t", new Embedding(new float[DIM + 1]))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dimension");
        assertThatThrownBy(() -> store.put(key(1), new byte[] {1, 2, 3}))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Embedding(new float[] {Float.NaN}))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> KnnQuery.nearest(ok, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.search(KnnQuery.nearest(new float[DIM + 2], 1))).isInstanceOf(IllegalArgumentException.class);
        assertThat(store.get(key(1))).isEqualTo(before);
    }
}
