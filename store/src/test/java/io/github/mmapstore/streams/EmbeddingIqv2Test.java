package io.github.mmapstore.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.query.FailureReason;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.internals.MeteredKeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link KnnQuery} and {@link KnnBatchQuery} through Kafka's metered wrapper (what IQv2 and processors
 * hold), the position bound, bad queries, and the refusal of a caching embedding store.
 */
class EmbeddingIqv2Test {
    static final int DIM = 16;

    @TempDir
    Path stateDir;

    private KeyValueStore<String, Embedding> store;

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    private MockProcessorContext<Object, Object> context() {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "iq");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
        props.put("mmapstore.fsync", "false");
        return new MockProcessorContext<>(props, new TaskId(0, 3), stateDir.toFile());
    }

    static float[] vector(Random rnd) {
        float[] v = new float[DIM];
        for (int i = 0; i < DIM; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    @Test
    void knnQueryThroughTheMeteredStore() {
        MockProcessorContext<Object, Object> ctx = context();
        store = Stores.keyValueStoreBuilder(MmapStores.embeddingStore("vectors", DIM, Similarity.COSINE), Serdes.String(), new EmbeddingSerde(DIM))
                .withCachingDisabled()
                .withLoggingDisabled()
                .build();
        assertThat(store).isInstanceOf(MeteredKeyValueStore.class);
        store.init(ctx.getStateStoreContext(), store);

        Random rnd = new Random(3);
        Map<String, Embedding> model = new TreeMap<>();
        for (int i = 0; i < 200; i++) {
            ctx.setRecordMetadata("input", 3, i);
            Embedding e = new Embedding(vector(rnd), 1f, i, null);
            store.put("k" + i, e);
            model.put("k" + i, e);
        }
        float[] qv = vector(rnd);
        KnnQuery q = KnnQuery.nearest(qv, 5).withEmbeddings();
        QueryResult<KnnResult> r = ((StateStore) store).query(q, PositionBound.unbounded(), new QueryConfig(true));
        assertThat(r.isSuccess()).as("%s", r).isTrue();
        assertThat(r.getExecutionInfo()).anyMatch(s -> s.contains("KnnQuery"));
        assertThat(r.getPosition()).isEqualTo(Position.emptyPosition().withComponent("input", 3, 199));
        List<String> expected = bruteForce(model, qv, 5);
        assertThat(r.getResult().matches()).extracting(m -> m.key(new org.apache.kafka.common.serialization.StringDeserializer()))
                .isEqualTo(expected);
        assertThat(r.getResult().matches().get(0).embedding()).isEqualTo(model.get(expected.get(0)));

        // the batched query gives the same answers, in order
        KnnQuery q2 = KnnQuery.nearest(vector(rnd), 3).withTimestampRange(0, 99);
        QueryResult<List<KnnResult>> br = ((StateStore) store).query(new KnnBatchQuery(List.of(q, q2)), PositionBound.unbounded(), new QueryConfig(false));
        assertThat(br.isSuccess()).isTrue();
        assertThat(br.getResult()).hasSize(2);
        assertThat(br.getResult().get(0)).isEqualTo(r.getResult());
        assertThat(br.getResult().get(1).matches()).allSatisfy(m -> assertThat(Integer.parseInt(new String(m.key().get()).substring(1))).isLessThan(100));
        assertThat(EmbeddingSearch.topK((StateStore) store, q2)).isEqualTo(br.getResult().get(1));

        // a bound the store has reached is answered; one it has not is NOT_UP_TO_BOUND
        QueryResult<KnnResult> reached = ((StateStore) store).query(q,
                PositionBound.at(Position.emptyPosition().withComponent("input", 3, 150)), new QueryConfig(false));
        assertThat(reached.isSuccess()).isTrue();
        QueryResult<KnnResult> ahead = ((StateStore) store).query(q,
                PositionBound.at(Position.emptyPosition().withComponent("input", 3, 200)), new QueryConfig(false));
        assertThat(ahead.isFailure()).isTrue();
        assertThat(ahead.getFailureReason()).isEqualTo(FailureReason.NOT_UP_TO_BOUND);

        // a query of the wrong dimension fails with a clear message and does not throw
        QueryResult<KnnResult> bad = ((StateStore) store).query(KnnQuery.nearest(new float[DIM + 1], 1), PositionBound.unbounded(), new QueryConfig(false));
        assertThat(bad.getFailureReason()).isEqualTo(FailureReason.STORE_EXCEPTION);
        assertThat(bad.getFailureMessage()).contains("dimension");
        assertThatThrownBy(() -> EmbeddingSearch.topK((StateStore) store, KnnQuery.nearest(new float[DIM + 1], 1)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("dimension");
    }

    @Test
    void knnResultSerdeRoundTrips() {
        Random rnd = new Random(5);
        KnnResult r = new KnnResult(Similarity.EUCLIDEAN, List.of(
                new KnnResult.Match(org.apache.kafka.common.utils.Bytes.wrap(new byte[] {1, 2}), 0.5f, new Embedding(vector(rnd), 0.7f, 9, new byte[] {4})),
                new KnnResult.Match(org.apache.kafka.common.utils.Bytes.wrap(new byte[0]), 1.5f, null)));
        KnnResultSerde serde = new KnnResultSerde();
        byte[] bytes = serde.serializer().serialize("t", r);
        assertThat(serde.deserializer().deserialize("t", bytes)).isEqualTo(r);
        assertThat(serde.deserializer().deserialize("t", KnnResultSerde.encode(new KnnResult(Similarity.COSINE, List.of()))).matches()).isEmpty();
        assertThatThrownBy(() -> serde.deserializer().deserialize("t", java.util.Arrays.copyOf(bytes, bytes.length - 3)))
                .isInstanceOf(org.apache.kafka.common.errors.SerializationException.class);
    }

    @Test
    void embeddingStoreWithCachingFailsAtInitWithAClearMessage() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.addStateStore(Stores.keyValueStoreBuilder(MmapStores.embeddingStore("cached", DIM, Similarity.DOT_PRODUCT),
                Serdes.String(), new EmbeddingSerde(DIM)).withCachingEnabled());
        builder.stream("in", Consumed.with(Serdes.String(), Serdes.String()))
                .process(() -> new org.apache.kafka.streams.processor.api.Processor<String, String, Void, Void>() {
                    @Override
                    public void process(org.apache.kafka.streams.processor.api.Record<String, String> record) {
                    }
                }, "cached");
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "cache-refused");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        assertThatThrownBy(() -> {
            try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props)) {
                driver.createInputTopic("in", new StringSerializer(), new StringSerializer()).pipeInput("a", "b");
            }
        }).satisfies(e -> {
            Throwable t = e;
            while (t.getCause() != null && !(t instanceof IllegalStateException && t.getMessage().contains("caching"))) {
                t = t.getCause();
            }
            assertThat(t).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("embedding store cached is built with caching enabled")
                    .hasMessageContaining("withCachingDisabled()");
        });
    }

    static List<String> bruteForce(Map<String, Embedding> model, float[] q, int k) {
        return model.entrySet().stream()
                .sorted(java.util.Comparator.<Map.Entry<String, Embedding>>comparingDouble(
                        e -> -EmbeddingStoreExactnessTest.reference(Similarity.COSINE, q, e.getValue().vector()))
                        .thenComparing(e -> org.apache.kafka.common.utils.Bytes.wrap(e.getKey().getBytes())))
                .limit(k).map(Map.Entry::getKey).toList();
    }
}
