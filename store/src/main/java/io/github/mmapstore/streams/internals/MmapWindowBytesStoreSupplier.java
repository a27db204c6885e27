package io.github.mmapstore.streams.internals;

import java.util.Objects;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.HeadersBytesStoreSupplier;
import org.apache.kafka.streams.state.WindowBytesStoreSupplier;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.internals.WindowKeySchema;

/** Supplies MmapStore window stores in one of Kafka's three value formats. */
public class MmapWindowBytesStoreSupplier implements WindowBytesStoreSupplier {
    /** Metric scope: the tag key of store metrics is {@code mmapstore-window-state-id}. */
    public static final String METRICS_SCOPE = "mmapstore-window";

    private final String name;
    private final long retentionPeriod;
    private final long segmentInterval;
    private final long windowSize;
    private final boolean retainDuplicates;
    private final MmapKeyValueBytesStoreSupplier.Format format;
    private final boolean timeOrdered;
    private boolean keyRangeInTimeOrder;

    /** Internal machinery, public for {@code MmapStores}; not API. */
    public MmapWindowBytesStoreSupplier(String name, long retentionPeriod, long segmentInterval, long windowSize,
                                 boolean retainDuplicates, MmapKeyValueBytesStoreSupplier.Format format, boolean timeOrdered) {
        this.name = Objects.requireNonNull(name, "name cannot be null");
        this.retentionPeriod = retentionPeriod;
        this.segmentInterval = segmentInterval;
        this.windowSize = windowSize;
        this.retainDuplicates = retainDuplicates;
        this.format = Objects.requireNonNull(format, "format cannot be null");
        this.timeOrdered = timeOrdered;
    }

    /**
     * For the DSL's non-sliding emit-on-window-close stores: key-range fetches in time order, as Kafka's.
     * Internal machinery, public for {@code MmapDslStoreSuppliers}; not API.
     */
    public MmapWindowBytesStoreSupplier withKeyRangeInTimeOrder() {
        this.keyRangeInTimeOrder = timeOrdered;
        return this;
    }

    /** Kafka's default segment interval for a retention period. Internal machinery, public for {@code MmapStores}; not API. */
    public static long defaultSegmentInterval(long retentionMs) {
        return Math.max(retentionMs / 2L, 60_000L);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public WindowStore<Bytes, byte[]> get() {
        MmapSegmentedBytesStore bytes = new MmapSegmentedBytesStore(name, METRICS_SCOPE, retentionPeriod, segmentInterval,
                new WindowKeySchema(), timeOrdered ? MmapSegmentedBytesStore.TimeIndex.WINDOW : null);
        MmapWindowStore store = switch (format) {
            case PLAIN -> new MmapWindowStore(bytes, retainDuplicates, windowSize);
            case TIMESTAMPED -> new MmapTimestampedWindowStore(bytes, retainDuplicates, windowSize);
            case HEADERS -> new MmapTimestampedWindowStoreWithHeaders(bytes, retainDuplicates, windowSize);
        };
        if (keyRangeInTimeOrder) {
            store.keyRangeInTimeOrder();
        }
        return store;
    }

    @Override
    public String metricsScope() {
        return METRICS_SCOPE;
    }

    @Override
    public long segmentIntervalMs() {
        return segmentInterval;
    }

    @Override
    public long windowSize() {
        return windowSize;
    }

    @Override
    public boolean retainDuplicates() {
        return retainDuplicates;
    }

    @Override
    public long retentionPeriod() {
        return retentionPeriod;
    }

    public MmapKeyValueBytesStoreSupplier.Format format() {
        return format;
    }

    /** Whether the stores keep a time-ordered copy for emit-on-window-close. */
    public boolean timeOrdered() {
        return timeOrdered;
    }

    @Override
    public String toString() {
        return "MmapWindowBytesStoreSupplier{name='" + name + "', retentionPeriod=" + retentionPeriod
                + ", segmentInterval=" + segmentInterval + ", windowSize=" + windowSize
                + ", retainDuplicates=" + retainDuplicates + ", format=" + format + ", timeOrdered=" + timeOrdered + "}";
    }

    /**
     * The headers variant carries Kafka's marker: the DSL picks the headers-aware builder only for suppliers that have it.
     * Internal machinery, public for {@code MmapStores}; not API.
     */
    public static final class WithHeaders extends MmapWindowBytesStoreSupplier implements HeadersBytesStoreSupplier {
        /** Internal machinery, public for {@code MmapStores}; not API. */
        public WithHeaders(String name, long retentionPeriod, long segmentInterval, long windowSize, boolean retainDuplicates,
                    boolean timeOrdered) {
            super(name, retentionPeriod, segmentInterval, windowSize, retainDuplicates,
                    MmapKeyValueBytesStoreSupplier.Format.HEADERS, timeOrdered);
        }
    }
}
