package io.github.mmapstore.streams.internals;

import io.github.mmapstore.engine.EngineException;
import io.github.mmapstore.engine.KeyOrder;
import io.github.mmapstore.engine.ReadIsolation;
import io.github.mmapstore.engine.StoreEngine;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.query.FailureReason;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.Query;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.query.RangeQuery;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A persistent {@code KeyValueStore<Bytes, byte[]>} on the MmapStore engine: the drop-in replacement of
 * Kafka's {@code RocksDBStore}. Values are opaque bytes; the timestamped and headers variants differ only
 * in the marker interface that tells Kafka which value format the layers above use.
 *
 * <p>Offsets are store-managed (KIP-1035): {@link #commit(Map)} commits the changelog offsets and the
 * Interactive Queries position atomically with the data (see {@link StoreCore} for how they become
 * durable), so after a crash the store reopens at a commit, with exactly that commit's offsets, and Kafka
 * restores only the changelog records after it, under exactly-once too.
 *
 * <p>Reads see every write so far, as Kafka's stores do; {@link #readOnly(IsolationLevel)} at
 * {@code READ_COMMITTED} (Kafka 4.4) is a view of the state as of the last commit while the stream thread
 * goes on writing.
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

    /**
     * For store kinds that lay their values out in extra segment columns (embeddings).
     * Internal machinery, protected for {@code MmapEmbeddingStore}; not API.
     */
    protected MmapKeyValueStore(String name, String metricsScope, io.github.mmapstore.engine.ColumnExtension columns) {
        this.core = new StoreCore(name, metricsScope, false, columns);
    }

    /** Internal machinery, protected for {@code MmapEmbeddingStore}; not API. */
    protected StoreCore core() {
        return core;
    }

    @Override
    public String name() {
        return core.name();
    }

    @Override
    public void init(StateStoreContext context, StateStore root) {
        core.init(context, root, record -> new io.github.mmapstore.engine.KeyValue(record.key(), record.value()));
        adaptedForRocksDbIterators = core.kafka().castsRangeResultsToRocksDbIterator(root, this);
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
        return range(from, to, reverse, ReadIsolation.LATEST);
    }

    private KeyValueIterator<Bytes, byte[]> range(Bytes from, Bytes to, boolean reverse, ReadIsolation isolation) {
        if (from != null && to != null && from.compareTo(to) > 0) {
            LOG.warn(INVALID_RANGE_WARNING);
            return EmptyIterator.instance();
        }
        StoreEngine e = core.engine();
        try {
            return core.track(e.range(from == null ? null : from.get(), true, to == null ? null : to.get(), true, reverse,
                    isolation), UnaryOperator.identity());
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
        return prefixScan(prefix, prefixKeySerializer, ReadIsolation.LATEST);
    }

    private <PS extends Serializer<P>, P> KeyValueIterator<Bytes, byte[]> prefixScan(P prefix, PS prefixKeySerializer,
                                                                                     ReadIsolation isolation) {
        Objects.requireNonNull(prefix, "prefix cannot be null");
        Objects.requireNonNull(prefixKeySerializer, "prefixKeySerializer cannot be null");
        byte[] p = prefixKeySerializer.serialize(null, prefix);
        StoreEngine e = core.engine();
        try {
            return core.track(e.range(p, true, KeyOrder.prefixUpperBound(p), false, false, isolation), UnaryOperator.identity());
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

    /**
     * {@code READ_COMMITTED}: a view of the state as of the last commit (each of its reads and iterators
     * sees one commit, the last when it starts, whatever the stream thread writes meanwhile); otherwise
     * this store.
     */
    @Override
    public ReadOnlyKeyValueStore<Bytes, byte[]> readOnly(IsolationLevel isolationLevel) {
        Objects.requireNonNull(isolationLevel, "isolationLevel cannot be null");
        return isolationLevel == IsolationLevel.READ_COMMITTED ? new CommittedView() : this;
    }

    @Override
    public <R> QueryResult<R> query(Query<R> query, PositionBound positionBound, QueryConfig queryConfig) {
        if (query instanceof RangeQuery<?, ?> && adaptedForRocksDbIterators) {
            return QueryResult.forFailure(FailureReason.UNKNOWN_QUERY_TYPE, "Kafka Streams " + core.kafka().version()
                    + " cannot answer a RangeQuery on store " + name() + ": its adapter for a DSL table over a store of plain "
                    + "values expects RocksDB's iterator. Materialize the table with MmapStores.persistentTimestampedKeyValueStore "
                    + "(what the DSL stores anyway), or run Kafka Streams 4.4");
        }
        ReadIsolation isolation = core.isolation(queryConfig);
        return core.kafka().handleBasicQueries(query, positionBound, queryConfig, this, core.position(isolation), core.context());
    }

    /** Set at init on Kafka 4.3 when its timestamped adapter wraps this plain store (see {@link #query}). */
    private boolean adaptedForRocksDbIterators;

    @Override
    public long approximateNumUncommittedBytes() {
        return core.approximateNumUncommittedBytes();
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
        // Durability is commit's job (see StoreCore).
    }

    /**
     * Commits every write so far together with {@code changelogOffsets} and the IQ position. An empty map
     * removes every committed offset; a null value removes that partition's. Writes nothing on the calling
     * thread for a store with a changelog; one log sync for one without.
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

    /** The store as of its last commit (see {@link #readOnly(IsolationLevel)}). */
    private final class CommittedView implements ReadOnlyKeyValueStore<Bytes, byte[]> {
        @Override
        public byte[] get(Bytes key) {
            Objects.requireNonNull(key, "key cannot be null");
            try {
                return core.engine().get(key.get(), ReadIsolation.COMMITTED);
            } catch (EngineException ex) {
                throw core.translate("reading from", ex);
            }
        }

        @Override
        public KeyValueIterator<Bytes, byte[]> range(Bytes from, Bytes to) {
            return MmapKeyValueStore.this.range(from, to, false, ReadIsolation.COMMITTED);
        }

        @Override
        public KeyValueIterator<Bytes, byte[]> reverseRange(Bytes from, Bytes to) {
            return MmapKeyValueStore.this.range(from, to, true, ReadIsolation.COMMITTED);
        }

        @Override
        public KeyValueIterator<Bytes, byte[]> all() {
            return MmapKeyValueStore.this.range(null, null, false, ReadIsolation.COMMITTED);
        }

        @Override
        public KeyValueIterator<Bytes, byte[]> reverseAll() {
            return MmapKeyValueStore.this.range(null, null, true, ReadIsolation.COMMITTED);
        }

        @Override
        public <PS extends Serializer<P>, P> KeyValueIterator<Bytes, byte[]> prefixScan(P prefix, PS prefixKeySerializer) {
            return MmapKeyValueStore.this.prefixScan(prefix, prefixKeySerializer, ReadIsolation.COMMITTED);
        }

        @Override
        public long approximateNumEntries() {
            return MmapKeyValueStore.this.approximateNumEntries();
        }

        @Override
        public String toString() {
            return MmapKeyValueStore.this + " (committed)";
        }
    }
}
