package io.github.mmapstore.streams.internals;

import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.Query;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.state.HeadersBytesStore;
import org.apache.kafka.streams.state.TimestampedBytesStore;

/**
 * A window store of values with headers ({@code [varint size][headers][8-byte timestamp][value]}). Like
 * Kafka's {@code RocksDBTimestampedWindowStoreWithHeaders}, it answers no IQv2 query type itself.
 */
public class MmapTimestampedWindowStoreWithHeaders extends MmapWindowStore implements TimestampedBytesStore, HeadersBytesStore {
    public MmapTimestampedWindowStoreWithHeaders(MmapSegmentedBytesStore bytesStore, boolean retainDuplicates, long windowSize) {
        super(bytesStore, retainDuplicates, windowSize);
    }

    /**
     * Kafka 4.4 answers the basic queries here too (its metered layer turns the KIP-1356 headers queries
     * into them); Kafka 4.3's store of this format answers none, and so does this one there.
     */
    @Override
    public <R> QueryResult<R> query(Query<R> query, PositionBound positionBound, QueryConfig config) {
        if (bytesStore.core().kafka().headersStoresAnswerBasicQueries()) {
            return super.query(query, positionBound, config);
        }
        long start = config.isCollectExecutionInfo() ? System.nanoTime() : -1L;
        Position position = getPosition();
        synchronized (position) {
            QueryResult<R> result = QueryResult.forUnknownQueryType(query, this);
            if (config.isCollectExecutionInfo()) {
                result.addExecutionInfo("Handled in " + getClass() + " in " + (System.nanoTime() - start) + "ns");
            }
            result.setPosition(position.copy());
            return result;
        }
    }
}
