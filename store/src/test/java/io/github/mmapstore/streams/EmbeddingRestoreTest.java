package io.github.mmapstore.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mmapstore.streams.internals.DelegatingContext;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.StateRestoreCallback;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.internals.RecordBatchingStateRestoreCallback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * An embedding store restored from its changelog (the records fed through the restore callback it
 * registers, as Kafka Streams' state updater does) searches exactly: puts, overwrites and tombstones of the
 * changelog are applied newest-wins, across memtable flushes, and after a reopen.
 */
class EmbeddingRestoreTest {
    static final int DIM = 24;
    private static final TopicPartition CHANGELOG = new TopicPartition("app-emb-changelog", 0);

    @TempDir
    Path stateDir;

    private final List<MmapEmbeddingStore> open = new ArrayList<>();
    private StateRestoreCallback restoreCallback;

    @AfterEach
    void close() {
        open.forEach(MmapEmbeddingStore::close);
    }

    private MmapEmbeddingStore store(Similarity sim) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "app");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
        props.put("mmapstore.fsync", "false");
        props.put("mmapstore.memtable.bytes", "32768");
        MockProcessorContext<Object, Object> ctx = new MockProcessorContext<>(props, new TaskId(0, 0), stateDir.toFile());
        StateStoreContext ssc = new DelegatingContext(ctx.getStateStoreContext()) {
            @Override
            public void register(StateStore store, StateRestoreCallback cb, org.apache.kafka.streams.processor.CommitCallback commit) {
                restoreCallback = cb;
                super.register(store, cb, commit);
            }
        };
        MmapEmbeddingStore s = (MmapEmbeddingStore) MmapStores.embeddingStore("emb", DIM, sim).get();
        s.init(ssc, s);
        open.add(s);
        return s;
    }

    static float[] vector(Random rnd) {
        float[] v = new float[DIM];
        for (int i = 0; i < DIM; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    @ParameterizedTest
    @EnumSource(Similarity.class)
    void restoredStoreSearchesExactly(Similarity sim) {
        MmapEmbeddingStore store = store(sim);
        assertThat(restoreCallback).isInstanceOf(RecordBatchingStateRestoreCallback.class);
        RecordBatchingStateRestoreCallback cb = (RecordBatchingStateRestoreCallback) restoreCallback;
        Random rnd = new Random(7 + sim.ordinal());
        EmbeddingSerde serde = new EmbeddingSerde(DIM);
        Map<Integer, Embedding> model = new TreeMap<>();
        long offset = 0;
        for (int batch = 0; batch < 10; batch++) {
            List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                int k = rnd.nextInt(1200) | (rnd.nextBoolean() ? 0 : 0x01000000);
                byte[] key = ByteBuffer.allocate(4).putInt(k).array();
                byte[] value = null;
                if (rnd.nextInt(7) == 0) {
                    model.remove(k);
                } else {
                    Embedding e = new Embedding(vector(rnd), rnd.nextFloat(), rnd.nextInt(1000), new byte[] {(byte) i, 2});
                    value = serde.serializer().serialize(CHANGELOG.topic(), e);
                    model.put(k, e);
                }
                records.add(new ConsumerRecord<>(CHANGELOG.topic(), CHANGELOG.partition(), offset++, key, value));
            }
            cb.restoreBatch(records);
        }
        check(sim, store, model, rnd);
        store.commit(Map.of(CHANGELOG, offset - 1));
        store.close();
        open.clear();
        MmapEmbeddingStore reopened = store(sim);
        assertThat(reopened.committedOffset(CHANGELOG)).isEqualTo(offset - 1);
        check(sim, reopened, model, rnd);
        KnnResult withEmb = reopened.search(KnnQuery.nearest(vector(rnd), 4).withEmbeddings());
        for (KnnResult.Match m : withEmb.matches()) {
            assertThat(m.embedding()).isEqualTo(model.get(ByteBuffer.wrap(m.key().get()).getInt()));
        }
    }

    private static void check(Similarity sim, MmapEmbeddingStore store, Map<Integer, Embedding> model, Random rnd) {
        for (int t = 0; t < 15; t++) {
            float[] qv = vector(rnd);
            KnnQuery q = KnnQuery.nearest(qv, 1 + rnd.nextInt(10));
            if (t % 2 == 1) {
                q = q.withMinConfidence(0.4f).withKeyPrefix(Bytes.wrap(new byte[] {1}));
            }
            List<Integer> actual = store.search(q).matches().stream().map(m -> ByteBuffer.wrap(m.key().get()).getInt()).toList();
            assertThat(actual).as("%s after restore", q).isEqualTo(EmbeddingStoreExactnessTest.bruteForce(sim, model, q, qv));
        }
    }
}
