package io.github.mmapstore.streams;

import io.github.mmapstore.vector.VectorValidation;
import java.util.Objects;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.KeyValueStore;

/** Supplies {@link MmapEmbeddingStore}s of one dimension and similarity. */
public final class MmapEmbeddingStoreSupplier implements KeyValueBytesStoreSupplier {
    public static final String METRICS_SCOPE = "mmapstore-embedding";

    private final String name;
    private final int dimension;
    private final Similarity similarity;

    MmapEmbeddingStoreSupplier(String name, int dimension, Similarity similarity) {
        this.name = MmapStores.checkName(name);
        this.dimension = VectorValidation.checkDimension(dimension);
        this.similarity = Objects.requireNonNull(similarity, "similarity cannot be null");
    }

    @Override
    public String name() {
        return name;
    }

    public int dimension() {
        return dimension;
    }

    public Similarity similarity() {
        return similarity;
    }

    @Override
    public KeyValueStore<Bytes, byte[]> get() {
        return new MmapEmbeddingStore(name, METRICS_SCOPE, dimension, similarity);
    }

    @Override
    public String metricsScope() {
        return METRICS_SCOPE;
    }
}
