package io.github.mmapstore.streams;

import java.util.List;
import java.util.Objects;
import org.apache.kafka.streams.query.Query;

/**
 * Several {@link KnnQuery}s answered in one pass over an embedding store: each block of rows is scored
 * against every query while it is in cache, so a batch of {@code n} queries costs far less than
 * {@code n} searches. The answer lists one {@link KnnResult} per query, in the order of
 * {@link #queries()}; every query sees the same snapshot of the store.
 *
 * <p>An Interactive Queries v2 {@link Query}, like {@link KnnQuery}: Kafka's metered wrapper passes it
 * unchanged to the store, so a processor runs it with {@link EmbeddingSearch#topK(org.apache.kafka.streams.processor.StateStore, KnnBatchQuery)}
 * and an application with {@code KafkaStreams.query(StateQueryRequest.inStore(name).withQuery(batch))}.
 * The similarity join's batched mode ({@link EmbeddingJoins}) is built on it.
 *
 * @param queries the searches, at least one
 */
public record KnnBatchQuery(List<KnnQuery> queries) implements Query<List<KnnResult>> {
    public KnnBatchQuery {
        Objects.requireNonNull(queries, "queries cannot be null");
        queries = List.copyOf(queries);
        if (queries.isEmpty()) {
            throw new IllegalArgumentException("a KnnBatchQuery needs at least one query");
        }
    }

    public static KnnBatchQuery of(List<KnnQuery> queries) {
        return new KnnBatchQuery(queries);
    }

    @Override
    public String toString() {
        return "KnnBatchQuery[" + queries.size() + " queries]";
    }
}
