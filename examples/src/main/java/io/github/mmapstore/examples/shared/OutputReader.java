package io.github.mmapstore.examples.shared;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads output topics from the beginning as a downstream application of an exactly-once pipeline would:
 * {@code isolation.level=read_committed}, so it sees only records of committed transactions. No consumer
 * group: it assigns itself every partition of the topics and commits nothing.
 */
public final class OutputReader<K, V> implements AutoCloseable {
    private final KafkaConsumer<K, V> consumer;

    public OutputReader(String bootstrapServers, Collection<String> topics, Deserializer<K> keys, Deserializer<V> values) {
        Map<String, Object> c = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5_000);
        consumer = new KafkaConsumer<>(c, keys, values);
        List<TopicPartition> tps = new ArrayList<>();
        for (String t : topics) {
            consumer.partitionsFor(t, Duration.ofSeconds(30)).forEach(p -> tps.add(new TopicPartition(t, p.partition())));
        }
        if (tps.isEmpty()) {
            throw new IllegalStateException("topics " + topics + " have no partitions (do they exist?)");
        }
        consumer.assign(tps);
        consumer.seekToBeginning(tps);
    }

    /** The committed records that arrived within {@code timeout} (possibly none). */
    public List<ConsumerRecord<K, V>> poll(Duration timeout) {
        List<ConsumerRecord<K, V>> out = new ArrayList<>();
        consumer.poll(timeout).forEach(out::add);
        return out;
    }

    @Override
    public void close() {
        consumer.close();
    }
}
