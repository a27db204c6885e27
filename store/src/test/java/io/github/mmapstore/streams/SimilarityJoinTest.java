package io.github.mmapstore.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The similarity join in a {@link TopologyTestDriver}: a table of embeddings (an embedding store written
 * by a processor from a topic of embeddings), a stream of query vectors, output = the brute-force top-k
 * over the embeddings written before the query (unbatched) or before the punctuation (batched).
 */
class SimilarityJoinTest {
    static final int DIM = 20;
    static final int K = 4;

    @TempDir
    Path stateDir;

    /** A float[] serde for the query topic. */
    static final Serde<float[]> VECTORS = Serdes.serdeFrom(
            (Serializer<float[]>) (t, v) -> {
                ByteBuffer b = ByteBuffer.allocate(4 * v.length);
                for (float f : v) {
                    b.putFloat(f);
                }
                return b.array();
            },
            (Deserializer<float[]>) (t, bytes) -> {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                float[] v = new float[bytes.length / 4];
                for (int i = 0; i < v.length; i++) {
                    v[i] = b.getFloat();
                }
                return v;
            });

    /** Writes embeddings (or deletes, on null) into the store: the "table". */
    static final class TableWriter implements Processor<String, Embedding, Void, Void> {
        private KeyValueStore<String, Embedding> store;

        @Override
        public void init(ProcessorContext<Void, Void> context) {
            store = context.getStateStore("docs");
        }

        @Override
        public void process(Record<String, Embedding> record) {
            store.put(record.key(), record.value());
        }
    }

