package io.github.mmapstore.streams;

import io.github.mmapstore.streams.internals.MmapKeyValueBytesStoreSupplier;
import io.github.mmapstore.streams.internals.MmapSessionBytesStoreSupplier;
import io.github.mmapstore.streams.internals.MmapWindowBytesStoreSupplier;
import java.time.Duration;
import java.util.Objects;
import org.apache.kafka.streams.internals.ApiUtils;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.SessionBytesStoreSupplier;
import org.apache.kafka.streams.state.WindowBytesStoreSupplier;

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

    /**
     * A persistent window store of plain values, time-segmented: records older than {@code retentionPeriod}
     * are dropped whole segments at a time. {@code retainDuplicates} keeps every put (stream-stream joins).
     */
    public static WindowBytesStoreSupplier persistentWindowStore(String name, Duration retentionPeriod, Duration windowSize,
                                                                 boolean retainDuplicates) {
        return windowStore(name, retentionPeriod, windowSize, retainDuplicates, MmapKeyValueBytesStoreSupplier.Format.PLAIN, false);
    }

    /** A persistent window store of timestamped values, for {@code Stores.timestampedWindowStoreBuilder} and the DSL. */
    public static WindowBytesStoreSupplier persistentTimestampedWindowStore(String name, Duration retentionPeriod,
                                                                            Duration windowSize, boolean retainDuplicates) {
        return windowStore(name, retentionPeriod, windowSize, retainDuplicates, MmapKeyValueBytesStoreSupplier.Format.TIMESTAMPED, false);
    }

    /** A persistent window store of timestamped values with headers, for {@code Stores.timestampedWindowStoreWithHeadersBuilder}. */
    public static WindowBytesStoreSupplier persistentTimestampedWindowStoreWithHeaders(String name, Duration retentionPeriod,
                                                                                       Duration windowSize, boolean retainDuplicates) {
        return windowStore(name, retentionPeriod, windowSize, retainDuplicates, MmapKeyValueBytesStoreSupplier.Format.HEADERS, false);
    }

    /** A persistent session store. */
    public static SessionBytesStoreSupplier persistentSessionStore(String name, Duration retentionPeriod) {
        return sessionStore(name, retentionPeriod, false, false);
    }

    /** A persistent session store of aggregates with headers, for {@code Stores.sessionStoreWithHeadersBuilder}. */
    public static SessionBytesStoreSupplier persistentSessionStoreWithHeaders(String name, Duration retentionPeriod) {
        return sessionStore(name, retentionPeriod, true, false);
    }

    /** Validates as Kafka's {@code Stores.persistentWindowStore} does, with the same messages. */
    static WindowBytesStoreSupplier windowStore(String name, Duration retentionPeriod, Duration windowSize, boolean retainDuplicates,
                                                MmapKeyValueBytesStoreSupplier.Format format, boolean timeOrdered) {
        Objects.requireNonNull(name, "name cannot be null");
        String rpMsgPrefix = ApiUtils.prepareMillisCheckFailMsgPrefix(retentionPeriod, "retentionPeriod");
        long retentionMs = ApiUtils.validateMillisecondDuration(retentionPeriod, rpMsgPrefix);
        String wsMsgPrefix = ApiUtils.prepareMillisCheckFailMsgPrefix(windowSize, "windowSize");
        long windowSizeMs = ApiUtils.validateMillisecondDuration(windowSize, wsMsgPrefix);
        if (retentionMs < 0L) {
            throw new IllegalArgumentException("retentionPeriod cannot be negative");
        }
        if (windowSizeMs < 0L) {
            throw new IllegalArgumentException("windowSize cannot be negative");
        }
        if (windowSizeMs > retentionMs) {
            throw new IllegalArgumentException("The retention period of the window store " + name
                    + " must be no smaller than its window size. Got size=[" + windowSize + "], retention=[" + retentionPeriod + "]");
        }
        checkName(name);
        long segmentInterval = MmapWindowBytesStoreSupplier.defaultSegmentInterval(retentionMs);
        return format == MmapKeyValueBytesStoreSupplier.Format.HEADERS
                ? new MmapWindowBytesStoreSupplier.WithHeaders(name, retentionMs, segmentInterval, windowSizeMs, retainDuplicates, timeOrdered)
                : new MmapWindowBytesStoreSupplier(name, retentionMs, segmentInterval, windowSizeMs, retainDuplicates, format, timeOrdered);
    }

    /** Validates as Kafka's {@code Stores.persistentSessionStore} does, with the same messages. */
    static SessionBytesStoreSupplier sessionStore(String name, Duration retentionPeriod, boolean withHeaders, boolean timeOrdered) {
        Objects.requireNonNull(name, "name cannot be null");
        String msgPrefix = ApiUtils.prepareMillisCheckFailMsgPrefix(retentionPeriod, "retentionPeriod");
        long retentionMs = ApiUtils.validateMillisecondDuration(retentionPeriod, msgPrefix);
        if (retentionMs < 0L) {
            throw new IllegalArgumentException("retentionPeriod cannot be negative");
        }
        checkName(name);
        return withHeaders
                ? new MmapSessionBytesStoreSupplier.WithHeaders(name, retentionMs, timeOrdered)
                : new MmapSessionBytesStoreSupplier(name, retentionMs, timeOrdered);
    }

    /**
     * The embedding store for the DSL: {@code table(topic, ...)} or {@code toTable(Materialized.as(
     * MmapStores.timestampedEmbeddingStore(name, dim, sim)).withValueSerde(new EmbeddingSerde(dim))
     * .withCachingDisabled())}. Kafka's DSL keeps timestamped values; this store takes them as they are, so
     * {@link KnnQuery} reaches it through every Kafka layer.
     */
    public static MmapEmbeddingStoreSupplier timestampedEmbeddingStore(String name, int dimension, Similarity similarity) {
        return new MmapEmbeddingStoreSupplier(name, dimension, similarity, true);
    }

    static String checkName(String name) {
        Objects.requireNonNull(name, "name cannot be null");
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.contains("/") || name.contains("\\")) {
            throw new IllegalArgumentException("store name '" + name + "' is not usable as a directory name");
        }
        return name;
    }
}
