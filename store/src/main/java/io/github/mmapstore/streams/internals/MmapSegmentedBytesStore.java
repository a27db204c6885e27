package io.github.mmapstore.streams.internals;

import io.github.mmapstore.engine.EngineClosedException;
import io.github.mmapstore.engine.EngineException;
import io.github.mmapstore.engine.EngineIterator;
import io.github.mmapstore.engine.EngineSnapshot;
import io.github.mmapstore.engine.KeyOrder;
import io.github.mmapstore.engine.KeyValue;
import io.github.mmapstore.engine.ReadIsolation;
import io.github.mmapstore.engine.StoreEngine;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.processor.internals.InternalProcessorContext;
import org.apache.kafka.streams.processor.internals.ProcessorContextUtils;
import org.apache.kafka.streams.processor.internals.metrics.TaskMetrics;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.internals.HasNextCondition;
import org.apache.kafka.streams.state.internals.SegmentedBytesStore;
import org.apache.kafka.streams.state.internals.SessionKeySchema;
import org.apache.kafka.streams.state.internals.WindowKeySchema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka's {@link SegmentedBytesStore} on one time-partitioned engine: the drop-in counterpart of
 * {@code AbstractRocksDBSegmentedBytesStore}, with every time segment a partition of the same engine, so
 * that one commit makes all segments durable together with the changelog offsets.
 *
 * <p>Engine key: {@code [8-byte partition][schema key]} where partition = {@code segmentId ^ Long.MIN_VALUE}
 * (unsigned partition order = signed segment order) and segmentId = {@code timestamp / segmentInterval}.
 * Retention drops whole partitions ({@link StoreEngine#dropPartitionsBelow}); the files go at the next
 * commit. Records older than retention are dropped and counted on Kafka's dropped-records sensor, with the
 * same arithmetic as Kafka's segmented stores (live segments, {@code getActualFrom}).
 *
 * <p>With a {@link TimeIndex} (the stores the DSL uses for emit-on-window-close), each row is also
 * written time-first, under a tag byte after the partition ({@code 0} = schema key, {@code 1} = time-first
 * copy), so that a fetch by time range iterates in time order like Kafka's time-ordered stores.
 *
 * <p>Each fetch reads one engine snapshot, however many time segments it walks: it never mixes two
 * states of the store. {@link #view(ReadIsolation)} reads the same store as of its last commit (the
 * committed views of the window and session stores).
 */
public class MmapSegmentedBytesStore implements SegmentedBytesStore {
    private static final Logger LOG = LoggerFactory.getLogger(MmapSegmentedBytesStore.class);
    static final String INVALID_RANGE_WARNING = MmapKeyValueStore.INVALID_RANGE_WARNING;
    private static final byte TAG_PRIMARY = 0;
    private static final byte TAG_TIME = 1;

    /** The time-first copy of a schema key: its first 8 bytes are the time it is ordered by. */
    public interface TimeIndex {
        byte[] toIndexKey(byte[] schemaKey);

        byte[] fromIndexKey(byte[] indexKey);

        /** {@code [start][key][seq]} for window keys {@code [key][start][seq]} (Kafka's time-first window layout). */
        TimeIndex WINDOW = new TimeIndex() {
            @Override
            public byte[] toIndexKey(byte[] k) {
                int keyLen = k.length - 12;
                byte[] out = new byte[k.length];
                System.arraycopy(k, keyLen, out, 0, 8);
                System.arraycopy(k, 0, out, 8, keyLen);
                System.arraycopy(k, keyLen + 8, out, 8 + keyLen, 4);
                return out;
            }

            @Override
            public byte[] fromIndexKey(byte[] t) {
                int keyLen = t.length - 12;
                byte[] out = new byte[t.length];
                System.arraycopy(t, 8, out, 0, keyLen);
                System.arraycopy(t, 0, out, keyLen, 8);
                System.arraycopy(t, 8 + keyLen, out, keyLen + 8, 4);
                return out;
            }
        };

        /** {@code [end][start][key]} for session keys {@code [key][end][start]} (Kafka's time-first session layout). */
        TimeIndex SESSION = new TimeIndex() {
            @Override
            public byte[] toIndexKey(byte[] k) {
                int keyLen = k.length - 16;
                byte[] out = new byte[k.length];
                System.arraycopy(k, keyLen, out, 0, 16);
                System.arraycopy(k, 0, out, 16, keyLen);
                return out;
            }

            @Override
            public byte[] fromIndexKey(byte[] t) {
                int keyLen = t.length - 16;
                byte[] out = new byte[t.length];
                System.arraycopy(t, 16, out, 0, keyLen);
                System.arraycopy(t, 0, out, keyLen, 16);
                return out;
            }
        };
    }

    private final String name;
    private final long retentionPeriod;
    private final long segmentInterval;
    private final KeySchema keySchema;
    private final boolean windowSchema;
    private final TimeIndex timeIndex;
    private final int prefixLength;
    private final StoreCore core;
    /** Ids of the segments that hold (or held since the last drop) data: Kafka's segment map. */
    private final NavigableSet<Long> segments;
    /** Stream time as the store has observed it; shared with the store's views. */
    private final StreamTime streamTime;
    /** What this instance reads: the store itself reads everything written, a view what it was made for. */
    private final ReadIsolation isolation;
    private InternalProcessorContext<?, ?> internalContext;
    private Sensor expiredRecordSensor;

    /** The largest timestamp a store has seen (written by the stream or restore thread, read by any). */
    private static final class StreamTime {
        volatile long value = -1L;
    }

    public MmapSegmentedBytesStore(String name, String metricsScope, long retentionPeriod, long segmentInterval,
                                   KeySchema keySchema) {
        this(name, metricsScope, retentionPeriod, segmentInterval, keySchema, null);
    }

    public MmapSegmentedBytesStore(String name, String metricsScope, long retentionPeriod, long segmentInterval,
                                   KeySchema keySchema, TimeIndex timeIndex) {
        this.name = Objects.requireNonNull(name, "name cannot be null");
        if (segmentInterval <= 0) {
            throw new IllegalArgumentException("segmentInterval must be positive, got " + segmentInterval);
        }
        this.retentionPeriod = retentionPeriod;
        this.segmentInterval = segmentInterval;
        this.keySchema = Objects.requireNonNull(keySchema, "keySchema cannot be null");
        this.windowSchema = keySchema instanceof WindowKeySchema;
        this.timeIndex = timeIndex;
        this.prefixLength = timeIndex == null ? 8 : 9;
        this.core = new StoreCore(name, metricsScope, true);
        this.core.openLazily();
        this.segments = new ConcurrentSkipListSet<>();
        this.streamTime = new StreamTime();
        this.isolation = ReadIsolation.LATEST;
    }

    /** A read-only view of {@code owner} reading at {@code isolation}: same engine, segments and stream time. */
    private MmapSegmentedBytesStore(MmapSegmentedBytesStore owner, ReadIsolation isolation) {
        this.name = owner.name;
        this.retentionPeriod = owner.retentionPeriod;
        this.segmentInterval = owner.segmentInterval;
        this.keySchema = owner.keySchema;
        this.windowSchema = owner.windowSchema;
        this.timeIndex = owner.timeIndex;
        this.prefixLength = owner.prefixLength;
        this.core = owner.core;
        this.segments = owner.segments;
        this.streamTime = owner.streamTime;
        this.isolation = isolation;
    }

    /**
     * This store as a read at {@code isolation} sees it: {@link ReadIsolation#COMMITTED} reads the state as
     * of the last commit while the stream thread goes on writing. Read-only.
     */
    MmapSegmentedBytesStore view(ReadIsolation isolation) {
        return isolation == this.isolation ? this : new MmapSegmentedBytesStore(this, isolation);
    }

    private void checkWritable() {
        if (isolation != ReadIsolation.LATEST) {
            throw new UnsupportedOperationException("the committed view of store " + name + " is read-only");
        }
    }

    // ---- segment arithmetic (as AbstractSegments) ------------------------------------------------

    long segmentId(long timestamp) {
        return timestamp / segmentInterval;
    }

    private long minLiveSegment(long streamTime) {
        return segmentId(streamTime - retentionPeriod);
    }

    private long getActualFrom(long from) {
        // Kafka's time-ordered window store (the one emit-on-window-close uses) keeps one more millisecond
        return timeIndex != null && windowSchema
                ? Math.max(from, streamTime.value - retentionPeriod)
                : Math.max(from, streamTime.value - retentionPeriod + 1L);
    }

    static long partition(long segmentId) {
        return segmentId ^ Long.MIN_VALUE;
    }

    private byte[] prefix(long segmentId, byte tag) {
        ByteBuffer b = ByteBuffer.allocate(prefixLength).putLong(partition(segmentId));
        if (timeIndex != null) {
            b.put(tag);
        }
        return b.array();
    }

    private byte[] engineKey(long segmentId, byte tag, byte[] key) {
        byte[] out = new byte[prefixLength + key.length];
        ByteBuffer.wrap(out).putLong(partition(segmentId));
        if (timeIndex != null) {
            out[8] = tag;
        }
        System.arraycopy(key, 0, out, prefixLength, key.length);
        return out;
    }

    private byte[] stripPrefix(byte[] engineKey) {
        return Arrays.copyOfRange(engineKey, prefixLength, engineKey.length);
    }

    /** Live segment ids overlapping [timeFrom, timeTo], in iteration order; empty if from > to. */
    private List<Long> segments(long timeFrom, long timeTo, boolean forward) {
        long from = segmentId(timeFrom);
        long to = segmentId(timeTo);
        if (from > to) {
            return List.of();
        }
        NavigableSet<Long> sub = segments.subSet(from, true, to, true);
        return new ArrayList<>(forward ? sub : sub.descendingSet());
    }

    /** The schema's own choice of segments for a fetch (window: [from, to]; session: [from, max]). */
    private List<Long> segmentsToSearch(long from, long to, boolean forward) {
        return windowSchema ? segments(from, to, forward) : segments(from, Long.MAX_VALUE, forward);
    }

    /** Drops every segment below the minimum live one; the files go at the next commit. */
    private void cleanupExpiredSegments(long streamTime) {
        long minLive = minLiveSegment(streamTime);
        NavigableSet<Long> expired = segments.headSet(minLive, false);
        if (expired.isEmpty()) {
            return;
        }
        try {
            core.engine().dropPartitionsBelow(partition(minLive));
        } catch (EngineException ex) {
            throw core.translate("dropping expired segments of", ex);
        }
        expired.clear();
    }

    // ---- reads ----------------------------------------------------------------------------------

    @Override
    public KeyValueIterator<Bytes, byte[]> fetch(Bytes key, long from, long to) {
        return fetch(key, from, to, true);
    }

    @Override
    public KeyValueIterator<Bytes, byte[]> backwardFetch(Bytes key, long from, long to) {
        return fetch(key, from, to, false);
    }

    KeyValueIterator<Bytes, byte[]> fetch(Bytes key, long from, long to, boolean forward) {
        Objects.requireNonNull(key, "key cannot be null");
        long actualFrom = getActualFrom(from);
        if (windowSchema && to < actualFrom) {
            LOG.debug("Returning no records for key {} as to ({}) < actualFrom ({}) ", key, to, actualFrom);
            return EmptyIterator.instance();
        }
        List<Long> searchSpace = segmentsToSearch(actualFrom, to, forward);
        Bytes binaryFrom = keySchema.lowerRangeFixedSize(key, actualFrom);
        Bytes binaryTo = keySchema.upperRangeFixedSize(key, to);
        return new SegmentIterator(searchSpace, keySchema.hasNextCondition(key, key, actualFrom, to, forward),
                binaryFrom, binaryTo, forward, TAG_PRIMARY);
    }

    @Override
    public KeyValueIterator<Bytes, byte[]> fetch(Bytes keyFrom, Bytes keyTo, long from, long to) {
        return fetch(keyFrom, keyTo, from, to, true);
    }

    @Override
    public KeyValueIterator<Bytes, byte[]> backwardFetch(Bytes keyFrom, Bytes keyTo, long from, long to) {
        return fetch(keyFrom, keyTo, from, to, false);
    }

    KeyValueIterator<Bytes, byte[]> fetch(Bytes keyFrom, Bytes keyTo, long from, long to, boolean forward) {
        if (keyFrom != null && keyTo != null && keyFrom.compareTo(keyTo) > 0) {
            LOG.warn(INVALID_RANGE_WARNING);
            return EmptyIterator.instance();
        }
        long actualFrom = getActualFrom(from);
        if (windowSchema && to < actualFrom) {
            LOG.debug("Returning no records for keys {}/{} as to ({}) < actualFrom ({}) ", keyFrom, keyTo, to, actualFrom);
            return EmptyIterator.instance();
        }
        List<Long> searchSpace = segmentsToSearch(actualFrom, to, forward);
        Bytes binaryFrom = keyFrom == null ? null : keySchema.lowerRange(keyFrom, actualFrom);
        Bytes binaryTo = keyTo == null ? null : keySchema.upperRange(keyTo, to);
        return new SegmentIterator(searchSpace, keySchema.hasNextCondition(keyFrom, keyTo, actualFrom, to, forward),
                binaryFrom, binaryTo, forward, TAG_PRIMARY);
    }

    @Override
    public KeyValueIterator<Bytes, byte[]> all() {
        return all(true);
    }

    @Override
    public KeyValueIterator<Bytes, byte[]> backwardAll() {
        return all(false);
    }

    private KeyValueIterator<Bytes, byte[]> all(boolean forward) {
        long actualFrom = getActualFrom(0L);
        List<Long> searchSpace = segmentsToSearch(actualFrom, Long.MAX_VALUE, forward);
        return new SegmentIterator(searchSpace, keySchema.hasNextCondition(null, null, actualFrom, Long.MAX_VALUE, forward),
                null, null, forward, TAG_PRIMARY);
    }

    @Override
    public KeyValueIterator<Bytes, byte[]> fetchAll(long timeFrom, long timeTo) {
        return fetchAll(timeFrom, timeTo, true);
    }

    @Override
    public KeyValueIterator<Bytes, byte[]> backwardFetchAll(long timeFrom, long timeTo) {
        return fetchAll(timeFrom, timeTo, false);
    }

    private KeyValueIterator<Bytes, byte[]> fetchAll(long timeFrom, long timeTo, boolean forward) {
        long actualFrom = getActualFrom(timeFrom);
        if (windowSchema && timeTo < actualFrom) {
            LOG.debug("Returning no records for as timeTo ({}) < actualFrom ({}) ", timeTo, actualFrom);
            return EmptyIterator.instance();
        }
        List<Long> searchSpace = segments(actualFrom, timeTo, forward);
        return new SegmentIterator(searchSpace, keySchema.hasNextCondition(null, null, actualFrom, timeTo, forward),
                null, null, forward, TAG_PRIMARY);
    }

    boolean hasTimeIndex() {
        return timeIndex != null;
    }

    /**
     * Window rows with start time in [timeFrom, timeTo] in time-first order (needs the time index), as
     * Kafka's time-ordered window store returns them to emit-on-window-close.
     */
    KeyValueIterator<Bytes, byte[]> fetchAllByTime(long timeFrom, long timeTo, boolean forward) {
        long actualFrom = getActualFrom(timeFrom);
        if (timeTo < actualFrom) {
            return EmptyIterator.instance();
        }
        return byTime(segments(actualFrom, timeTo, forward), actualFrom, timeTo, forward);
    }

    /** Session rows with end time in [earliestEnd, latestEnd], end-time order (Kafka's {@code fetchSessions}). */
    KeyValueIterator<Bytes, byte[]> fetchSessionsByEndTime(long earliestEnd, long latestEnd) {
        return byTime(segments(earliestEnd, latestEnd, true), earliestEnd, latestEnd, true);
    }

    /**
     * Rows of keys in [keyFrom, keyTo] (null = open) with start time in [from, to], in time-first order: how
     * Kafka's time-ordered window store without key index (tumbling and hopping windows that emit on
     * close) answers a key-range fetch.
     */
    KeyValueIterator<Bytes, byte[]> fetchKeyRangeByTime(Bytes keyFrom, Bytes keyTo, long from, long to, boolean forward) {
        if (keyFrom != null && keyTo != null && keyFrom.compareTo(keyTo) > 0) {
            LOG.warn(INVALID_RANGE_WARNING);
            return EmptyIterator.instance();
        }
        long actualFrom = getActualFrom(from);
        if (to < actualFrom) {
            return EmptyIterator.instance();
        }
        return byTime(segments(actualFrom, to, forward), actualFrom, to, forward,
                keySchema.hasNextCondition(keyFrom, keyTo, actualFrom, to, forward));
    }

    private KeyValueIterator<Bytes, byte[]> byTime(List<Long> searchSpace, long timeFrom, long timeTo, boolean forward) {
        return byTime(searchSpace, timeFrom, timeTo, forward, null);
    }

    private KeyValueIterator<Bytes, byte[]> byTime(List<Long> searchSpace, long timeFrom, long timeTo, boolean forward,
                                                   HasNextCondition keyCondition) {
        if (timeIndex == null) {
            throw new UnsupportedOperationException("This API is not supported by this implementation of SessionStore.");
        }
        Bytes binaryFrom = Bytes.wrap(ByteBuffer.allocate(8).putLong(Math.max(0L, timeFrom)).array());
        Bytes binaryTo = timeTo == Long.MAX_VALUE ? null : Bytes.wrap(ByteBuffer.allocate(8).putLong(timeTo + 1).array());
        HasNextCondition condition = keyCondition != null ? keyCondition : it -> {
            while (it.hasNext()) {
                byte[] k = it.peekNextKey().get();
                long t = windowSchema ? ByteBuffer.wrap(k).getLong(k.length - 12) : ByteBuffer.wrap(k).getLong(k.length - 16);
                if (t >= timeFrom && t <= timeTo) {
                    return true;
                }
                it.next();
            }
            return false;
        };
        return new SegmentIterator(searchSpace, condition, binaryFrom, binaryTo, forward, TAG_TIME) {
            @Override
            boolean toInclusive() {
                return false;
            }
        };
    }

    @Override
    public byte[] get(Bytes key) {
        Objects.requireNonNull(key, "key cannot be null");
        long timestamp = keySchema.segmentTimestamp(key);
        if (timestamp < streamTime.value - retentionPeriod + 1L) {
            LOG.debug("Record with key {} is expired as timestamp from key ({}) < actual stream time ({})",
                    key, timestamp, streamTime.value - retentionPeriod + 1L);
            return null;
        }
        long segmentId = segmentId(timestamp);
        if (!segments.contains(segmentId)) {
            return null;
        }
        try {
            return core.engine().get(engineKey(segmentId, TAG_PRIMARY, key.get()), isolation);
        } catch (EngineException ex) {
            throw core.translate("reading from", ex);
        }
    }

    // ---- writes ---------------------------------------------------------------------------------

    @Override
    public void remove(Bytes key) {
        Objects.requireNonNull(key, "key cannot be null");
        checkWritable();
        long timestamp = keySchema.segmentTimestamp(key);
        streamTime.value = Math.max(streamTime.value, timestamp);
        long segmentId = segmentId(timestamp);
        if (!segments.contains(segmentId)) {
            return;
        }
        StoreEngine e = core.engine();
        core.beforeWrite();
        synchronized (core.position()) {
            try {
                write(e, segmentId, key.get(), null);
            } catch (EngineException ex) {
                throw core.translate("writing to", ex);
            }
        }
    }

    @Override
    public void put(Bytes key, byte[] value) {
        Objects.requireNonNull(key, "key cannot be null");
        checkWritable();
        long timestamp = keySchema.segmentTimestamp(key);
        streamTime.value = Math.max(streamTime.value, timestamp);
        long segmentId = segmentId(timestamp);
        StoreEngine e = core.engine();
        if (segmentId < minLiveSegment(streamTime.value)) {
            expiredRecordSensor.record(1.0, internalContext.currentSystemTimeMs());
            return;
        }
        segments.add(segmentId);
        cleanupExpiredSegments(streamTime.value);
        core.beforeWrite();
        synchronized (core.position()) {
            core.updatePosition();
            try {
                write(e, segmentId, key.get(), value);
            } catch (EngineException ex) {
                throw core.translate("writing to", ex);
            }
        }
    }

    private void write(StoreEngine e, long segmentId, byte[] key, byte[] value) {
        if (timeIndex == null) {
            byte[] k = engineKey(segmentId, TAG_PRIMARY, key);
            if (value == null) {
                e.delete(k);
            } else {
                e.put(k, value);
            }
        } else {
            List<KeyValue> batch = new ArrayList<>(2);
            batch.add(new KeyValue(engineKey(segmentId, TAG_PRIMARY, key), value));
            batch.add(new KeyValue(engineKey(segmentId, TAG_TIME, timeIndex.toIndexKey(key)), value));
            e.write(batch);
        }
    }

    // ---- lifecycle ------------------------------------------------------------------------------

    @Override
    public String name() {
        return name;
    }

    @Override
    public void init(StateStoreContext context, StateStore root) {
        this.internalContext = ProcessorContextUtils.asInternalProcessorContext(context);
        this.expiredRecordSensor = TaskMetrics.droppedRecordsSensor(Thread.currentThread().getName(),
                context.taskId().toString(), ProcessorContextUtils.metricsImpl(context));
        core.init(context, root, new Restorer());
        segments.clear();
        if (!core.engineOpen()) {
            return; // a new store: the engine opens at the first write or commit
        }
        try {
            loadSegments();
        } catch (RuntimeException ex) {
            core.close();
            throw ex;
        }
        cleanupExpiredSegments(streamTime.value);
    }

    /** Rebuilds the set of segment ids from the partitions present in the engine: one seek per segment. */
    private void loadSegments() {
        StoreEngine e = core.engine();
        byte[] from = new byte[8];
        while (true) {
            long partition;
            try (EngineIterator it = e.range(from, true, null, true, false)) {
                if (!it.hasNext()) {
                    return;
                }
                partition = ByteBuffer.wrap(it.peekNextKey()).getLong();
            } catch (EngineException ex) {
                throw core.translate("opening", ex);
            }
            segments.add(partition ^ Long.MIN_VALUE);
            if (partition == -1L) {
                return; // the largest unsigned partition
            }
            from = ByteBuffer.allocate(8).putLong(partition + 1).array();
        }
    }

    /** Restore with Kafka's expiry rules: stream time advances over the whole batch first. */
    private final class Restorer implements StoreCore.RestoreMapper {
        @Override
        public void beforeBatch(Collection<ConsumerRecord<byte[], byte[]>> records) {
            long t = streamTime.value;
            for (ConsumerRecord<byte[], byte[]> r : records) {
                t = Math.max(t, keySchema.segmentTimestamp(Bytes.wrap(r.key())));
            }
            streamTime.value = t;
            cleanupExpiredSegments(t);
        }

        @Override
        public KeyValue map(ConsumerRecord<byte[], byte[]> record) {
            long segmentId = segmentId(keySchema.segmentTimestamp(Bytes.wrap(record.key())));
            if (segmentId < minLiveSegment(streamTime.value)) {
                return null;
            }
            segments.add(segmentId);
            return new KeyValue(engineKey(segmentId, TAG_PRIMARY, record.key()), record.value());
        }

        @Override
        public KeyValue companion(ConsumerRecord<byte[], byte[]> record, KeyValue mapped) {
            if (timeIndex == null) {
                return null;
            }
            // the time-first copy goes into the same batch, right behind the primary row
            long segmentId = segmentId(keySchema.segmentTimestamp(Bytes.wrap(record.key())));
            return new KeyValue(engineKey(segmentId, TAG_TIME, timeIndex.toIndexKey(record.key())), record.value());
        }
    }

    @Override
    public void commit(Map<TopicPartition, Long> changelogOffsets) {
        core.commit(changelogOffsets);
    }

    @Override
    public boolean managesOffsets() {
        return true;
    }

    @Override
    public Long committedOffset(TopicPartition partition) {
        return core.committedOffset(partition);
    }

    @Override
    @SuppressWarnings("deprecation")
    public void flush() {
    }

    @Override
    public void close() {
        core.close();
        segments.clear();
    }

    void simulateCrash() {
        core.simulateCrash();
        segments.clear();
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
    public Position getPosition() {
        return core.position();
    }

    StoreCore core() {
        return core;
    }

    /** Segment ids present, ascending (for tests). */
    List<Long> segmentIds() {
        return List.copyOf(segments);
    }

    long observedStreamTime() {
        return streamTime.value;
    }

    // ---- iteration ------------------------------------------------------------------------------

    /**
     * Walks the given segments one after another, each with one engine range read, and yields the rows
     * the schema's condition accepts. Lazy like Kafka's: a segment is opened when reached. A store closed
     * under it ends the iteration quietly, as Kafka's does.
     */
    private class SegmentIterator implements KeyValueIterator<Bytes, byte[]> {
        private final java.util.Iterator<Long> segmentIds;
        private final HasNextCondition condition;
        private final Bytes from;
        private final Bytes to;
        private final boolean forward;
        private final byte tag;
        private KeyValueIterator<Bytes, byte[]> current;
        /**
         * The one state every segment's range is read from. A committed read takes it with the list of time
         * segments (when the fetch is made), so that an iterator read after a commit never mixes two commits.
         * A latest read takes it at its first use, as Kafka's segmented stores open their segments' iterators
         * (Kafka's conformance suite expects an iterator to see writes made between the fetch and its first
         * {@code next()}). Null before it is taken, or when there is nothing to read.
         */
        private EngineSnapshot snapshot;
        private boolean closed;

        SegmentIterator(List<Long> segmentIds, HasNextCondition condition, Bytes from, Bytes to, boolean forward, byte tag) {
            this.segmentIds = segmentIds.iterator();
            this.condition = condition;
            this.from = from;
            this.to = to;
            this.forward = forward;
            this.tag = tag;
            if (!segmentIds.isEmpty() && isolation == ReadIsolation.COMMITTED) {
                takeSnapshot();
            }
        }

        private void takeSnapshot() {
            try {
                snapshot = core.trackSnapshot(core.engine().snapshot(isolation));
            } catch (InvalidStateStoreException | EngineClosedException ex) {
                closed = true; // a store closed under the fetch: nothing to read, as Kafka's segmented stores
            } catch (EngineException ex) {
                throw core.translate("reading from", ex);
            }
        }

        boolean toInclusive() {
            return true;
        }

        private KeyValueIterator<Bytes, byte[]> open(long segmentId) {
            byte[] prefix = prefix(segmentId, tag);
            byte[] lo = from == null ? prefix : concat(prefix, from.get());
            byte[] hi;
            boolean hiInclusive;
            if (to == null) {
                hi = KeyOrder.prefixUpperBound(prefix);
                hiInclusive = false;
            } else {
                hi = concat(prefix, to.get());
                hiInclusive = toInclusive();
            }
            UnaryOperator<byte[]> mapper = tag == TAG_TIME
                    ? k -> timeIndex.fromIndexKey(stripPrefix(k))
                    : MmapSegmentedBytesStore.this::stripPrefix;
            if (snapshot == null && !closed) {
                takeSnapshot();
            }
            try {
                if (snapshot == null) {
                    throw new InvalidStateStoreException("Store " + name + " is currently closed");
                }
                EngineIterator inner = snapshot.range(lo, true, hi, hiInclusive, !forward);
                return core.track(inner, mapper);
            } catch (EngineClosedException ex) {
                if (!core.isOpen()) {
                    throw new InvalidStateStoreException("Store " + name + " is currently closed");
                }
                throw core.translate("reading from", ex);
            } catch (EngineException ex) {
                throw core.translate("reading from", ex);
            }
        }

        @Override
        public boolean hasNext() {
            if (closed) {
                return false;
            }
            boolean hasNext = false;
            while ((current == null || !(hasNext = conditionHasNext())) && segmentIds.hasNext()) {
                closeCurrent();
                long id = segmentIds.next();
                try {
                    current = open(id);
                } catch (InvalidStateStoreException ex) {
                    // store closed: as Kafka's segment iterator, nothing more
                    current = null;
                }
            }
            return current != null && hasNext;
        }

        private boolean conditionHasNext() {
            try {
                return condition.hasNext(current);
            } catch (InvalidStateStoreException ex) {
                return false;
            }
        }

        @Override
        public org.apache.kafka.streams.KeyValue<Bytes, byte[]> next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return current.next();
        }

        @Override
        public Bytes peekNextKey() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return current.peekNextKey();
        }

        private void closeCurrent() {
            if (current != null) {
                current.close();
                current = null;
            }
        }

        @Override
        public void close() {
            closed = true;
            closeCurrent();
            if (snapshot != null) {
                core.untrackSnapshot(snapshot);
                snapshot.close();
                snapshot = null;
            }
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
