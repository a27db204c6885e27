package io.github.mmapstore.streams.internals;

import java.util.Objects;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.HeadersBytesStoreSupplier;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.KeyValueStore;

/** Supplies MmapStore key-value stores in one of Kafka's three value formats. */
public class MmapKeyValueBytesStoreSupplier implements KeyValueBytesStoreSupplier {
    /** The value format of the stores supplied, as Kafka's DSL names them. */
    public enum Format { PLAIN, TIMESTAMPED, HEADERS }

    /** Metric scope: the tag key of store metrics is {@code mmapstore-state-id}. */
    public static final String METRICS_SCOPE = "mmapstore";

    private final String name;
    private final Format format;

    /** Internal machinery, public for {@code MmapStores}; not API. */
    public MmapKeyValueBytesStoreSupplier(String name, Format format) {
        this.name = Objects.requireNonNull(name, "name cannot be null");
        this.format = Objects.requireNonNull(format, "format cannot be null");
    }

    @Override
    public String name() {
        return name;
    }

    public Format format() {
        return format;
    }

    @Override
    public KeyValueStore<Bytes, byte[]> get() {
        return switch (format) {
            case PLAIN -> new MmapKeyValueStore(name, METRICS_SCOPE);
            case TIMESTAMPED -> new MmapTimestampedKeyValueStore(name, METRICS_SCOPE);
            case HEADERS -> new MmapTimestampedKeyValueStoreWithHeaders(name, METRICS_SCOPE);
        };
    }

    @Override
    public String metricsScope() {
        return METRICS_SCOPE;
    }

    @Override
    public String toString() {
        return "MmapKeyValueBytesStoreSupplier[" + name + ", " + format + "]";
    }

    /**
     * The headers variant also carries Kafka's {@link HeadersBytesStoreSupplier} marker: the DSL picks the
     * headers-aware store builder only for suppliers that have it.
     * <p>Internal machinery, public for {@code MmapStores}; not API.
     */
    public static final class WithHeaders extends MmapKeyValueBytesStoreSupplier implements HeadersBytesStoreSupplier {
        /** Internal machinery, public for {@code MmapStores}; not API. */
        public WithHeaders(String name) {
            super(name, Format.HEADERS);
        }
    }
}
