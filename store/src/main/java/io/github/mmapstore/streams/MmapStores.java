package io.github.mmapstore.streams;

import java.util.Objects;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;

/**
 * Factory for MmapStore suppliers, in the style of Kafka's {@code Stores}. Use the suppliers with
 * Kafka's builders ({@code Stores.keyValueStoreBuilder(MmapStores.persistentKeyValueStore("counts"),
 * ...)}) or with {@code Materialized.as(supplier)}; caching and change-logging work as for Kafka's
 * own stores.
 */
public final class MmapStores {
    private MmapStores() {
    }

    /** A persistent key-value store of plain values. */
    public static KeyValueBytesStoreSupplier persistentKeyValueStore(String name) {
        return new MmapKeyValueBytesStoreSupplier(checkName(name), MmapKeyValueBytesStoreSupplier.Format.PLAIN);
    }

    /** A persistent key-value store of timestamped values, for {@code Stores.timestampedKeyValueStoreBuilder} and the DSL. */
    public static KeyValueBytesStoreSupplier persistentTimestampedKeyValueStore(String name) {
        return new MmapKeyValueBytesStoreSupplier(checkName(name), MmapKeyValueBytesStoreSupplier.Format.TIMESTAMPED);
    }

    /** A persistent key-value store of timestamped values with headers, for {@code Stores.timestampedKeyValueStoreWithHeadersBuilder}. */
    public static KeyValueBytesStoreSupplier persistentTimestampedKeyValueStoreWithHeaders(String name) {
        return new MmapKeyValueBytesStoreSupplier.WithHeaders(checkName(name));
    }

    /**
     * A store of embeddings ({@link EmbeddingSerde} values) of exactly {@code dimension} components,
     * searchable by {@link KnnQuery} under {@code similarity}. Build it with caching disabled.
     */
    public static MmapEmbeddingStoreSupplier embeddingStore(String name, int dimension, Similarity similarity) {
        return new MmapEmbeddingStoreSupplier(name, dimension, similarity);
    }

    static String checkName(String name) {
        Objects.requireNonNull(name, "name cannot be null");
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.contains("/") || name.contains("\\")) {
            throw new IllegalArgumentException("store name '" + name + "' is not usable as a directory name");
        }
        return name;
    }
}
