package io.github.mmapstore.streams;

import io.github.mmapstore.engine.EngineException;
import io.github.mmapstore.engine.KeyOrder;
import io.github.mmapstore.engine.StoreEngine;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.Query;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.internals.StoreQueryUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A persistent {@code KeyValueStore<Bytes, byte[]>} on the MmapStore engine: the drop-in replacement of
 * Kafka's {@code RocksDBStore}. Values are opaque bytes; the timestamped and headers variants differ only
 * in the marker interface that tells Kafka which value format the layers above use.
 *
 * <p>Offsets are store-managed (KIP-1035): {@link #commit(Map)} writes the changelog offsets and the
 * Interactive Queries position into the engine's commit record, durable and atomic with the data, so
 * after a crash the store reopens exactly at its last commit and Kafka restores only the changelog
 * records after it, under exactly-once too.
 *
 * <p>Threads: one writer at a time (the stream thread or the state-updater thread), any number of
 * Interactive Query readers.
 */
public class MmapKeyValueStore implements KeyValueStore<Bytes, byte[]> {
    private static final Logger LOG = LoggerFactory.getLogger(MmapKeyValueStore.class);
    static final String INVALID_RANGE_WARNING = "Returning empty iterator for fetch with invalid key range: from > to. "
            + "This may be due to range arguments set in the wrong order, "
            + "or serdes that don't preserve ordering when lexicographically comparing the serialized bytes. "
            + "Note that the built-in numerical serdes do not follow this for negative numbers";

    private final StoreCore core;

    public MmapKeyValueStore(String name, String metricsScope) {
        this.core = new StoreCore(name, metricsScope, false);
    }

    /** For store kinds that lay their values out in extra segment columns (embeddings). */
    MmapKeyValueStore(String name, String metricsScope, io.github.mmapstore.engine.ColumnExtension columns) {
        this.core = new StoreCore(name, metricsScope, false, columns);
    }

    StoreCore core() {
        return core;
    }

    @Override
    public String name() {
        return core.name();
    }

    @Override
    public void init(StateStoreContext context, StateStore root) {
        core.init(context, root, record -> new io.github.mmapstore.engine.KeyValue(record.key(), record.value()));
    }

    // ---- writes ---------------------------------------------------------------------------------

    @Override
    public void put(Bytes key, byte[] value) {
        Objects.requireNonNull(key, "key cannot be null");
        StoreEngine e = core.engine();
        core.beforeWrite();
        synchronized (core.position()) {
            try {
                if (value == null) {
                    e.delete(key.get());
                } else {
                    e.put(key.get(), value);
                }
            } catch (EngineException ex) {
                throw core.translate("writing to", ex);
            }
            core.updatePosition();
        }
    }

    @Override
    public byte[] putIfAbsent(Bytes key, byte[] value) {
        Objects.requireNonNull(key, "key cannot be null");
        byte[] old = get(key);
        if (old == null && value != null) {
            put(key, value);
        }
        return old;
    }

    @Override
    public void putAll(List<KeyValue<Bytes, byte[]>> entries) {
        List<io.github.mmapstore.engine.KeyValue> batch = new ArrayList<>(entries.size());
        for (KeyValue<Bytes, byte[]> kv : entries) {
            Objects.requireNonNull(kv.key, "key cannot be null");
            batch.add(new io.github.mmapstore.engine.KeyValue(kv.key.get(), kv.value));
        }
        StoreEngine e = core.engine();
        core.beforeWrite();
        synchronized (core.position()) {
            try {
                e.write(batch);
            } catch (EngineException ex) {
                throw core.translate("writing to", ex);
            }
            core.updatePosition();
        }
    }

    @Override
    public byte[] delete(Bytes key) {
        Objects.requireNonNull(key, "key cannot be null");
        byte[] old = get(key);
        put(key, null);
        return old;
    }

    // ---- reads ----------------------------------------------------------------------------------

    @Override
    public byte[] get(Bytes key) {
        Objects.requireNonNull(key, "key cannot be null");
        try {
            return core.engine().get(key.get());
        } catch (EngineException ex) {
            throw core.translate("reading from", ex);
        }
    }

    @Override
    public KeyValueIterator<Bytes, byte[]> range(Bytes from, Bytes to) {
        return range(from, to, false);
    }

    @Override
    public KeyValueIterator<Bytes, byte[]> reverseRange(Bytes from, Bytes to) {
        return range(from, to, true);
    }

    private KeyValueIterator<Bytes, byte[]> range(Bytes from, Bytes to, boolean reverse) {
        if (from != null && to != null && from.compareTo(to) > 0) {
            LOG.warn(INVALID_RANGE_WARNING);
            return EmptyIterator.instance();
        }
        StoreEngine e = core.engine();
        try {
            return core.track(e.range(from == null ? null : from.get(), true, to == null ? null : to.get(), true, reverse),
                    UnaryOperator.identity());
        } catch (EngineException ex) {
            throw core.translate("reading from", ex);
        }
    }

    @Override
    public KeyValueIterator<Bytes, byte[]> all() {
        return range(null, null, false);
    }

    @Override
    public KeyValueIterator<Bytes, byte[]> reverseAll() {
        return range(null, null, true);
    }

    @Override
    public <PS extends Serializer<P>, P> KeyValueIterator<Bytes, byte[]> prefixScan(P prefix, PS prefixKeySerializer) {
        Objects.requireNonNull(prefix, "prefix cannot be null");
        Objects.requireNonNull(prefixKeySerializer, "prefixKeySerializer cannot be null");
        byte[] p = prefixKeySerializer.serialize(null, prefix);
        StoreEngine e = core.engine();
        try {
            return core.track(e.range(p, true, KeyOrder.prefixUpperBound(p), false, false), UnaryOperator.identity());
        } catch (EngineException ex) {
            throw core.translate("reading from", ex);
        }
    }

    @Override
    public long approximateNumEntries() {
        try {
            return core.engine().approximateNumEntries();
        } catch (EngineException ex) {
            throw core.translate("reading from", ex);
        }
    }

    // ---- Interactive Queries --------------------------------------------------------------------

    @Override
    public <R> QueryResult<R> query(Query<R> query, PositionBound positionBound, QueryConfig queryConfig) {
        return StoreQueryUtils.handleBasicQueries(query, positionBound, queryConfig, this, core.position(), core.context());
    }

    @Override
    public Position getPosition() {
        return core.position();
    }

    // ---- commit and lifecycle -------------------------------------------------------------------

    @Override
    public boolean managesOffsets() {
        return true;
    }

    @Override
    @SuppressWarnings("deprecation")
    public void flush() {
        // Durability is commit's job: the engine's log is synced there, with the offsets.
    }

    /**
     * Makes every write so far durable together with {@code changelogOffsets} and the IQ position, with
     * one sync. An empty map removes every committed offset; a null value removes that partition's.
     */
    @Override
    public void commit(Map<TopicPartition, Long> changelogOffsets) {
        core.commit(changelogOffsets);
    }

    @Override
    public Long committedOffset(TopicPartition partition) {
        return core.committedOffset(partition);
    }

    @Override
    public boolean persistent() {
        return true;
    }

    @Override
    public boolean isOpen() {
        return core.isOpen();
    }

    @Override
    public void close() {
        core.close();
    }

    /** Drops the store the way a killed process would. For crash tests in this package. */
    void simulateCrash() {
        core.simulateCrash();
    }

    /** The engine behind this store, for typed stores and tools built on it (the embedding benchmark). */
    protected StoreEngine engineForSubclasses() {
        return core.engine();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + name() + "]";
    }
}
