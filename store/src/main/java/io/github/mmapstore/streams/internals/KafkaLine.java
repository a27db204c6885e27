package io.github.mmapstore.streams.internals;

import io.github.mmapstore.engine.ReadIsolation;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.ProcessorStateException;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.processor.internals.ChangelogRecordDeserializationHelper;
import org.apache.kafka.streams.processor.internals.InternalProcessorContext;
import org.apache.kafka.streams.processor.internals.ProcessorMetadata;
import org.apache.kafka.streams.processor.internals.ProcessorNode;
import org.apache.kafka.streams.processor.internals.RecordBatchingStateRestoreCallback;
import org.apache.kafka.streams.processor.internals.RecordCollector;
import org.apache.kafka.streams.processor.internals.StreamThread;
import org.apache.kafka.streams.processor.internals.Task;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.Query;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.state.internals.StoreQueryUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything MmapStore needs from Kafka Streams beyond its public interfaces, for the line of releases the
 * application runs on: one subclass per supported line, chosen once per JVM from the Kafka Streams jar's
 * own version, and nothing outside this file touches {@code processor.internals}.
 *
 * <p>Why a line at a time: MmapStore is built against Kafka Streams 4.4 and runs on 4.3 as well. What the
 * two lines share (the task's context, record collector and processor metadata, the restore callback and
 * the position helpers, unchanged from 4.3.1 to 4.4.0) lives here; what differs lives in the subclass:
 * 4.4's transactional state stores (KIP-892) and the isolation level of Interactive Queries, neither of
 * which 4.3 has. A line MmapStore does not know fails the store's initialisation with one line naming the
 * supported ones, instead of a {@code NoSuchMethodError} in the middle of a commit.
 * <p>Internal machinery, public for {@code MmapEmbeddingStore}; not API.
 */
