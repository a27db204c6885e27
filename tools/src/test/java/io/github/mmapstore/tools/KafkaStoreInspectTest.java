package io.github.mmapstore.tools;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mmapstore.streams.MmapStores;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A store written by Kafka Streams through the MmapStore supplier: inspect finds it and decodes its offsets. */
class KafkaStoreInspectTest {
    @TempDir
    Path stateDir;

    /** With a log of its own: the inspector reads the manifest and the committed log tail. */
    @Test
    void offsetsAndPositionOfAKafkaStoreWithALog() {
        offsetsAndPositionOfAKafkaStore(Map.of("mmapstore.log", "true"));
    }

    /**
     * The default, the changelog as the log: the inspector reads the last checkpoint, which a running store
     * writes in the background (here at every commit, the driver commits after every record).
     */
    @Test
    void offsetsAndPositionOfAKafkaStoreWithoutALog() {
        offsetsAndPositionOfAKafkaStore(Map.of("mmapstore.checkpoint.interval.ms", "0"));
    }

    void offsetsAndPositionOfAKafkaStore(Map<String, String> extra) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.table("input", Consumed.with(Serdes.String(), Serdes.String()),
                Materialized.<String, String>as(MmapStores.persistentKeyValueStore("profiles"))
                        .withKeySerde(Serdes.String()).withValueSerde(Serdes.String()));
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "inspect-app");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        props.putAll(extra);
        int records = 30;
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props)) {
            TestInputTopic<String, String> in = driver.createInputTopic("input", new StringSerializer(), new StringSerializer());
            for (int i = 0; i < records; i++) {
                in.pipeInput("key-" + (i % 20), "value-" + i);
            }
            KeyValueStore<Bytes, byte[]> store = driver.getKeyValueStore("profiles");
            assertThat(store).isNotNull();
            // The driver still holds the store open (and deletes the state directory when closed): the
            // inspector reads it as a running application's store, from its manifest and committed log.
            List<LocatedStore> found = StoreLocator.find(stateDir);
            assertThat(found).extracting(LocatedStore::name).containsExactly("profiles");
            LocatedStore located = found.get(0);
            assertThat(located.app()).isEqualTo("inspect-app");
            assertThat(located.task()).isEqualTo("0_0");

            // the last checkpoint's manifest is written in the background: read until it shows the last commit
            StoreReport r = StoreInspector.inspect(located);
            KafkaCommit.Offset last = new KafkaCommit.Offset("inspect-app-profiles-changelog", 0, records - 1);
            for (int i = 0; i < 100 && !r.commit().offsets().contains(last); i++) {
                sleep(50);
                r = StoreInspector.inspect(located);
            }
            assertThat(r.liveRows()).isEqualTo(20);
            assertThat(r.commit().problem()).isNull();
            assertThat(r.commit().offsets()).containsExactly(
                    new KafkaCommit.Offset("inspect-app-profiles-changelog", 0, records - 1));
            assertThat(r.commit().position()).containsExactly(new KafkaCommit.Offset("input", 0, records - 1));

            Cli dump = Cli.run("dump", stateDir.toString(), "--from", "key-19", "--to", "key-19");
            assertThat(dump.exit()).as(dump.toString()).isZero();
            // A plain key-value store supplier: Kafka's adapter strips the timestamp before the store.
            assertThat(dump.out()).isEqualTo("key-19\tvalue-19" + System.lineSeparator());
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
