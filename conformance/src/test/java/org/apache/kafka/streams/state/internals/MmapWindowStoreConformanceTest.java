package org.apache.kafka.streams.state.internals;

import io.github.mmapstore.streams.MmapStores;
import java.time.Duration;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Kafka's window store conformance suite ({@code AbstractWindowBytesStoreTest}, kafka-streams 4.3.1 test
 * jar) against the MmapStore window store, built exactly as Kafka's RocksDBWindowStoreTest builds its
 * store. In Kafka's package because the suite's abstract method is package-private.
 */
class MmapWindowStoreConformanceTest extends AbstractWindowBytesStoreTest {
    @Override
    @SuppressWarnings("unchecked")
    <K, V> WindowStore<K, V> buildWindowStore(long retentionPeriod, long windowSize, boolean retainDuplicates,
                                              Serde<K> keySerde, Serde<V> valueSerde) {
        return Stores.windowStoreBuilder(
                MmapStores.persistentWindowStore("mmap-windowstore", Duration.ofMillis(retentionPeriod),
                        Duration.ofMillis(windowSize), retainDuplicates),
                keySerde, valueSerde).build();
    }
}
