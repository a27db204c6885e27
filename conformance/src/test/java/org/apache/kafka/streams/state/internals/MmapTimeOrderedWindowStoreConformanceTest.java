package org.apache.kafka.streams.state.internals;

import io.github.mmapstore.streams.MmapDslStoreSuppliers;
import java.time.Duration;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.streams.DslStoreFormat;
import org.apache.kafka.streams.kstream.EmitStrategy;
import org.apache.kafka.streams.state.DslWindowParams;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Kafka's window store conformance suite against the window store the MmapStore DSL suppliers create for
 * emit-on-window-close (time-ordered copy, {@code fetchAll} in window-start order), as Kafka runs the same
 * suite against its time-ordered RocksDB window stores.
 */
class MmapTimeOrderedWindowStoreConformanceTest extends AbstractWindowBytesStoreTest {
    @Override
    @SuppressWarnings("unchecked")
    <K, V> WindowStore<K, V> buildWindowStore(long retentionPeriod, long windowSize, boolean retainDuplicates,
                                              Serde<K> keySerde, Serde<V> valueSerde) {
        return Stores.windowStoreBuilder(
                new MmapDslStoreSuppliers().windowStore(new DslWindowParams("mmap-windowstore", Duration.ofMillis(retentionPeriod),
                        Duration.ofMillis(windowSize), retainDuplicates, EmitStrategy.onWindowClose(), false, DslStoreFormat.PLAIN)),
                keySerde, valueSerde).build();
    }
}