    private Properties props() {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "join");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put("mmapstore.fsync", "false");
        props.put("mmapstore.memtable.bytes", "16384"); // a few segments, too
        return props;
    }

    private static StreamsBuilder topology(Similarity sim, java.util.function.Function<KStream<String, float[]>, KStream<String, KnnResult>> join) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.addStateStore(Stores.keyValueStoreBuilder(MmapStores.embeddingStore("docs", DIM, sim), Serdes.String(), new EmbeddingSerde(DIM))
                .withCachingDisabled());
        builder.stream("embeddings", Consumed.with(Serdes.String(), new EmbeddingSerde(DIM))).process(TableWriter::new, "docs");
        KStream<String, float[]> queries = builder.stream("queries", Consumed.with(Serdes.String(), VECTORS));
        join.apply(queries).to("matches", Produced.with(Serdes.String(), new KnnResultSerde()));
        return builder;
    }

    static float[] vector(Random rnd) {
        float[] v = new float[DIM];
        for (int i = 0; i < DIM; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    static List<String> expected(Similarity sim, Map<String, Embedding> table, float[] q, int k) {
        java.util.Comparator<Map.Entry<String, Embedding>> c = java.util.Comparator.comparingDouble(
                e -> EmbeddingStoreExactnessTest.reference(sim, q, e.getValue().vector()));
        if (sim != Similarity.EUCLIDEAN) {
            c = c.reversed();
        }
        c = c.thenComparing(e -> org.apache.kafka.common.utils.Bytes.wrap(e.getKey().getBytes()));
        return table.entrySet().stream().sorted(c).limit(k).map(Map.Entry::getKey).toList();
    }

    static List<String> keys(KnnResult r) {
        StringDeserializer d = new StringDeserializer();
        return r.matches().stream().map(m -> m.key(d)).toList();
    }

    @Test
    void eachQueryIsEnrichedWithItsTopKOverTheEmbeddingsWrittenBeforeIt() {
        for (Similarity sim : Similarity.values()) {
            StreamsBuilder builder = topology(sim, q -> EmbeddingJoins.topK(q, "docs", K));
            try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props())) {
                TestInputTopic<String, Embedding> emb = driver.createInputTopic("embeddings", new StringSerializer(),
                        new EmbeddingSerde(DIM).serializer());
                TestInputTopic<String, float[]> queries = driver.createInputTopic("queries", new StringSerializer(), VECTORS.serializer());
                TestOutputTopic<String, KnnResult> out = driver.createOutputTopic("matches", new StringDeserializer(),
                        new KnnResultSerde().deserializer());
                Random rnd = new Random(sim.ordinal());
                Map<String, Embedding> table = new TreeMap<>();
                long ts = 1000;
                for (int round = 0; round < 6; round++) {
                    for (int i = 0; i < 150; i++) {
                        String key = "doc-" + rnd.nextInt(400);
                        if (rnd.nextInt(9) == 0) {
                            emb.pipeInput(key, null, ts++);
                            table.remove(key);
                        } else {
                            Embedding e = new Embedding(vector(rnd), 1f, ts, null);
                            emb.pipeInput(key, e, ts++);
                            table.put(key, e);
                        }
                    }
                    for (int i = 0; i < 5; i++) {
                        float[] q = vector(rnd);
                        long qts = ts++;
                        queries.pipeInput("q" + round + "-" + i, q, qts);
                        TestRecord<String, KnnResult> r = out.readRecord();
                        assertThat(r.key()).isEqualTo("q" + round + "-" + i);
                        assertThat(r.timestamp()).isEqualTo(qts);
                        assertThat(r.value().similarity()).isEqualTo(sim);
                        assertThat(keys(r.value())).as("%s round %d query %d", sim, round, i).isEqualTo(expected(sim, table, q, K));
                    }
                }
                assertThat(out.isEmpty()).isTrue();
            }
        }
    }

    @Test
    void batchedJoinAnswersAtThePunctuationWithTheQueriesOwnTimestamps() {
        Similarity sim = Similarity.COSINE;
        StreamsBuilder builder = topology(sim, q -> EmbeddingJoins.topK(q, "docs", K, Duration.ofMillis(500), 8));
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, Embedding> emb = driver.createInputTopic("embeddings", new StringSerializer(),
                    new EmbeddingSerde(DIM).serializer());
            TestInputTopic<String, float[]> queries = driver.createInputTopic("queries", new StringSerializer(), VECTORS.serializer());
            TestOutputTopic<String, KnnResult> out = driver.createOutputTopic("matches", new StringDeserializer(),
                    new KnnResultSerde().deserializer());
            Random rnd = new Random(99);
            Map<String, Embedding> table = new TreeMap<>();
            for (int i = 0; i < 300; i++) {
                Embedding e = new Embedding(vector(rnd));
                emb.pipeInput("doc-" + i, e, 10 + i);
                table.put("doc-" + i, e);
            }
            // three queries: buffered, nothing out yet
            List<float[]> qs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                float[] q = vector(rnd);
                qs.add(q);
                queries.pipeInput("q" + i, q, 5000 + i);
            }
            assertThat(out.isEmpty()).isTrue();
            // an embedding written after the queries but before the punctuation is seen by the batch:
            // make it the best match of q1
            Embedding late = new Embedding(qs.get(1).clone());
            emb.pipeInput("doc-late", late, 6000);
            table.put("doc-late", late);
            driver.advanceWallClockTime(Duration.ofMillis(500));
            List<TestRecord<String, KnnResult>> got = out.readRecordsToList();
            assertThat(got).extracting(TestRecord::key).containsExactly("q0", "q1", "q2");
            assertThat(got).extracting(TestRecord::timestamp).containsExactly(5000L, 5001L, 5002L);
            for (int i = 0; i < 3; i++) {
                assertThat(keys(got.get(i).value())).as("q%d", i).isEqualTo(expected(sim, table, qs.get(i), K));
            }
            assertThat(keys(got.get(1).value()).get(0)).isEqualTo("doc-late");

            // a full batch (8 queries) runs at the 8th record, without waiting for the punctuation
            List<float[]> more = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                float[] q = vector(rnd);
                more.add(q);
                queries.pipeInput("m" + i, q, 7000 + i);
                if (i < 7) {
                    assertThat(out.isEmpty()).isTrue();
                }
            }
            got = out.readRecordsToList();
            assertThat(got).hasSize(8);
            for (int i = 0; i < 8; i++) {
                assertThat(got.get(i).key()).isEqualTo("m" + i);
                assertThat(got.get(i).timestamp()).isEqualTo(7000L + i);
                assertThat(keys(got.get(i).value())).isEqualTo(expected(sim, table, more.get(i), K));
            }
            // an empty buffer: the punctuation forwards nothing
            driver.advanceWallClockTime(Duration.ofMillis(500));
            assertThat(out.isEmpty()).isTrue();
        }
    }

    @Test
    void processorSupplierWithAJoinerAndFilters() {
        Similarity sim = Similarity.EUCLIDEAN;
        StreamsBuilder builder = new StreamsBuilder();
        builder.addStateStore(Stores.keyValueStoreBuilder(MmapStores.embeddingStore("docs", DIM, sim), Serdes.String(), new EmbeddingSerde(DIM))
                .withCachingDisabled());
        builder.stream("embeddings", Consumed.with(Serdes.String(), new EmbeddingSerde(DIM))).process(TableWriter::new, "docs");
        SimilarityJoin<String, Embedding, String> join = SimilarityJoin.of("docs",
                (Embedding e) -> KnnQuery.nearest(e.vector(), 2).withMinConfidence(e.confidence()),
                (e, r) -> String.join(",", keys(r)));
        builder.stream("queries", Consumed.with(Serdes.String(), new EmbeddingSerde(DIM)))
                .process(join.processor(), "docs")
                .to("matches", Produced.with(Serdes.String(), Serdes.String()));
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props())) {
            TestInputTopic<String, Embedding> emb = driver.createInputTopic("embeddings", new StringSerializer(), new EmbeddingSerde(DIM).serializer());
            TestInputTopic<String, Embedding> queries = driver.createInputTopic("queries", new StringSerializer(), new EmbeddingSerde(DIM).serializer());
            TestOutputTopic<String, String> out = driver.createOutputTopic("matches", new StringDeserializer(), new StringDeserializer());
            Random rnd = new Random(4);
            Map<String, Embedding> confident = new TreeMap<>();
            for (int i = 0; i < 200; i++) {
                Embedding e = new Embedding(vector(rnd), i % 2 == 0 ? 0.9f : 0.1f, i, null);
                emb.pipeInput("d" + i, e);
                if (e.confidence() >= 0.5f) {
                    confident.put("d" + i, e);
                }
            }
            float[] q = vector(rnd);
            queries.pipeInput("x", new Embedding(q, 0.5f, 0, null), 123L);
            queries.pipeInput("ignored", (Embedding) null, 124L);
            TestRecord<String, String> r = out.readRecord();
            assertThat(r.key()).isEqualTo("x");
            assertThat(r.timestamp()).isEqualTo(123L);
            assertThat(r.value()).isEqualTo(String.join(",", expected(sim, confident, q, 2)));
            assertThat(out.isEmpty()).isTrue();
        }
    }
}
