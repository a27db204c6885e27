package io.github.mmapstore.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mmapstore.engine.EngineStats;
import io.github.mmapstore.engine.StoreEngine;
import io.github.mmapstore.streams.internals.StoreCore;
import io.github.mmapstore.vector.VectorKernels;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The SIMD and the scalar kernels give the same top-k through the store (scores within 1e-4 relative),
 * one query at a time and batched; and the single-segment fast path of the scan (a fully compacted store
 * with an empty memtable) is exact too.
 */
class EmbeddingKernelPathsTest {
    static final int DIM = 131; // not a multiple of any lane count: tail loops run

    @TempDir
    Path dir;

    private final List<MmapEmbeddingStore> open = new ArrayList<>();

    @AfterEach
    void close() {
        open.forEach(MmapEmbeddingStore::close);
    }

    private MmapEmbeddingStore store(String sub, Similarity sim, VectorKernels kernels) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "emb");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
        props.put("mmapstore.fsync", "false");
        props.put("mmapstore.memtable.bytes", "131072");
        MockProcessorContext<Object, Object> ctx = new MockProcessorContext<>(props, new TaskId(0, 0), dir.resolve(sub).toFile());
        MmapEmbeddingStore s = new MmapEmbeddingStore("emb", MmapEmbeddingStoreSupplier.METRICS_SCOPE, DIM, sim, kernels);
        s.init(ctx.getStateStoreContext(), s);
        open.add(s);
        return s;
    }

    static Bytes key(int i) {
        return Bytes.wrap(ByteBuffer.allocate(4).putInt(i).array());
    }

    static float[] vector(Random rnd) {
        float[] v = new float[DIM];
        for (int i = 0; i < DIM; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    /** Writes the same random history (puts, overwrites, deletes, commits) into every store; returns the live model. */
    static Map<Integer, Embedding> fill(Random rnd, int ops, MmapEmbeddingStore... stores) {
        EmbeddingSerde serde = new EmbeddingSerde(DIM);
        Map<Integer, Embedding> model = new TreeMap<>();
        for (int i = 0; i < ops; i++) {
            int k = rnd.nextInt(ops / 2) | (rnd.nextBoolean() ? 0 : 0x01000000);
            if (rnd.nextInt(10) == 0) {
                for (MmapEmbeddingStore s : stores) {
                    s.delete(key(k));
                }
                model.remove(k);
            } else {
                Embedding e = new Embedding(vector(rnd), rnd.nextFloat(), rnd.nextInt(1000), new byte[] {(byte) i});
                byte[] bytes = serde.serializer().serialize("t", e);
                for (MmapEmbeddingStore s : stores) {
                    s.put(key(k), bytes);
                }
                model.put(k, e);
            }
            if (i % 700 == 699) {
                for (MmapEmbeddingStore s : stores) {
                    s.commit(Map.of());
                }
            }
        }
        return model;
    }

    private static KnnQuery randomQuery(Random rnd, int t) {
        KnnQuery q = KnnQuery.nearest(vector(rnd), 1 + rnd.nextInt(15));
        return switch (t % 3) {
            case 1 -> q.withMinConfidence(0.3f).withTimestampRange(50, 900);
            case 2 -> q.withKeyPrefix(Bytes.wrap(new byte[] {1}));
            default -> q;
        };
    }

    static void assertSame(KnnResult simd, KnnResult scalar, Object what) {
        assertThat(keys(simd)).as("top-k keys, %s", what).isEqualTo(keys(scalar));
        for (int i = 0; i < simd.matches().size(); i++) {
            double a = simd.matches().get(i).score();
            double b = scalar.matches().get(i).score();
            assertThat(Math.abs(a - b)).as("score %d of %s: %s vs %s", i, what, a, b).isLessThanOrEqualTo(1e-4 * Math.max(1, Math.abs(b)));
        }
    }

    static List<Integer> keys(KnnResult r) {
        return r.matches().stream().map(m -> ByteBuffer.wrap(m.key().get()).getInt()).toList();
    }

    @ParameterizedTest
    @EnumSource(Similarity.class)
    void simdAndScalarGiveTheSameTopK(Similarity sim) {
        VectorKernels simdKernels = VectorKernels.simd().orElse(null);
        assumeTrue(simdKernels != null, "the SIMD kernels need " + VectorKernels.ENABLE_FLAG);
        MmapEmbeddingStore simd = store("simd", sim, simdKernels);
        MmapEmbeddingStore scalar = store("scalar", sim, VectorKernels.scalar());
        assertThat(simd.kernels().isSimd()).isTrue();
        assertThat(scalar.kernels().isSimd()).isFalse();
        Random rnd = new Random(11 + sim.ordinal());
        fill(rnd, 4000, simd, scalar);
        List<KnnQuery> batch = new ArrayList<>();
        for (int t = 0; t < 30; t++) {
            KnnQuery q = randomQuery(rnd, t);
            batch.add(q);
            assertSame(simd.search(q), scalar.search(q), q);
        }
        List<KnnResult> a = simd.search(batch);
        List<KnnResult> b = scalar.search(batch);
        for (int i = 0; i < batch.size(); i++) {
            assertSame(a.get(i), b.get(i), "batched " + batch.get(i));
            // a batch answers exactly what single searches answer
            assertSame(a.get(i), simd.search(batch.get(i)), "batched vs single " + batch.get(i));
        }
    }

    @ParameterizedTest
    @EnumSource(Similarity.class)
    void singleSegmentFastPathIsExact(Similarity sim) {
        MmapEmbeddingStore store = store("one", sim, VectorKernels.best());
        Random rnd = new Random(29 + sim.ordinal());
        // > 4096 live rows so that the scan hands out several runs of the one segment
        Map<Integer, Embedding> model = fill(rnd, 12000, store);
        StoreEngine engine = StoreCore.coreOf(store).engine();
        engine.flush(); // the memtable becomes a segment ...
        store.commit(Map.of()); // ... committed, so that compaction may take it
        engine.compactFully();
        EngineStats stats = engine.stats();
        assertThat(stats.segments()).as("segments after compactFully").isEqualTo(1);
        assertThat(stats.memtableKeys()).as("memtable keys").isZero();
        for (int t = 0; t < 24; t++) {
            KnnQuery q = randomQuery(rnd, t);
            KnnResult r = store.search(q);
            List<Integer> expected = EmbeddingStoreExactnessTest.bruteForce(sim, model, q, q.vector());
            assertThat(keys(r)).as("top-%d under %s, %s", q.k(), sim, q).isEqualTo(expected);
            for (KnnResult.Match m : r.matches()) {
                double ref = EmbeddingStoreExactnessTest.reference(sim, q.vector(), model.get(ByteBuffer.wrap(m.key().get()).getInt()).vector());
                assertThat((double) m.score()).isCloseTo(ref, org.assertj.core.data.Offset.offset(1e-4 * Math.max(1, Math.abs(ref))));
            }
        }
        // still exact once a write lands in the memtable again (the merged path)
        Embedding fresh = new Embedding(vector(rnd), 1f, 10, null);
        store.put(key(7), new EmbeddingSerde(DIM).serializer().serialize("t", fresh));
        model.put(7, fresh);
        KnnQuery q = KnnQuery.nearest(fresh.vector(), 5);
        assertThat(keys(store.search(q))).isEqualTo(EmbeddingStoreExactnessTest.bruteForce(sim, model, q, q.vector()));
    }
}