public abstract sealed class KafkaLine permits KafkaLine.Kafka43, KafkaLine.Kafka44 {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaLine.class);
    static final String SUPPORTED = "4.3.x and 4.4.x";
    /** Where the Kafka Streams jar records its own version. */
    private static final String VERSION_RESOURCE = "/kafka/kafka-streams-version.properties";
    static final String TRANSACTIONAL_STATE_STORES = "enable.transactional.statestores";

    private static volatile KafkaLine current;

    private final String version;

    private KafkaLine(String version) {
        this.version = version;
    }

    /** The line the application runs on. */
    static KafkaLine current() {
        KafkaLine k = current;
        if (k == null) {
            k = detect(streamsVersion());
            current = k;
        }
        return k;
    }

    /**
     * The line of Kafka Streams {@code version} (as its jar states it; null when unknown).
     *
     * @throws ProcessorStateException a line MmapStore does not support
     */
    static KafkaLine detect(String version) {
        if (version == null) {
            // no version resource (a repackaged jar): tell the lines apart by the 4.4 API
            boolean has44 = hasIsolationLevel();
            LOG.warn("Kafka Streams does not state its version; MmapStore assumes the {} line from its API", has44 ? "4.4" : "4.3");
            return has44 ? new Kafka44("4.4 (assumed)") : new Kafka43("4.3 (assumed)");
        }
        String[] parts = version.split("[.-]");
        if (parts.length >= 2 && parts[0].equals("4") && parts[1].equals("4")) {
            return new Kafka44(version);
        }
        if (parts.length >= 2 && parts[0].equals("4") && parts[1].equals("3")) {
            return new Kafka43(version);
        }
        throw new ProcessorStateException("MmapStore supports Kafka Streams " + SUPPORTED + "; this application runs Kafka Streams "
                + version);
    }

    private static String streamsVersion() {
        try (InputStream in = KafkaStreams.class.getResourceAsStream(VERSION_RESOURCE)) {
            if (in == null) {
                return null;
            }
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version");
            return v == null || v.isBlank() ? null : v.trim();
        } catch (IOException e) {
            return null;
        }
    }

    private static boolean hasIsolationLevel() {
        try {
            QueryConfig.class.getMethod("getIsolationLevel");
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    /** The Kafka Streams version the application runs. */
    String version() {
        return version;
    }

    // =============================================================================================
    // What the lines differ in
    // =============================================================================================

    /**
     * Whether the application turned on transactional state stores ({@code enable.transactional.statestores},
     * KIP-892): Kafka then commits every store after each committed transaction and no longer wipes a task's
     * stores after an unclean exit under exactly-once, trusting them to come back at their last commit.
     */
    abstract boolean transactionalStateStores(Map<String, Object> appConfigs);

    /** The isolation level an Interactive Queries v2 query asks for. */
    abstract ReadIsolation isolation(QueryConfig config);

    /**
     * Whether Kafka's adapter for a DSL table over a store of plain values wraps {@code self} and casts its
     * IQv2 range results to RocksDB's own iterator class (4.3; 4.4 casts to an interface MmapStore's
     * iterators implement).
     */
    abstract boolean castsRangeResultsToRocksDbIterator(StateStore root, StateStore self);

    /**
     * Whether the window and session stores with headers answer Kafka's basic queries (4.4, whose metered
     * layer turns the KIP-1356 headers queries into them) or none (4.3).
     */
    abstract boolean headersStoresAnswerBasicQueries();

    /** The store Kafka's wrappers (metering, caching, logging) wrap, under {@code root}. */
    static StateStore innermost(StateStore root) {
        StateStore s = root;
        while (s instanceof org.apache.kafka.streams.state.internals.WrappedStateStore<?, ?, ?> w) {
            s = w.wrapped();
        }
        return s;
    }

    /** An isolation level of Kafka's as MmapStore reads it. */
    static ReadIsolation isolation(IsolationLevel level) {
        return level == IsolationLevel.READ_COMMITTED ? ReadIsolation.COMMITTED : ReadIsolation.LATEST;
    }

    /** Kafka Streams 4.3: no transactional stores, no isolation levels. */
    static final class Kafka43 extends KafkaLine {
        Kafka43(String version) {
            super(version);
        }

        @Override
        boolean transactionalStateStores(Map<String, Object> appConfigs) {
            Object flag = appConfigs.get(TRANSACTIONAL_STATE_STORES);
            if (flag != null && Boolean.parseBoolean(flag.toString())) {
                LOG.warn("{}=true is a Kafka Streams 4.4 setting; this application runs Kafka Streams {}, which ignores it",
                        TRANSACTIONAL_STATE_STORES, version());
            }
            return false;
        }

        @Override
        ReadIsolation isolation(QueryConfig config) {
            return ReadIsolation.LATEST;
        }

        @Override
        boolean headersStoresAnswerBasicQueries() {
            return false;
        }

        @Override
        boolean castsRangeResultsToRocksDbIterator(StateStore root, StateStore self) {
            StateStore inner = innermost(root);
            return inner != self && inner != null
                    && inner.getClass().getName().equals("org.apache.kafka.streams.state.internals.KeyValueToTimestampedKeyValueByteStoreAdapter");
        }
    }

    /** Kafka Streams 4.4: KIP-892's transactional stores and committed reads. */
    static final class Kafka44 extends KafkaLine {
        Kafka44(String version) {
            super(version);
        }

        @Override
        boolean transactionalStateStores(Map<String, Object> appConfigs) {
            Object flag = appConfigs.get(TRANSACTIONAL_STATE_STORES);
            return flag != null && Boolean.parseBoolean(flag.toString());
        }

        @Override
        ReadIsolation isolation(QueryConfig config) {
            return isolation(config.getIsolationLevel());
        }

        @Override
        boolean castsRangeResultsToRocksDbIterator(StateStore root, StateStore self) {
            return false;
        }

        @Override
        boolean headersStoresAnswerBasicQueries() {
            return true;
        }
    }

    // =============================================================================================
    // Internals both lines share
    // =============================================================================================

    /** The task's internal context, or null (a context of Kafka's test kits that is not one). */
    static InternalProcessorContext<?, ?> internal(StateStoreContext context) {
        return context instanceof InternalProcessorContext<?, ?> ictx ? ictx : null;
    }

    /**
     * The changelog topic of store {@code storeName} in this task, or null when it has none (logging
     * disabled) or the context cannot tell (the contexts of Kafka's processor test utilities have no state
     * manager).
     */
    String changelogTopic(StateStoreContext context, String storeName) {
        InternalProcessorContext<?, ?> ictx = internal(context);
        if (ictx == null) {
            return null;
        }
        try {
            return ictx.changelogFor(storeName);
        } catch (RuntimeException noStateManager) {
            return null;
        }
    }

    /** Whether the context belongs to an active task; contexts that cannot tell (test kits) count as not. */
    boolean activeTask(StateStoreContext context) {
        InternalProcessorContext<?, ?> ictx = internal(context);
        if (ictx == null) {
            return false;
        }
        try {
            return ictx.taskType() == Task.TaskType.ACTIVE;
        } catch (RuntimeException noStateManager) {
            return false;
        }
    }

    /**
     * The offset of the last record the task's record collector produced to {@code changelog}, or null
     * (nothing produced yet, or no collector).
     */
    Long producedOffset(StateStoreContext context, TopicPartition changelog) {
        InternalProcessorContext<?, ?> ictx = internal(context);
        if (!(ictx instanceof RecordCollector.Supplier supplier)) {
            return null;
        }
        RecordCollector collector = supplier.recordCollector();
        return collector == null ? null : collector.offsets().get(changelog);
    }

    /**
     * The task's processor-metadata "needs commit" flag, read and set again: false once Kafka's post-commit
     * step cleared it (see {@link TransactionWatcher}). Null when the context has no processor metadata.
     */
    Boolean takeNeedsCommit(StateStoreContext context) {
        InternalProcessorContext<?, ?> ictx = internal(context);
        ProcessorMetadata metadata = ictx == null ? null : ictx.processorMetadata();
        if (metadata == null) {
            return null;
        }
        boolean needed = metadata.needsCommit();
        metadata.setNeedsCommit(true);
        return needed;
    }

    /**
     * Schedules {@code punctuator} as a wall-clock punctuation of the task while no processor is current
     * (stores initialise outside any processor: the punctuation runs under a node of its own that processes
     * nothing). Null when the context cannot schedule (the contexts of Kafka's test kits).
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    Cancellable scheduleMaintenance(StateStoreContext context, Duration interval, Consumer<Long> punctuator) {
        InternalProcessorContext raw = internal(context);
        if (raw == null) {
            return null;
        }
        ProcessorNode<?, ?, ?, ?> previous = raw.currentNode();
        if (previous == null) {
            raw.setCurrentNode(new ProcessorNode<>("mmapstore-maintenance"));
        }
        try {
            return raw.schedule(interval, PunctuationType.WALL_CLOCK_TIME, punctuator::accept);
        } catch (UnsupportedOperationException | IllegalStateException notHere) {
            LOG.debug("Task {} cannot schedule MmapStore maintenance: {}", context.taskId(), notHere.getMessage());
            return null;
        } finally {
            if (previous == null) {
                raw.setCurrentNode(null);
            }
        }
    }

    /** Whether {@code thread} is one of Kafka Streams' stream threads. */
    boolean isStreamThread(Thread thread) {
        return thread instanceof StreamThread;
    }

    /** Registers the store with a restore callback that takes changelog records in batches. */
    void registerBatchingRestore(StateStoreContext context, StateStore root,
                                 Consumer<Collection<ConsumerRecord<byte[], byte[]>>> restore) {
        context.register(root, (RecordBatchingStateRestoreCallback) restore::accept, () -> { });
    }

    /** Applies a restored changelog record's consistency vector to {@code position}, as Kafka's stores do. */
    void restorePosition(ConsumerRecord<byte[], byte[]> record, boolean consistencyEnabled, Position position) {
        ChangelogRecordDeserializationHelper.applyChecksAndUpdatePosition(record, consistencyEnabled, position);
    }

    /** Records the position of the record being processed; call with {@code position} locked. */
    void updatePosition(Position position, StateStoreContext context) {
        StoreQueryUtils.updatePosition(position, context);
    }

    /**
     * Whether a query bounded by {@code bound} may be answered at {@code position} for {@code partition}.
     * Internal machinery, public for {@code MmapEmbeddingStore}; not API.
     */
    public boolean isPermitted(Position position, PositionBound bound, int partition) {
        return StoreQueryUtils.isPermitted(position, bound, partition);
    }

    /**
     * Kafka's handling of the basic queries (key, range, window and session queries) against {@code store}
     * at {@code position}. On 4.4 it reads through {@code store.readOnly(level)}, so the stores' committed
     * views answer READ_COMMITTED queries.
     */
    <R> QueryResult<R> handleBasicQueries(Query<R> query, PositionBound bound, QueryConfig config, StateStore store,
                                         Position position, StateStoreContext context) {
        return StoreQueryUtils.handleBasicQueries(query, bound, config, store, position, context);
    }
}
