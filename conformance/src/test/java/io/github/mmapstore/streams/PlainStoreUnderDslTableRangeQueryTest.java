package io.github.mmapstore.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.query.FailureReason;
import org.apache.kafka.streams.query.KeyQuery;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.query.RangeQuery;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A DSL table materialized with the plain key-value supplier ({@code MmapStores.persistentKeyValueStore}):
 * Kafka wraps the store in its adapter to timestamped values, and that adapter casts IQv2 range results to
 * its own stores' iterator class. On Kafka 4.4 the cast is to an interface MmapStore's iterators implement:
 * the query works. On Kafka 4.3 it is to RocksDB's iterator class: the store answers with a failure naming the
 * timestamped supplier instead of letting the cast throw a ClassCastException. Runs on both lines (this module
 * on 4.3.1, conformance-kafka44 on 4.4.0).
 */
class PlainStoreUnderDslTableRangeQueryTest {
    @TempDir
    Path stateDir;

    @Test
    void rangeQueryWorksOn44AndFailsClearlyOn43() throws Exception {
        StreamsBuilder builder = new StreamsBuilder();
        builder.table("input", Consumed.with(Serdes.String(), Serdes.String()),
                Materialized.<String, String>as(MmapStores.persistentKeyValueStore("plain"))
                        .withKeySerde(Serdes.String()).withValueSerde(Serdes.String()));
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "plain-range");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props)) {
            TestInputTopic<String, String> in = driver.createInputTopic("input", new StringSerializer(), new StringSerializer());
            in.pipeInput("a", "1");
            in.pipeInput("b", "2");
            StateStore store = driver.getAllStateStores().get("plain");

            // a key query works on both lines (the adapter converts the value, no iterator involved)
            QueryResult<?> key = store.query(KeyQuery.withKey("a"), PositionBound.unbounded(), new QueryConfig(false));
            assertThat(key.isSuccess()).as(String.valueOf(key)).isTrue();

            QueryResult<?> range = store.query(RangeQuery.withNoBounds(), PositionBound.unbounded(), new QueryConfig(false));
            if (streamsVersion().startsWith("4.3.")) {
                assertThat(range.isFailure()).as("Kafka 4.3: a failure, not a ClassCastException").isTrue();
                assertThat(range.getFailureReason()).isEqualTo(FailureReason.UNKNOWN_QUERY_TYPE);
                assertThat(range.getFailureMessage()).contains("MmapStores.persistentTimestampedKeyValueStore");
            } else {
                assertThat(range.isSuccess()).as(String.valueOf(range)).isTrue();
                List<String> keys = new ArrayList<>();
                try (KeyValueIterator<?, ?> it = (KeyValueIterator<?, ?>) range.getResult()) {
                    while (it.hasNext()) {
                        KeyValue<?, ?> kv = it.next();
                        keys.add(String.valueOf(kv.key));
                    }
                }
                assertThat(keys).containsExactly("a", "b");
            }
        }
    }

    private static String streamsVersion() throws Exception {
        try (InputStream in = KafkaStreams.class.getResourceAsStream("/kafka/kafka-streams-version.properties")) {
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        }
    }
}
