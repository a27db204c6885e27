package io.github.mmapstore.streams.internals;

import java.util.Objects;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.HeadersBytesStoreSupplier;
import org.apache.kafka.streams.state.SessionBytesStoreSupplier;
import org.apache.kafka.streams.state.SessionStore;
import org.apache.kafka.streams.state.internals.SessionKeySchema;

/** Supplies MmapStore session stores, plain or with headers. */
public class MmapSessionBytesStoreSupplier implements SessionBytesStoreSupplier {
    /** Metric scope: the tag key of store metrics is {@code mmapstore-session-state-id}. */
    public static final String METRICS_SCOPE = "mmapstore-session";

    private final String name;
    private final long retentionPeriod;
    private final boolean timeOrdered;

    /** Internal machinery, public for {@code MmapStores}; not API. */
    public MmapSessionBytesStoreSupplier(String name, long retentionPeriod, boolean timeOrdered) {
        this.name = Objects.requireNonNull(name, "name cannot be null");
        this.retentionPeriod = retentionPeriod;
        this.timeOrdered = timeOrdered;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public SessionStore<Bytes, byte[]> get() {
        MmapSegmentedBytesStore bytes = new MmapSegmentedBytesStore(name, METRICS_SCOPE, retentionPeriod, segmentIntervalMs(),
                new SessionKeySchema(), timeOrdered ? MmapSegmentedBytesStore.TimeIndex.SESSION : null);
        return this instanceof HeadersBytesStoreSupplier ? new MmapSessionStoreWithHeaders(bytes) : new MmapSessionStore(bytes);
    }

    @Override
    public String metricsScope() {
        return METRICS_SCOPE;
    }

    @Override
    public long segmentIntervalMs() {
        return Math.max(retentionPeriod / 2L, 60_000L);
    }

    @Override
    public long retentionPeriod() {
        return retentionPeriod;
    }

    /** Whether the stores keep an end-time-ordered copy for emit-on-window-close. */
    public boolean timeOrdered() {
        return timeOrdered;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "{name='" + name + "', retentionPeriod=" + retentionPeriod
                + ", timeOrdered=" + timeOrdered + "}";
    }

    /**
     * The headers variant carries Kafka's marker: the DSL picks the headers-aware builder only for suppliers that have it.
     * Internal machinery, public for {@code MmapStores}; not API.
     */
    public static final class WithHeaders extends MmapSessionBytesStoreSupplier implements HeadersBytesStoreSupplier {
        /** Internal machinery, public for {@code MmapStores}; not API. */
        public WithHeaders(String name, long retentionPeriod, boolean timeOrdered) {
            super(name, retentionPeriod, timeOrdered);
        }
    }
}
