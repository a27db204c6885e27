package io.github.mmapstore.streams;

import io.github.mmapstore.streams.internals.MmapKeyValueBytesStoreSupplier;
import io.github.mmapstore.streams.internals.MmapWindowBytesStoreSupplier;
import org.apache.kafka.streams.DslStoreFormat;
import org.apache.kafka.streams.kstream.EmitStrategy;
import org.apache.kafka.streams.state.DslKeyValueParams;
import org.apache.kafka.streams.state.DslSessionParams;
import org.apache.kafka.streams.state.DslStoreSuppliers;
import org.apache.kafka.streams.state.DslWindowParams;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.SessionBytesStoreSupplier;
import org.apache.kafka.streams.state.WindowBytesStoreSupplier;

/**
 * Every store the Kafka Streams DSL creates, as an MmapStore:
 * {@code dsl.store.suppliers.class=io.github.mmapstore.streams.MmapDslStoreSuppliers} in the Streams
 * config, or per operator with {@code Materialized.as(new MmapDslStoreSuppliers())}.
 *
 * <p>Chooses as Kafka's {@code BuiltInDslStoreSuppliers.RocksDBDslStoreSuppliers} does: the value format
 * the DSL asks for ({@link DslStoreFormat}), and for emit-on-window-close (windowed, sliding and session
 * aggregations) a store that also keeps its rows in time order, so that closed windows are emitted in the
 * same order as from Kafka's time-ordered RocksDB stores.
 */
public class MmapDslStoreSuppliers implements DslStoreSuppliers {
    public MmapDslStoreSuppliers() {
    }

    @Override
    public KeyValueBytesStoreSupplier keyValueStore(DslKeyValueParams params) {
        DslStoreFormat format = params.dslStoreFormat();
        if (format == null) {
            throw new IllegalArgumentException("Unsupported DslStoreFormat: null. Expected one of: HEADERS, TIMESTAMPED, or PLAIN");
        }
        return switch (format) {
            case HEADERS -> MmapStores.persistentTimestampedKeyValueStoreWithHeaders(params.name());
            case TIMESTAMPED -> MmapStores.persistentTimestampedKeyValueStore(params.name());
            case PLAIN -> MmapStores.persistentKeyValueStore(params.name());
        };
    }

    @Override
    public WindowBytesStoreSupplier windowStore(DslWindowParams params) {
        DslStoreFormat storeFormat = params.dslStoreFormat();
        if (params.emitStrategy().type() == EmitStrategy.StrategyType.ON_WINDOW_CLOSE) {
            MmapKeyValueBytesStoreSupplier.Format format = storeFormat == DslStoreFormat.HEADERS
                    ? MmapKeyValueBytesStoreSupplier.Format.HEADERS
                    : MmapKeyValueBytesStoreSupplier.Format.TIMESTAMPED;
            MmapWindowBytesStoreSupplier supplier = (MmapWindowBytesStoreSupplier) MmapStores.windowStore(params.name(),
                    params.retentionPeriod(), params.windowSize(), params.retainDuplicates(), format, true);
            // Kafka indexes its time-ordered store by key only for sliding windows; without the index it
            // answers key-range fetches in time order, and so do we
            return params.isSlidingWindow() ? supplier : supplier.withKeyRangeInTimeOrder();
        }
        DslStoreFormat format = storeFormat == null ? DslStoreFormat.TIMESTAMPED : storeFormat;
        return switch (format) {
            case HEADERS -> MmapStores.persistentTimestampedWindowStoreWithHeaders(params.name(), params.retentionPeriod(),
                    params.windowSize(), params.retainDuplicates());
            case TIMESTAMPED -> MmapStores.persistentTimestampedWindowStore(params.name(), params.retentionPeriod(),
                    params.windowSize(), params.retainDuplicates());
            case PLAIN -> MmapStores.persistentWindowStore(params.name(), params.retentionPeriod(), params.windowSize(),
                    params.retainDuplicates());
        };
    }

    @Override
    public SessionBytesStoreSupplier sessionStore(DslSessionParams params) {
        boolean headers = params.storeFormat() == DslStoreFormat.HEADERS;
        boolean timeOrdered = params.emitStrategy().type() == EmitStrategy.StrategyType.ON_WINDOW_CLOSE;
        return MmapStores.sessionStore(params.name(), params.retentionPeriod(), headers, timeOrdered);
    }

    @Override
    public String toString() {
        return "MmapDslStoreSuppliers";
    }
}
