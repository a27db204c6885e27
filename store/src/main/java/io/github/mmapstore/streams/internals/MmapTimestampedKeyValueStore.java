package io.github.mmapstore.streams.internals;

import org.apache.kafka.streams.state.TimestampedBytesStore;

/**
 * The timestamped key-value store: values are {@code [8-byte timestamp][value]}, written by Kafka's
 * timestamped layers. The marker interface makes Kafka restore changelog records in that format and use
 * this store directly instead of wrapping it in its plain-to-timestamped adapter.
 */
public class MmapTimestampedKeyValueStore extends MmapKeyValueStore implements TimestampedBytesStore {
    public MmapTimestampedKeyValueStore(String name, String metricsScope) {
        super(name, metricsScope);
    }
}
