package io.github.mmapstore.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Properties;
import java.util.Random;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A DSL table materialized in a timestamped embedding store answers KnnQuery through Kafka's layers. */
class TimestampedEmbeddingDslTest {
    @TempDir
    Path stateDir;

    @Test
    void dslTableOfEmbeddingsIsSearchable() {
        int dim = 8;
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream("embeddings", Consumed.with(Serdes.String(), new EmbeddingSerde(dim)))
                .toTable(Materialized.<String, Embedding>as(MmapStores.timestampedEmbeddingStore("emb", dim, Similarity.DOT_PRODUCT))
                        .withKeySerde(Serdes.String()).withValueSerde(new EmbeddingSerde(dim)).withCachingDisabled());
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "emb-dsl");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put("mmapstore.fsync", "false");
        props.put("mmapstore.memtable.bytes", "8192");
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props)) {
            TestInputTopic<String, Embedding> in = driver.createInputTopic("embeddings", new StringSerializer(),
                    new EmbeddingSerde(dim).serializer());
            Random rnd = new Random(3);
            float[] best = null;
            for (int i = 0; i < 300; i++) {
                float[] v = new float[dim];
                for (int j = 0; j < dim; j++) {
                    v[j] = (float) rnd.nextGaussian();
                }
                if (i == 123) {
                    for (int j = 0; j < dim; j++) {
                        v[j] = 10f;
                    }
                    best = v;
                }
                in.pipeInput("k" + i, new Embedding(v, 0.9f, i, new byte[] {(byte) i}));
            }
            KeyValueStore<String, ?> store = driver.getKeyValueStore("emb");
            KnnResult r = EmbeddingSearch.topK((StateStore) store, KnnQuery.nearest(best, 3).withEmbeddings());
            assertThat(r.matches()).hasSize(3);
            assertThat(new String(r.matches().get(0).key().get())).isEqualTo("k123");
            assertThat(r.matches().get(0).embedding().vector()).isEqualTo(best);
            assertThat(r.matches().get(0).embedding().timestamp()).isEqualTo(123L);
            assertThat(driver.<String, Embedding>getTimestampedKeyValueStore("emb").get("k123").value().vector()).isEqualTo(best);
        }
    }
}
