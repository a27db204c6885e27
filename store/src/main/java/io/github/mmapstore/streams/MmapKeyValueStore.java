package io.github.mmapstore.streams;

import io.github.mmapstore.engine.CorruptionException;
import io.github.mmapstore.engine.EngineClosedException;
import io.github.mmapstore.engine.EngineException;
import io.github.mmapstore.engine.EngineIterator;
import io.github.mmapstore.engine.IncompatibleFormatException;
import io.github.mmapstore.engine.KeyOrder;
import io.github.mmapstore.engine.OpenReport;
import io.github.mmapstore.engine.StoreEngine;
import io.github.mmapstore.engine.StoreLockedException;
import java.io.File;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.errors.ProcessorStateException;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.processor.internals.ChangelogRecordDeserializationHelper;
import org.apache.kafka.streams.processor.internals.RecordBatchingStateRestoreCallback;
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
    private static final String CONSISTENCY_ENABLED = "__iq.consistency.offset.vector.enabled__";

    private final String name;
    private final String metricsScope;
    private final Set<MmapKeyValueIterator> openIterators = ConcurrentHashMap.newKeySet();

    private volatile StoreEngine engine;
    private volatile boolean open;
    private StateStoreContext context;
    private MmapStoreConfig config;
    private StoreMetrics metrics;
    private Position position = Position.emptyPosition();
    private volatile Map<TopicPartition, Long> committedOffsets = Map.of();
    private boolean consistencyEnabled;
    private long restoredBytesSinceCommit;
    private final Map<TopicPartition, Long> restoredOffsets = new HashMap<>();

    public MmapKeyValueStore(String name, String metricsScope) {
        this.name = Objects.requireNonNull(name, "name cannot be null");
        this.metricsScope = Objects.requireNonNull(metricsScope, "metricsScope cannot be null");
    }

    @Override
    public String name() {
        return name;
    }

    /** Where this store keeps its files, below the task directory. */
    static File storeDirectory(StateStoreContext context, String name) {
        return new File(new File(context.stateDir(), "mmapstore"), name);
    }

    @Override
    public void init(StateStoreContext context, StateStore root) {
        if (open) {
            throw new IllegalStateException("MmapStore " + name + " is already initialised");
        }
        this.context = context;
        this.config = MmapStoreConfig.from(context.appConfigsWithPrefix(MmapStoreConfig.PREFIX));
        File dir = storeDirectory(context, name);
        StoreEngine e;
        try {
            e = StoreEngine.open(dir.toPath(), config.engine());
        } catch (StoreLockedException | IncompatibleFormatException ex) {
            throw new ProcessorStateException(safe("Error opening store " + name + ": " + ex.getMessage()), ex);
        } catch (EngineException ex) {
            throw new ProcessorStateException(safe("Error opening store " + name + " at " + dir + ": " + ex.getMessage()), ex);
        }
        OpenReport report = e.openReport();
        CommitMetadata meta;
        try {
            meta = CommitMetadata.decode(e.lastCommitMetadata());
        } catch (RuntimeException ex) {
            e.close();
            throw new ProcessorStateException(safe("Store " + name + " has unreadable commit metadata: " + ex.getMessage()), ex);
        }
        if (report.rebuiltAfterCorruption()) {
            LOG.warn("MmapStore {} in task {} was damaged ({}); the damaged files are in {}; it opens empty without "
                    + "committed offsets so that Kafka Streams restores it from the changelog",
                    name, context.taskId(), report.reason(), report.quarantine());
        } else if (report.replayedRecords() > 0 || report.discardedLogBytes() > 0) {
            LOG.info("MmapStore {} in task {} opened in {} ms: replayed {} committed log records, cut {} uncommitted log bytes",
                    name, context.taskId(), report.openNanos() / 1_000_000, report.replayedRecords(), report.discardedLogBytes());
        }
        this.engine = e;
        this.committedOffsets = meta.offsets();
        this.position = meta.position();
        Object consistency = context.appConfigs().get(CONSISTENCY_ENABLED);
        this.consistencyEnabled = consistency != null && Boolean.parseBoolean(consistency.toString());
        try {
            context.register(root, (RecordBatchingStateRestoreCallback) this::restoreBatch, () -> { });
            this.metrics = new StoreMetrics(context, metricsScope, name, e);
        } catch (RuntimeException ex) {
            e.close();
            this.engine = null;
            throw ex;
        }
        open = true;
    }

    // ---- restore --------------------------------------------------------------------------------

    /**
     * Applies a batch of changelog records on the engine's bulk path: one lock acquisition, no sync.
     * When a restore has applied {@code mmapstore.restore.commit.bytes} since the last commit, the store
     * commits itself with the offset of the last applied record, so a crash during a long restore
     * resumes near where it stopped.
     */
    void restoreBatch(Collection<ConsumerRecord<byte[], byte[]>> records) {
        StoreEngine e = engine();
        List<io.github.mmapstore.engine.KeyValue> batch = new ArrayList<>(records.size());
        long bytes = 0;
        synchronized (position) {
            for (ConsumerRecord<byte[], byte[]> r : records) {
                ChangelogRecordDeserializationHelper.applyChecksAndUpdatePosition(r, consistencyEnabled, position);
                batch.add(new io.github.mmapstore.engine.KeyValue(r.key(), r.value()));
                bytes += r.key().length + (r.value() == null ? 0 : r.value().length);
                if (r.topic() != null && !r.topic().isEmpty()) {
                    restoredOffsets.put(new TopicPartition(r.topic(), r.partition()), r.offset());
                }
            }
            try {
                e.write(batch);
            } catch (EngineException ex) {
                throw translate("restoring a batch to", ex);
            }
        }
        restoredBytesSinceCommit += bytes;
        if (restoredBytesSinceCommit >= config.restoreCommitBytes() && !restoredOffsets.isEmpty()) {
            Map<TopicPartition, Long> offsets = new HashMap<>(committedOffsets);
            offsets.putAll(restoredOffsets);
            commitInternal(offsets);
        }
    }

    // ---- writes ---------------------------------------------------------------------------------

    @Override
    public void put(Bytes key, byte[] value) {
        Objects.requireNonNull(key, "key cannot be null");
        StoreEngine e = engine();
        synchronized (position) {
            try {
                if (value == null) {
                    e.delete(key.get());
                } else {
                    e.put(key.get(), value);
                }
            } catch (EngineException ex) {
                throw translate("writing to", ex);
            }
            StoreQueryUtils.updatePosition(position, context);
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
        StoreEngine e = engine();
        synchronized (position) {
            try {
                e.write(batch);
            } catch (EngineException ex) {
                throw translate("writing to", ex);
            }
            StoreQueryUtils.updatePosition(position, context);
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
            return engine().get(key.get());
        } catch (EngineException ex) {
            throw translate("reading from", ex);
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
        StoreEngine e = engine();
        try {
            return track(e.range(from == null ? null : from.get(), true, to == null ? null : to.get(), true, reverse));
        } catch (EngineException ex) {
            throw translate("reading from", ex);
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
        StoreEngine e = engine();
        try {
            return track(e.range(p, true, KeyOrder.prefixUpperBound(p), false, false));
        } catch (EngineException ex) {
            throw translate("reading from", ex);
        }
    }

    private KeyValueIterator<Bytes, byte[]> track(EngineIterator inner) {
        MmapKeyValueIterator[] self = new MmapKeyValueIterator[1];
        self[0] = new MmapKeyValueIterator(name, inner, () -> openIterators.remove(self[0]));
        openIterators.add(self[0]);
        if (!open) {
            // closed concurrently: do not leak the snapshot
            self[0].close();
            throw new InvalidStateStoreException("Store " + name + " is currently closed");
        }
        return self[0];
    }

    @Override
    public long approximateNumEntries() {
        try {
            return engine().approximateNumEntries();
        } catch (EngineException ex) {
            throw translate("reading from", ex);
        }
    }

    // ---- Interactive Queries --------------------------------------------------------------------

    @Override
    public <R> QueryResult<R> query(Query<R> query, PositionBound positionBound, QueryConfig queryConfig) {
        return StoreQueryUtils.handleBasicQueries(query, positionBound, queryConfig, this, position, context);
    }

    @Override
    public Position getPosition() {
        return position;
    }

    // ---- commit ---------------------------------------------------------------------------------

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
     * Then runs one compaction step within {@code mmapstore.compaction.budget.ms}.
     */
    @Override
    public void commit(Map<TopicPartition, Long> changelogOffsets) {
        Objects.requireNonNull(changelogOffsets, "changelogOffsets cannot be null");
        Map<TopicPartition, Long> next;
        if (changelogOffsets.isEmpty()) {
            next = new HashMap<>();
        } else {
            next = new HashMap<>(committedOffsets);
            for (Map.Entry<TopicPartition, Long> en : changelogOffsets.entrySet()) {
                if (en.getValue() == null) {
                    next.remove(en.getKey());
                } else {
                    next.put(en.getKey(), en.getValue());
                }
            }
        }
        commitInternal(next);
        long budget = config.compactionBudget().toNanos();
        if (budget > 0) {
            try {
                engine().compact(budget);
            } catch (EngineException ex) {
                throw translate("compacting", ex);
            }
        }
    }

    private void commitInternal(Map<TopicPartition, Long> offsets) {
        StoreEngine e = engine();
        byte[] meta;
        synchronized (position) {
            meta = new CommitMetadata(offsets, position.copy()).encode();
        }
        try {
            e.commit(meta);
        } catch (EngineException ex) {
            throw translate("committing", ex);
        }
        committedOffsets = Map.copyOf(offsets);
        restoredBytesSinceCommit = 0;
        restoredOffsets.clear();
    }

    @Override
    public Long committedOffset(TopicPartition partition) {
        engine();
        return committedOffsets.get(partition);
    }

    // ---- lifecycle ------------------------------------------------------------------------------

    @Override
    public boolean persistent() {
        return true;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public synchronized void close() {
        if (!open) {
            return;
        }
        open = false;
        if (!openIterators.isEmpty()) {
            LOG.warn("Closing {} open iterators for store {}", openIterators.size(), name);
            for (MmapKeyValueIterator it : List.copyOf(openIterators)) {
                it.close();
            }
        }
        if (metrics != null) {
            metrics.close();
            metrics = null;
        }
        StoreEngine e = engine;
        engine = null;
        if (e != null) {
            e.close();
        }
    }

    /**
     * Drops the store the way a killed process would: nothing more is written, nothing is committed.
     * For crash tests in this package.
     */
    synchronized void simulateCrash() {
        if (!open) {
            return;
        }
        open = false;
        for (MmapKeyValueIterator it : List.copyOf(openIterators)) {
            it.close();
        }
        if (metrics != null) {
            metrics.close();
            metrics = null;
        }
        StoreEngine e = engine;
        engine = null;
        if (e != null) {
            e.abandon();
        }
    }

    /** The open engine, or Kafka's exception for a closed store. */
    private StoreEngine engine() {
        StoreEngine e = engine;
        if (e == null || !open) {
            throw new InvalidStateStoreException("Store " + name + " is currently closed");
        }
        return e;
    }

    /** The engine behind this store, for the typed stores built on it (embeddings). */
    protected StoreEngine engineForSubclasses() {
        return engine();
    }

    private RuntimeException translate(String action, EngineException ex) {
        if (ex instanceof EngineClosedException) {
            if (!open) {
                return new InvalidStateStoreException("Store " + name + " is currently closed");
            }
            return new ProcessorStateException(safe("Error " + action + " store " + name + ": " + ex.getMessage()), ex);
        }
        if (ex instanceof CorruptionException) {
            return new ProcessorStateException(safe("Store " + name + " is damaged and will be rebuilt from its changelog when reopened: "
                    + ex.getMessage()), ex);
        }
        if (ex instanceof io.github.mmapstore.engine.LimitExceededException) {
            return ex;
        }
        return new ProcessorStateException(safe("Error " + action + " store " + name + ": " + ex.getMessage()), ex);
    }

    /** Kafka's metered layer formats exception messages with String.format: keep '%' literal. */
    private static String safe(String message) {
        return message.replace("%", "%%");
    }

    boolean exactlyOnce() {
        Object g = context.appConfigs().get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG);
        return g != null && g.toString().startsWith("exactly_once");
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + name + "]";
    }
}
