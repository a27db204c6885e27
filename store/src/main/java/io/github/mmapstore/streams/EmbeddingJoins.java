package io.github.mmapstore.streams;

import java.time.Duration;
import java.util.Objects;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;

/**
 * Similarity joins on {@link KStream}s: enrich every query record with its top-k matches in an embedding
 * store of the same topology. The store must be co-partitioned with the query stream (same number of
 * partitions, keyed so that a query lands on the task holding the embeddings it should see); each task
 * searches its own partition of the store. To search every partition, use Interactive Queries and
 * {@link KnnFanOut} instead.
 *
 * <pre>{@code
 * builder.stream("embeddings", Consumed.with(Serdes.String(), new EmbeddingSerde(768)))
 *        .process(...writes into "docs"...)   // or a PAPI store: Stores.keyValueStoreBuilder(
 *                                             //   MmapStores.embeddingStore("docs", 768, COSINE), ...).withCachingDisabled()
 * KStream<String, KnnResult> matches = EmbeddingJoins.topK(queries, "docs", 10);
 * matches.to("matches", Produced.with(Serdes.String(), new KnnResultSerde()));
 * }</pre>
 *
 * See {@link SimilarityJoin} for which writes a query sees, unbatched and batched.
 */
public final class EmbeddingJoins {
    private EmbeddingJoins() {
    }

    /** Each query vector enriched with its top {@code k} in {@code storeName}, searched as it arrives. */
    public static <K> KStream<K, KnnResult> topK(KStream<K, float[]> queries, String storeName, int k) {
        return join(queries, SimilarityJoin.topK(storeName, k));
    }

    /**
     * Each query vector enriched with its top {@code k} in {@code storeName}, searched in batches of up
     * to {@code maxBatch} queries at least every {@code interval} (wall-clock).
     */
    public static <K> KStream<K, KnnResult> topK(KStream<K, float[]> queries, String storeName, int k,
                                                 Duration interval, int maxBatch) {
        return join(queries, SimilarityJoin.<K>topK(storeName, k).batched(interval, maxBatch));
    }

    /** Runs {@code join} on {@code queries} (keys unchanged, no repartitioning). */
    public static <K, V, VR> KStream<K, VR> join(KStream<K, V> queries, SimilarityJoin<K, V, VR> join) {
        Objects.requireNonNull(queries, "queries cannot be null");
        return queries.processValues(join.fixedKey(), join.storeName());
    }

    /** As {@link #join(KStream, SimilarityJoin)}, with a name for the processor. */
    public static <K, V, VR> KStream<K, VR> join(KStream<K, V> queries, SimilarityJoin<K, V, VR> join, Named named) {
        Objects.requireNonNull(queries, "queries cannot be null");
        return queries.processValues(join.fixedKey(), named, join.storeName());
    }
}
