package org.apache.kafka.streams.state.internals;

import io.github.mmapstore.streams.MmapDslStoreSuppliers;
import java.time.Duration;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.streams.DslStoreFormat;
import org.apache.kafka.streams.kstream.EmitStrategy;
import org.apache.kafka.streams.state.DslSessionParams;
import org.apache.kafka.streams.state.SessionStore;
import org.apache.kafka.streams.state.Stores;

/**
 * Kafka's session store conformance suite against the session store the MmapStore DSL suppliers create for
 * emit-on-window-close ({@code findSessions(earliestEnd, latestEnd)} supported, end-time order), with the
 * suite's expectations for Kafka's time-ordered session store with index.
 */
class MmapTimeOrderedSessionStoreConformanceTest extends AbstractSessionBytesStoreTest {
    @Override
    StoreType storeType() {
        return StoreType.RocksDBTimeOrderedSessionStoreWithIndex;
    }

    @Override
    @SuppressWarnings("unchecked")
    <K, V> SessionStore<K, V> buildSessionStore(long retentionPeriod, Serde<K> keySerde, Serde<V> valueSerde) {
        return Stores.sessionStoreBuilder(new MmapDslStoreSuppliers().sessionStore(
                        new DslSessionParams("mmap session store", Duration.ofMillis(retentionPeriod), EmitStrategy.onWindowClose(),
                                DslStoreFormat.PLAIN)),
                keySerde, valueSerde).build();
    }
}
