package io.github.mmapstore.streams.internals;

import io.github.mmapstore.engine.CompactionThreads;
import io.github.mmapstore.engine.CorruptionException;
import io.github.mmapstore.engine.EngineClosedException;
import io.github.mmapstore.engine.EngineConfig;
import io.github.mmapstore.engine.EngineException;
import io.github.mmapstore.engine.EngineIterator;
import io.github.mmapstore.engine.IncompatibleFormatException;
import io.github.mmapstore.engine.KeyValue;
import io.github.mmapstore.engine.LimitExceededException;
import io.github.mmapstore.engine.OpenReport;
import io.github.mmapstore.engine.ReadIsolation;
import io.github.mmapstore.engine.StoreEngine;
import io.github.mmapstore.engine.StoreLockedException;
import io.github.mmapstore.streams.MmapCompaction;
import io.github.mmapstore.streams.MmapStoreConfig;
import java.io.File;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.errors.ProcessorStateException;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.internals.WrappedStateStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every MmapStore Kafka store shares, whatever its key layout: the engine's lifecycle in the task
 * directory, store-managed changelog offsets and the IQ position committed atomically with the data, the
 * batching restore callback, open-iterator tracking, gauges, and the translation of engine exceptions
 * into Kafka's. The key-value, window and session stores hold one each.
 *
 * <p><b>Durability.</b> A store with a changelog keeps no log of its own (unless {@code mmapstore.log=true}):
 * Kafka's changelog is the log of record, a commit writes nothing on the stream thread, and the engine
 * makes commits durable by checkpoints, whose offsets are what {@link #committedOffset} reports after a
 * crash; Kafka replays the changelog from there. A store without a changelog keeps its own log, synced
 * at every commit. Under Kafka 4.4's transactional stores ({@code enable.transactional.statestores}) Kafka
 * commits the store after every transaction, and what was written after the last commit never survives a
 * crash or a close without commit; otherwise, under exactly-once, the store commits itself at transaction
 * boundaries ({@link TransactionWatcher}).
 * <p>Internal machinery, public for {@code MmapCompaction} and {@code MmapEmbeddingStore}; not API.
 */
public final class StoreCore {
    private static final Logger LOG = LoggerFactory.getLogger(StoreCore.class);
    private static final String CONSISTENCY_ENABLED = "__iq.consistency.offset.vector.enabled__";

    /**
     * Turns a batch of changelog records into engine writes (a null value deletes). Returns null for a
     * record to skip (an expired window, say). Runs on the restoring thread with the store's lock held.
     */
    interface RestoreMapper {
        KeyValue map(ConsumerRecord<byte[], byte[]> record);

        /** Called once per batch before any record is mapped (e.g. to advance stream time). */
        default void beforeBatch(Collection<ConsumerRecord<byte[], byte[]>> records) {
        }

        /** A second row written with {@code mapped} in the same batch (e.g. a time-ordered copy), or null. */
        default KeyValue companion(ConsumerRecord<byte[], byte[]> record, KeyValue mapped) {
            return null;
        }
    }

    private final String name;
    private final String metricsScope;
    private final boolean partitioned;
    private boolean lazy;
    private final Set<MmapKeyValueIterator> openIterators = ConcurrentHashMap.newKeySet();
    /** Engine snapshots held by iterators over several ranges (window and session fetches); closed with the store. */
    private final Set<io.github.mmapstore.engine.EngineSnapshot> openSnapshots = ConcurrentHashMap.newKeySet();

    private volatile StoreEngine engine;
    /** The Kafka Streams line the application runs on (set at init). */
    private KafkaLine kafka;
    /** Whether Kafka commits this store after every transaction (KIP-892, 4.4). */
    private boolean transactional;
    /** The store's changelog topic, or null (logging disabled, or a context that cannot tell). */
    private String changelogTopic;
    /** The IQ position as of the last commit: what a READ_COMMITTED query is answered at. */
    private volatile Position committedPosition = Position.emptyPosition();
    /** A commit happened: the next write runs the compaction step the commit did not. */
    private boolean stepDue;
    /** The engine's sequence number when it opened: commits run compaction steps only once it moved. */
    private long sequenceAtOpen;
    private volatile boolean open;
    private StateStoreContext context;
    private MmapStoreConfig config;
    private StoreMetrics metrics;
    private final Position position = Position.emptyPosition();
    private volatile Map<TopicPartition, Long> committedOffsets = Map.of();
    private boolean consistencyEnabled;
    private long restoredBytesSinceCommit;
    private long lastRestoreCommitMs = System.currentTimeMillis();
    private final Map<TopicPartition, Long> restoredOffsets = new HashMap<>();
    // Self-checkpoints under exactly-once (see TransactionWatcher); null when not applicable.
    private TransactionWatcher watcher;
    // Gets the task rebuilt when a store is found damaged (see TaskMaintenance); null for standby tasks.
    private TaskMaintenance maintenance;
    private long seenCommits = -1;
    private long lastSelfCheckpointMs;

    StoreCore(String name, String metricsScope, boolean partitioned) {
        this(name, metricsScope, partitioned, null);
    }

    /** {@code columns}: how values are laid out in segment columns (embedding stores), or null. */
    StoreCore(String name, String metricsScope, boolean partitioned, io.github.mmapstore.engine.ColumnExtension columns) {
        this.name = Objects.requireNonNull(name, "name cannot be null");
        this.metricsScope = Objects.requireNonNull(metricsScope, "metricsScope cannot be null");
        this.partitioned = partitioned;
        this.columns = columns;
    }

    private final io.github.mmapstore.engine.ColumnExtension columns;

    String name() {
        return name;
    }

    /**
     * Segmented stores open their engine as Kafka's segmented stores open their segments: on first use
     * when the directory does not exist yet, and again when a closed store is handed records to restore.
     * Call before {@link #init}.
     */
    void openLazily() {
        this.lazy = true;
    }

    /**
     * The MmapStore under Kafka's wrappers (metering, caching, logging, read-write decorators), or null.
     * Internal machinery, public for {@link MmapCompaction}; not API.
     */
    public static StoreCore coreOf(StateStore store) {
        StateStore s = store;
        while (true) {
            if (s instanceof MmapKeyValueStore kv) {
                return kv.core();
            }
            if (s instanceof SegmentedStoreFacade f) {
                return f.bytesStore().core();
            }
            if (s instanceof MmapSegmentedBytesStore b) {
                return b.core();
            }
            if (s instanceof WrappedStateStore<?, ?, ?> w) {
                s = w.wrapped();
            } else {
                return null;
            }
        }
    }

    /** Where a store keeps its files, below the task directory. */
    static File storeDirectory(StateStoreContext context, String name) {
        return new File(new File(context.stateDir(), "mmapstore"), name);
    }

    void init(StateStoreContext context, StateStore root, RestoreMapper mapper) {
        if (open) {
            throw new IllegalStateException("MmapStore " + name + " is already initialised");
        }
        this.kafka = KafkaLine.current();
        this.context = context;
        this.config = MmapStoreConfig.from(context.appConfigsWithPrefix(MmapStoreConfig.PREFIX));
        this.pacer = CompactionPacer.of(config, config.compactionBudget());
        File dir = storeDirectory(context, name);
        Object consistency = context.appConfigs().get(CONSISTENCY_ENABLED);
        this.consistencyEnabled = consistency != null && Boolean.parseBoolean(consistency.toString());
        this.transactional = kafka.transactionalStateStores(context.appConfigs());
        this.changelogTopic = kafka.changelogTopic(context, name);
        if (config.log() != null && !config.log() && changelogTopic == null) {
            LOG.warn("MmapStore {} keeps no log (mmapstore.log=false) and has no changelog: a crash loses what was written "
                    + "since its last checkpoint", name);
        }
        setUpSelfCheckpoints(context);
        setUpTaskMaintenance(context);
        boolean deferred = lazy && !dir.exists();
        if (!deferred) {
            openEngine();
        }
        try {
            kafka.registerBatchingRestore(context, root, records -> restoreBatch(records, mapper));
        } catch (RuntimeException ex) {
            closeEngineAfterFailure();
            throw ex;
        }
        open = true;
        if (maintenance != null) {
            maintenance.register(this);
        }
    }

    private void closeEngineAfterFailure() {
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

    /** Opens the engine in the store directory and reads the last commit's offsets and position. */
    private void openEngine() {
        File dir = storeDirectory(context, name);
        EngineConfig engineConfig = config.engineForStore().withPartitioned(partitioned).withColumns(columns).withLog(keepsLog());
        StoreEngine e;
        try {
            e = StoreEngine.open(dir.toPath(), engineConfig);
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
            LOG.info("MmapStore {} in task {} opened in {} ms: {} {} committed log records, cut {} uncommitted log bytes",
                    name, context.taskId(), report.openNanos() / 1_000_000,
                    report.replayDeferred() ? "first use replays" : "replayed", report.replayedRecords(),
                    report.discardedLogBytes());
        }
        try {
            this.metrics = new StoreMetrics(context, metricsScope, name, e, () -> selfCheckpoints,
                    () -> lastBudgetNanos);
        } catch (RuntimeException ex) {
            e.close();
            throw ex;
        }
        this.committedOffsets = meta.offsets();
        this.position.merge(meta.position());
        this.committedPosition = position.copy();
        this.sequenceAtOpen = e.lastSequence();
        this.engine = e;
    }

    /**
     * Whether the engine keeps a log of its own: {@code mmapstore.log} when set, else only for a store
     * without a changelog (with one, the changelog is the log of record).
     */
    private boolean keepsLog() {
        return config.log() != null ? config.log() : changelogTopic == null;
    }

    private boolean exactlyOnce() {
        Object guarantee = context.appConfigs().get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG);
        return guarantee != null && guarantee.toString().startsWith("exactly_once");
    }

    /**
     * Self-commits at transaction boundaries: under exactly-once when Kafka does not commit running stores
     * (4.3, or 4.4 with transactional stores off), for an active task's store that has a changelog to
     * take offsets from.
     */
    private void setUpSelfCheckpoints(StateStoreContext context) {
        if (exactlyOnce() && !transactional && config.eosCheckpointInterval().toMillis() >= 0 && changelogTopic != null
                && kafka.activeTask(context)) {
            this.watcher = TransactionWatcher.of(kafka, context);
        }
    }

    private void setUpTaskMaintenance(StateStoreContext context) {
        long interval = config.maintenanceInterval().toMillis();
        if (interval > 0 && kafka.activeTask(context)) {
            this.maintenance = TaskMaintenance.of(kafka, context, exactlyOnce(), config.maintenanceInterval());
        }
    }

    /** The checksum failure that stopped this store's engine, or null. */
    CorruptionException damage() {
        StoreEngine e = engine;
        return e != null && e.failure() instanceof CorruptionException c ? c : null;
    }

    /**
     * Called by the stores before each write on the processing thread. Under exactly-once, when Kafka
     * has committed a transaction since this store last looked and the checkpoint interval has passed,
     * commits the store with the changelog offset of its last record in that transaction: everything in
     * the store is then committed data, so after a crash Kafka replays only what came later.
     */
    void beforeWrite() {
        if (maintenance != null) {
            maintenance.onTaskThread();
        }
        if (stepDue) {
            // the step of the last commit, run here so that commits stay free of compaction work
            stepDue = false;
            compactStep();
        } else if (--writesToSliceCheck <= 0) {
            writesToSliceCheck = WRITES_PER_SLICE_CHECK;
            compactionSlice();
        }
        if (watcher == null) {
            return;
        }
        long commits = watcher.poll();
        writtenSincePoll = true; // the write this call precedes
        if (commits == seenCommits) {
            return;
        }
        boolean first = seenCommits < 0;
        seenCommits = commits;
        if (!first) {
            selfCommit();
        }
    }

    /** A write (or the one about to be made) since the watcher was last polled: see {@link #maintenanceTick}. */
    private boolean writtenSincePoll;

    /**
     * The task's maintenance punctuation, for durability: a store not written since the watcher was last
     * polled commits itself when Kafka committed a transaction since (everything it holds was written
     * before that poll, so that transaction covers it), as a write would have made it; then its last
     * commit is checkpointed if the checkpoint interval has passed. Without this a store written only
     * now and then (a table updated in its task's first transaction) would stay at an old checkpoint, or
     * none, and Kafka would wipe its task after a crash.
     */
    void maintenanceTick() {
        StoreEngine e = engine;
        if (!open || e == null) {
            return;
        }
        if (watcher != null) {
            boolean idle = !writtenSincePoll;
            long commits = watcher.poll();
            writtenSincePoll = false;
            if (commits != seenCommits) {
                boolean usable = idle && seenCommits >= 0;
                seenCommits = commits;
                if (usable) {
                    selfCommit();
                }
            }
        }
        try {
            e.checkpointIfDue();
        } catch (EngineException ex) {
            throw translate("checkpointing", ex);
        }
    }

    /**
     * Commits the store with the changelog offset of its last record, right after Kafka committed a
     * transaction that holds every write the store has (see {@link #beforeWrite}, {@link #maintenanceTick}).
     */
    private void selfCommit() {
        long now = System.currentTimeMillis();
        if (now - lastSelfCheckpointMs < config.eosCheckpointInterval().toMillis()) {
            return;
        }
        TopicPartition tp = new TopicPartition(changelogTopic, context.taskId().partition());
        Long offset = kafka.producedOffset(context, tp);
        if (offset == null && tp.topic().equals(lastAppliedTopic) && tp.partition() == lastAppliedPartition) {
            // A source-topic changelog (a table read straight from its input topic): the last input
            // record applied, in a committed transaction, is the changelog offset the store holds.
            offset = lastAppliedOffset;
        }
        if (offset == null) {
            return; // nothing produced to the changelog yet: wait for Kafka or the next transaction
        }
        Map<TopicPartition, Long> offsets = new HashMap<>(committedOffsets);
        offsets.put(tp, offset);
        commitOffsets(offsets);
        lastSelfCheckpointMs = now;
        selfCheckpoints++;
        stepDue = true;
    }

    private long selfCheckpoints;
    /** Whether the engine's merges run on the compaction threads (set at the first compaction step). */
    private boolean background;

    // ---- restore --------------------------------------------------------------------------------

    /**
     * Applies a batch of changelog records on the engine's bulk path: one lock acquisition, nothing
     * logged. Restored records are committed data: without a log of its own the store commits after every
     * batch (a commit writes nothing: the engine freezes full memtables at these commits and writes them
     * out as sorted runs, each one a checkpoint) and asks for a checkpoint once
     * {@code mmapstore.restore.commit.bytes} were restored since the last, so that a crash mid-restore
     * resumes near where it stopped. With a log, where each commit is a sync, it commits after that many
     * bytes or a second (or {@code mmapstore.eos.checkpoint.interval.ms}, if longer).
     */
    private void restoreBatch(Collection<ConsumerRecord<byte[], byte[]>> records, RestoreMapper mapper) {
        if (!open && lazy && context != null) {
            open = true; // a closed segmented store takes restored records, as Kafka's re-creates segments
        }
        StoreEngine e = engine();
        List<KeyValue> batch = new ArrayList<>(records.size());
        long bytes = 0;
        synchronized (position) {
            mapper.beforeBatch(records);
            // the offset of the last record of each changelog partition (a batch is one partition, in order)
            String topic = null;
            int partition = -1;
            long offset = -1;
            for (ConsumerRecord<byte[], byte[]> r : records) {
                if (r.topic() != null && !r.topic().isEmpty()) {
                    if (r.partition() != partition || !r.topic().equals(topic)) {
                        if (topic != null) {
                            restoredOffsets.put(new TopicPartition(topic, partition), offset);
                        }
                        topic = r.topic();
                        partition = r.partition();
                    }
                    offset = r.offset();
                }
                KeyValue kv = mapper.map(r);
                if (kv == null) {
                    continue;
                }
                if (consistencyEnabled) {
                    kafka.restorePosition(r, true, position);
                }
                batch.add(kv);
                bytes += kv.key().length + (kv.value() == null ? 0 : kv.value().length);
                KeyValue extra = mapper.companion(r, kv);
                if (extra != null) {
                    batch.add(extra);
                    bytes += extra.key().length + (extra.value() == null ? 0 : extra.value().length);
                }
            }
            if (topic != null) {
                restoredOffsets.put(new TopicPartition(topic, partition), offset);
            }
            try {
                e.write(batch);
            } catch (EngineException ex) {
                throw translate("restoring a batch to", ex);
            }
        }
        restoredBytesSinceCommit += bytes;
        restoredBytesSinceCheckpoint += bytes;
        if (restoredOffsets.isEmpty()) {
            return;
        }
        boolean logged = e.logged();
        long interval = config.eosCheckpointInterval().toMillis();
        boolean due = !logged || restoredBytesSinceCommit >= config.restoreCommitBytes()
                || (interval >= 0 && System.currentTimeMillis() - lastRestoreCommitMs >= Math.max(interval, 1000));
        if (due) {
            lastRestoreCommitMs = System.currentTimeMillis();
            Map<TopicPartition, Long> offsets = new HashMap<>(committedOffsets);
            offsets.putAll(restoredOffsets);
            commitOffsets(offsets);
            if (!logged && restoredBytesSinceCheckpoint >= config.restoreCommitBytes()) {
                restoredBytesSinceCheckpoint = 0;
                try {
                    e.checkpoint();
                } catch (EngineException ex) {
                    throw translate("checkpointing", ex);
                }
            }
        }
    }

    private long restoredBytesSinceCheckpoint;

    // ---- writes and reads -------------------------------------------------------------------------

    /** Records the position of the record being processed; call with {@link #position()} locked. */
    void updatePosition() {
        kafka.updatePosition(position, context);
        if (watcher != null) {
            context.recordMetadata().ifPresent(m -> {
                lastAppliedTopic = m.topic();
                lastAppliedPartition = m.partition();
                lastAppliedOffset = m.offset();
            });
        }
    }

    // The input record last applied on the processing thread (for source-topic changelogs).
    private String lastAppliedTopic;
    private int lastAppliedPartition = -1;
    private Long lastAppliedOffset;

    /** Internal machinery, public for {@code MmapEmbeddingStore}; not API. */
    public Position position() {
        return position;
    }

    /**
     * The position a query at {@code isolation} is answered at: the live one, or the last commit's.
     * Internal machinery, public for {@code MmapEmbeddingStore}; not API.
     */
    public Position position(ReadIsolation isolation) {
        return isolation == ReadIsolation.COMMITTED ? committedPosition : position;
    }

    /**
     * The isolation an IQv2 query asks for (always the latest state on Kafka 4.3).
     * Internal machinery, public for {@code MmapEmbeddingStore}; not API.
     */
    public ReadIsolation isolation(QueryConfig config) {
        return kafka == null ? ReadIsolation.LATEST : kafka.isolation(config);
    }

    /** Internal machinery, public for {@code MmapEmbeddingStore}; not API. */
    public KafkaLine kafka() {
        return kafka;
    }

    /**
     * Bytes written since the last commit when Kafka commits this store after every transaction (its
     * early-commit limit, {@code statestore.uncommitted.max.bytes}, sums them); 0 otherwise, as Kafka's own
     * stores report when they are not transactional. Constant time.
     */
    long approximateNumUncommittedBytes() {
        StoreEngine e = engine;
        return transactional && open && e != null ? e.uncommittedBytes() : 0;
    }

    /** Internal machinery, public for {@code MmapEmbeddingStore}; not API. */
    public StateStoreContext context() {
        return context;
    }

    /** Wraps an engine iterator as Kafka's, tracked so that closing the store closes it. */
    KeyValueIterator<Bytes, byte[]> track(EngineIterator inner, UnaryOperator<byte[]> keyMapper) {
        MmapKeyValueIterator[] self = new MmapKeyValueIterator[1];
        self[0] = new MmapKeyValueIterator(name, inner, keyMapper, () -> openIterators.remove(self[0]));
        openIterators.add(self[0]);
        if (!open) {
            // closed concurrently: do not leak the snapshot
            self[0].close();
            throw new InvalidStateStoreException("Store " + name + " is currently closed");
        }
        return self[0];
    }

    /** Tracks a snapshot an iterator holds, so that closing the store lets it go; returns it. */
    io.github.mmapstore.engine.EngineSnapshot trackSnapshot(io.github.mmapstore.engine.EngineSnapshot snapshot) {
        openSnapshots.add(snapshot);
        if (!open) {
            openSnapshots.remove(snapshot);
            snapshot.close();
            throw new InvalidStateStoreException("Store " + name + " is currently closed");
        }
        return snapshot;
    }

    void untrackSnapshot(io.github.mmapstore.engine.EngineSnapshot snapshot) {
        openSnapshots.remove(snapshot);
    }

    // ---- commit ---------------------------------------------------------------------------------

    /**
     * Kafka's commit: an empty map removes every committed offset, a null value removes that
     * partition's; then one compaction step within {@code mmapstore.compaction.budget.ms}.
     */
    void commit(Map<TopicPartition, Long> changelogOffsets) {
        Objects.requireNonNull(changelogOffsets, "changelogOffsets cannot be null");
        boolean afterRestore = restoredBytesSinceCheckpoint > 0;
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
        commitOffsets(next);
        // The commit's compaction step runs before the next write: a commit is a mark on the stream thread
        // (Kafka 4.4 commits every transactional store after each transaction), never a merge.
        stepDue = true;
        if (afterRestore && System.currentTimeMillis() - lastRestoreCheckpointMs >= 1000) {
            // Kafka commits a restoring store periodically and when the restore ends: what was restored is
            // made durable then (at most once a second), so that a crash soon after replays only what came later
            lastRestoreCheckpointMs = System.currentTimeMillis();
            restoredBytesSinceCheckpoint = 0;
            try {
                engine().checkpoint();
            } catch (EngineException ex) {
                throw translate("checkpointing", ex);
            }
        }
    }

    private long lastRestoreCheckpointMs;

    /**
     * One compaction step, paced from {@code mmapstore.compaction.budget.ms} (see {@link CompactionPacer}),
     * run by the first write after a commit; skipped when a punctuator scheduled by {@link MmapCompaction}
     * steps this store instead.
     */
    private void compactStep() {
        // A zero budget turns compaction steps off: do not even estimate space (it reads sample rows).
        // Nor after a commit of a store not written since it opened: Kafka Streams opens, commits and
        // closes every store once at startup only for its offsets (on the main thread, one store after
        // the other), where an estimate and a merge begun only to be abandoned cost ~0.1 s per store.
        // An idle store gets its steps from the task's maintenance punctuation.
        StoreEngine e = engine;
        if (!punctuated && !config.compactionBudget().isZero() && e != null && e.lastSequence() != sequenceAtOpen) {
            compactStep(pacer);
        }
    }

    /** The task's maintenance punctuation (see {@link TaskMaintenance}): a paced step, as after a commit. */
    void maintenanceCompactionStep() {
        // with mmapstore.compaction.budget.ms=0 (no steps at commits) a store still compacts when idle,
        // unless the idle budget is 0 too
        if (open && engine != null && !punctuated && !config.compactionIdleBudget().isZero()) {
            compactStep(pacer);
        }
    }

    /**
     * One compaction step from a punctuation, paced from {@code base}; from now on commits leave
     * compaction of this store to the punctuator.
     * <p>Internal machinery, public for {@code MmapCompaction}; not API.
     */
    public void punctuatedCompactionStep(Duration base) {
        if (!punctuated || punctuationPacer == null || !punctuationBase.equals(base)) {
            punctuated = true;
            punctuationBase = base;
            punctuationPacer = CompactionPacer.of(config, base);
        }
        compactStep(punctuationPacer);
    }

    /**
     * A slice of compaction before a write, when the store is in compaction debt and owes the time (see
     * {@link CompactionPacer#sliceNanos}): a store under a sustained write load pays its compaction
     * share in sub-millisecond pauses between writes instead of in long steps at its commits. Not for a
     * store a punctuator steps ({@link MmapCompaction}: its schedule is the user's), nor with compaction off.
     */
    private void compactionSlice() {
        StoreEngine e = engine;
        if (background && e != null && open) {
            // The merges run on the compaction threads. A store whose writes outrun them (its segments past
            // the space bound, or four times its read-amplification bound) is slowed down: each check waits
            // for the slice in flight, up to 1 ms, so writes come at most 64 per millisecond until the
            // merges are back under the bound (RocksDB delays writes likewise): the bound holds whatever the
            // write rate, at the write rate one compaction thread can merge.
            guardCompaction(() -> {
                if (e.compactionOverBounds()) {
                    e.awaitCompaction(BACKGROUND_DEBT_WAIT_NANOS);
                }
            });
            return;
        }
        if (punctuated || e == null || !open || config.compactionBudget().isZero() || config.compactionThreads() > 0) {
            return;
        }
        long start = clock.getAsLong();
        guardCompaction(() -> {
            long slice = pacer.sliceNanos(start, e.compactionDebt());
            if (slice > 0) {
                e.compact(slice);
                pacer.sliceTook(clock.getAsLong() - start);
            }
        });
    }

    private void compactStep(CompactionPacer p) {
        StoreEngine e = engine;
        if (e == null || !open) {
            return; // a lazily opened segmented store with nothing written yet
        }
        if (!background && config.compactionThreads() > 0) {
            // Merges move to the JVM's compaction threads at the first step, not at open: Kafka Streams
            // opens, commits and closes every store once at startup only for its offsets, where a merge
            // begun in the background would only be abandoned. The step below then only wakes them.
            background = true;
            try {
                e.compactInBackground(CompactionThreads.pool(config.compactionThreads()));
            } catch (EngineException ex) {
                throw translate("compacting", ex);
            }
        }
        if (background) {
            guardCompaction(() -> e.compact(0)); // no budget to pace: makes sure a background slice is on its way
            return;
        }
        long start = clock.getAsLong();
        guardCompaction(() -> {
            long budget = p.budgetNanos(start, e.lastSequence(), e.compactionDebt());
            lastBudgetNanos = budget;
            if (budget > 0) {
                e.compact(budget);
                p.stepTook(clock.getAsLong() - start, budget);
            }
        });
    }

    /** Runs compaction work (a step or a slice), acting on damage it finds. */
    private void guardCompaction(Runnable work) {
        try {
            work.run();
        } catch (CorruptionException damage) {
            // Compaction is optional work: the commit that ran it has succeeded. The engine has stopped and
            // left its note; on the task's thread (a commit, a punctuation, a write's slice) make Kafka
            // reopen the task now, elsewhere (the state updater's commits of restoring tasks) leave it to
            // the next operation on the task's thread, the next open or the maintenance punctuation.
            // (Marking the task corrupted from the state updater was tried: Kafka 4.3.1 then re-added the
            // revived task while its changelogs were still registered, an IllegalStateException that
            // replaced the stream thread.)
            if (maintenance != null && maintenance.onTaskThreadNow()) {
                throw maintenance.rebuild(name, damage);
            }
            LOG.error("MmapStore {}: compaction found damage ({}); the store will be rebuilt from its changelog "
                    + "when its task reopens it", name, damage.getMessage());
        } catch (EngineException ex) {
            throw translate("compacting", ex);
        }
    }

    /** Writes between two looks at whether the store owes compaction time (a clock read, a cached estimate). */
    static final int WRITES_PER_SLICE_CHECK = 64;
    /** Longest wait of one write check of a store past its space bound with merges in the background. */
    static final long BACKGROUND_DEBT_WAIT_NANOS = 1_000_000L;
    private int writesToSliceCheck = WRITES_PER_SLICE_CHECK;

    /** Replaces the nanosecond clock the pacer reads (tests). */
    void clock(java.util.function.LongSupplier nanos) {
        this.clock = Objects.requireNonNull(nanos, "nanos");
    }

    private java.util.function.LongSupplier clock = System::nanoTime;
    private CompactionPacer pacer;
    private boolean punctuated;
    private Duration punctuationBase;
    private CompactionPacer punctuationPacer;
    private volatile long lastBudgetNanos;

    private void commitOffsets(Map<TopicPartition, Long> offsets) {
        StoreEngine e = engine();
        byte[] meta;
        Position committed;
        synchronized (position) {
            committed = position.copy();
            meta = new CommitMetadata(offsets, committed).encode();
        }
        try {
            e.commit(meta);
        } catch (EngineException ex) {
            throw translate("committing", ex);
        }
        committedPosition = committed;
        committedOffsets = Map.copyOf(offsets);
        restoredBytesSinceCommit = 0;
        restoredOffsets.clear();
    }

    Long committedOffset(TopicPartition partition) {
        if (!(open && lazy && engine == null)) {
            engine();
        }
        return committedOffsets.get(partition);
    }

    // ---- lifecycle ------------------------------------------------------------------------------

    boolean isOpen() {
        return open;
    }

    /**
     * Whether the engine is open now (a lazily opened store may not have opened it yet).
     * Internal machinery, public for {@code MmapCompaction}; not API.
     */
    public boolean engineOpen() {
        return open && engine != null;
    }

    synchronized void close() {
        shutdown(true);
    }

    /** Drops the store the way a killed process would: nothing more is written or committed. */
    synchronized void simulateCrash() {
        shutdown(false);
    }

    private void shutdown(boolean clean) {
        if (!open) {
            return;
        }
        open = false;
        if (maintenance != null) {
            maintenance.unregister(this);
        }
        if (!openIterators.isEmpty()) {
            if (clean) {
                LOG.warn("Closing {} open iterators for store {}", openIterators.size(), name);
            }
            for (MmapKeyValueIterator it : List.copyOf(openIterators)) {
                it.close();
            }
        }
        for (io.github.mmapstore.engine.EngineSnapshot snapshot : List.copyOf(openSnapshots)) {
            openSnapshots.remove(snapshot);
            snapshot.close();
        }
        if (metrics != null) {
            metrics.close();
            metrics = null;
        }
        StoreEngine e = engine;
        engine = null;
        if (e != null) {
            if (clean) {
                e.close();
            } else {
                e.abandon();
            }
        }
    }

    /**
     * The open engine, or Kafka's exception for a closed store.
     * Internal machinery, public for {@code MmapEmbeddingStore}; not API.
     */
    public StoreEngine engine() {
        StoreEngine e = engine;
        if (e == null && open && lazy) {
            synchronized (this) {
                if (engine == null && open) {
                    openEngine();
                }
                e = engine;
            }
        }
        if (e == null || !open) {
            throw new InvalidStateStoreException("Store " + name + " is currently closed");
        }
        return e;
    }

    /**
     * Kafka's exception for an engine failure during {@code action}.
     * Internal machinery, public for {@code MmapEmbeddingStore}; not API.
     */
    public RuntimeException translate(String action, EngineException ex) {
        CorruptionException damage = ex instanceof CorruptionException c ? c
                : ex instanceof EngineClosedException && ex.getCause() instanceof CorruptionException c ? c : null;
        if (damage != null && open && maintenance != null && maintenance.onTaskThreadNow()) {
            // on the task's thread: make Kafka Streams reopen the task, which rebuilds the store
            return maintenance.rebuild(name, damage);
        }
        if (ex instanceof EngineClosedException) {
            if (!open) {
                return new InvalidStateStoreException("Store " + name + " is currently closed");
            }
            return new ProcessorStateException(safe("Error " + action + " store " + name + ": " + ex.getMessage()), ex);
        }
        if (ex instanceof CorruptionException) {
            return new ProcessorStateException(safe("Store " + name
                    + " is damaged and will be rebuilt from its changelog when reopened: " + ex.getMessage()), ex);
        }
        if (ex instanceof LimitExceededException) {
            return ex;
        }
        return new ProcessorStateException(safe("Error " + action + " store " + name + ": " + ex.getMessage()), ex);
    }

    /** Kafka's metered layer formats exception messages with String.format: keep '%' literal. */
    static String safe(String message) {
        return message.replace("%", "%%");
    }
}
