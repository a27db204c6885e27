package io.github.mmapstore.tools;

import io.github.mmapstore.streams.internals.CommitMetadata;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.query.Position;

/**
 * The commit metadata of a store, decoded as the Kafka layer writes it: changelog offsets per
 * topic-partition and the Interactive Queries position. A store used through the engine alone may hold
 * other bytes; then {@link #problem} says why they are not Kafka's.
 *
 * @param present  whether the store has commit metadata at all (a store never committed has none)
 * @param bytes    its size
 * @param offsets  committed changelog offsets, sorted by topic and partition
 * @param position the position, sorted likewise
 * @param problem  why the bytes do not decode as Kafka commit metadata, or null
 */
record KafkaCommit(boolean present, int bytes, List<Offset> offsets, List<Offset> position, String problem) {
    /** One topic-partition's offset. */
    record Offset(String topic, int partition, long offset) {
    }

    private static final Comparator<Offset> ORDER = Comparator.comparing(Offset::topic).thenComparingInt(Offset::partition);

    static KafkaCommit decode(byte[] metadata) {
        if (metadata == null) {
            return new KafkaCommit(false, 0, List.of(), List.of(), null);
        }
        CommitMetadata m;
        try {
            m = CommitMetadata.decode(metadata);
        } catch (RuntimeException e) {
            return new KafkaCommit(true, metadata.length, List.of(), List.of(),
                    "not Kafka commit metadata (" + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")");
        }
        List<Offset> offsets = new ArrayList<>();
        for (Map.Entry<TopicPartition, Long> e : m.offsets().entrySet()) {
            offsets.add(new Offset(e.getKey().topic(), e.getKey().partition(), e.getValue()));
        }
        offsets.sort(ORDER);
        List<Offset> position = new ArrayList<>();
        Position p = m.position();
        for (String topic : p.getTopics()) {
            for (Map.Entry<Integer, Long> e : p.getPartitionPositions(topic).entrySet()) {
                position.add(new Offset(topic, e.getKey(), e.getValue()));
            }
        }
        position.sort(ORDER);
        return new KafkaCommit(true, metadata.length, List.copyOf(offsets), List.copyOf(position), null);
    }
}
