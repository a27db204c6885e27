package io.github.mmapstore.streams.internals;

import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.Query;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;

/**
 * What the window and session stores share: a typed face over one {@link MmapSegmentedBytesStore}, to
 * which the lifecycle, commits, offsets, position and Kafka's basic IQv2 queries go unchanged.
 */
abstract class SegmentedStoreFacade implements StateStore {
    protected final MmapSegmentedBytesStore bytesStore;
    protected StateStoreContext context;

    SegmentedStoreFacade(MmapSegmentedBytesStore bytesStore) {
        this.bytesStore = Objects.requireNonNull(bytesStore, "bytesStore cannot be null");
    }

    MmapSegmentedBytesStore bytesStore() {
        return bytesStore;
    }

    @Override
    public String name() {
        return bytesStore.name();
    }

    @Override
    public void init(StateStoreContext context, StateStore root) {
        bytesStore.init(context, root);
        this.context = context;
    }

    /**
     * Kafka's basic window and session queries; on Kafka 4.4 they read through {@code readOnly(level)}, so a
     * READ_COMMITTED query reads the committed view, at the position of the last commit.
     */
    @Override
    public <R> QueryResult<R> query(Query<R> query, PositionBound positionBound, QueryConfig config) {
        StoreCore core = bytesStore.core();
        return core.kafka().handleBasicQueries(query, positionBound, config, this, core.position(core.isolation(config)),
                context);
    }

    @Override
    public long approximateNumUncommittedBytes() {
        return bytesStore.core().approximateNumUncommittedBytes();
    }

    @Override
    public Position getPosition() {
        return bytesStore.getPosition();
    }

    @Override
    @SuppressWarnings("deprecation")
    public void flush() {
        bytesStore.flush();
    }

    @Override
    public void commit(Map<TopicPartition, Long> changelogOffsets) {
        bytesStore.commit(changelogOffsets);
    }

    @Override
    public boolean managesOffsets() {
        return true;
    }

    @Override
    public Long committedOffset(TopicPartition partition) {
        return bytesStore.committedOffset(partition);
    }

    @Override
    public void close() {
        bytesStore.close();
    }

    @Override
    public boolean persistent() {
        return true;
    }

    @Override
    public boolean isOpen() {
        return bytesStore.isOpen();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + name() + "]";
    }
}
