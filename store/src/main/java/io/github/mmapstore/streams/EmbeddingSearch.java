package io.github.mmapstore.streams;

import java.util.List;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;

/**
 * Searching an embedding store from a processor, through the public store API: the store a processor
 * gets from its context is Kafka's metered wrapper, which passes a {@link KnnQuery} through to the
 * embedding store unchanged. No cast to an internal class is needed.
 */
public final class EmbeddingSearch {
    private static final QueryConfig CONFIG = new QueryConfig(false);

    private EmbeddingSearch() {
    }

    /** Runs {@code query} against {@code store} (as returned by {@code context.getStateStore(name)}). */
    public static KnnResult topK(StateStore store, KnnQuery query) {
        return unwrap(store, run(store, query));
    }

    /**
     * Runs every query of {@code batch} in one pass over {@code store}; one result per query, in order.
     * All of them see the same snapshot: the writes made to the store before this call.
     */
    public static List<KnnResult> topK(StateStore store, KnnBatchQuery batch) {
        return unwrap(store, run(store, batch));
    }

    private static <R> QueryResult<R> run(StateStore store, org.apache.kafka.streams.query.Query<R> query) {
        try {
            return store.query(query, PositionBound.unbounded(), CONFIG);
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("Unsupported query type")) {
                // Kafka's KeyValueToTimestampedKeyValueByteStoreAdapter (DSL tables: toTable, Materialized)
                // refuses the successful result of any query it does not know.
                throw new IllegalArgumentException("store " + store.name() + " is a DSL table store built on "
                        + "MmapStores.embeddingStore: Kafka's timestamped adapter between the table and the store refuses "
                        + "custom queries. Materialize DSL tables with MmapStores.timestampedEmbeddingStore(...) instead", e);
            }
            throw e;
        }
    }

    private static <R> R unwrap(StateStore store, QueryResult<R> r) {
        if (r.isSuccess()) {
            return r.getResult();
        }
        String reason = r.getFailureReason() + ": " + r.getFailureMessage();
        if (r.getFailureReason() == org.apache.kafka.streams.query.FailureReason.UNKNOWN_QUERY_TYPE) {
            throw new IllegalArgumentException("store " + store.name() + " is not an MmapStore embedding store (" + reason + ")");
        }
        throw new IllegalStateException("search in store " + store.name() + " failed: " + reason);
    }
}
