package io.github.mmapstore.streams.internals;

import org.apache.kafka.streams.state.HeadersBytesStore;

/**
 * The timestamped key-value store with record headers: values are
 * {@code [varint headers size][headers][8-byte timestamp][value]}. The marker interface selects Kafka's
 * headers restore converter and keeps Kafka from wrapping the store in a format adapter.
 */
public class MmapTimestampedKeyValueStoreWithHeaders extends MmapKeyValueStore implements HeadersBytesStore {
    public MmapTimestampedKeyValueStoreWithHeaders(String name, String metricsScope) {
        super(name, metricsScope);
    }
}
