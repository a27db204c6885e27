package org.apache.kafka.streams.state.internals;

import io.github.mmapstore.streams.MmapStores;
import java.time.Duration;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.streams.state.SessionStore;
import org.apache.kafka.streams.state.Stores;

/**
 * Kafka's session store conformance suite ({@code AbstractSessionBytesStoreTest}, kafka-streams 4.3.1 test
 * jar) against the MmapStore session store. In Kafka's package because the suite's methods are package-private.
 */
class MmapSessionStoreConformanceTest extends AbstractSessionBytesStoreTest {
    @Override
    StoreType storeType() {
        return StoreType.RocksDBSessionStore;
    }

    @Override
    @SuppressWarnings("unchecked")
    <K, V> SessionStore<K, V> buildSessionStore(long retentionPeriod, Serde<K> keySerde, Serde<V> valueSerde) {
        return Stores.sessionStoreBuilder(MmapStores.persistentSessionStore("mmap session store", Duration.ofMillis(retentionPeriod)),
                keySerde, valueSerde).build();
    }
}
