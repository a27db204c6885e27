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
    private final boolean timestamped;

    MmapEmbeddingStoreSupplier(String name, int dimension, Similarity similarity) {
        this(name, dimension, similarity, false);
    }

    MmapEmbeddingStoreSupplier(String name, int dimension, Similarity similarity, boolean timestamped) {
        this.timestamped = timestamped;
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
        return timestamped
                ? new MmapTimestampedEmbeddingStore(name, METRICS_SCOPE, dimension, similarity)
                : new MmapEmbeddingStore(name, METRICS_SCOPE, dimension, similarity);
    }

    @Override
    public String metricsScope() {
        return METRICS_SCOPE;
    }
}
