package io.github.mmapstore.streams;

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
        QueryResult<KnnResult> r = store.query(query, PositionBound.unbounded(), CONFIG);
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
