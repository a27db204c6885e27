package io.github.mmapstore.streams;

import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.internals.AbstractKeyValueStoreTest;

/**
 * Kafka's own key-value store conformance suite ({@code AbstractKeyValueStoreTest} from
 * kafka-streams 4.3.1's test jar), run against the plain MmapStore under Kafka's metered and
 * change-logging layers, exactly as Kafka runs it against RocksDB.
 */
class MmapKeyValueStoreConformanceTest extends AbstractKeyValueStoreTest {
    @Override
    protected <K, V> KeyValueStore<K, V> createKeyValueStore(StateStoreContext context) {
        StoreBuilder<KeyValueStore<K, V>> builder = Stores.keyValueStoreBuilder(
                MmapStores.persistentKeyValueStore("my-store"),
                (org.apache.kafka.common.serialization.Serde<K>) context.keySerde(),
                (org.apache.kafka.common.serialization.Serde<V>) context.valueSerde());
        KeyValueStore<K, V> store = builder.build();
        store.init(context, store);
        return store;
    }
}
