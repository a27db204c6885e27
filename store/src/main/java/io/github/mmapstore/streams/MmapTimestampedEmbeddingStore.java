package io.github.mmapstore.streams;

import io.github.mmapstore.vector.VectorKernels;
import org.apache.kafka.streams.state.TimestampedBytesStore;

/**
 * The embedding store for the DSL ({@code toTable(Materialized.as(MmapStores.timestampedEmbeddingStore(...)))}):
 * values are Kafka's timestamped format, {@code [8-byte record timestamp][embedding]}. Being a
 * {@link TimestampedBytesStore}, it is used by the DSL directly, without Kafka's plain-to-timestamped
 * adapter, which would refuse {@link KnnQuery} as an unknown query type.
 */
public class MmapTimestampedEmbeddingStore extends MmapEmbeddingStore implements TimestampedBytesStore {
    public MmapTimestampedEmbeddingStore(String name, String metricsScope, int dimension, Similarity similarity) {
        super(name, metricsScope, dimension, similarity, VectorKernels.best(), 8);
    }
}
