package io.github.mmapstore.benchmarks.topology;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.DslKeyValueParams;
import org.apache.kafka.streams.state.DslSessionParams;
import org.apache.kafka.streams.state.DslStoreSuppliers;
import org.apache.kafka.streams.state.DslWindowParams;
import org.apache.kafka.streams.state.HeadersBytesStore;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.SessionBytesStoreSupplier;
import org.apache.kafka.streams.state.TimestampedBytesStore;
import org.apache.kafka.streams.state.WindowBytesStoreSupplier;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;
import org.apache.kafka.streams.state.internals.WrappedStateStore;

/**
 * Benchmark-only {@link DslStoreSuppliers} decorator that makes {@code TopologyTestDriver} behave like an
 * application with a commit interval: TopologyTestDriver commits the task after <em>every</em> record
 * (its {@code completeAllProcessableWork} calls {@code prepareCommit}/{@code postCommit} per record, and
 * {@code postCommit} calls {@code commit(offsets)} on every store). The window stores returned here forward
 * only every {@code n}-th {@code commit(offsets)} to the real store (RocksDB or MmapStore) and swallow
 * the others; everything else is forwarded unchanged. Key-value and session stores are not wrapped (the
 * benchmark topologies only create window stores).
 */
final class CommitEveryNDslStoreSuppliers implements DslStoreSuppliers {
    private final DslStoreSuppliers delegate;
    private final long n;
    /** Commits forwarded / swallowed, over every store this instance created. */
    final AtomicLong forwarded = new AtomicLong();
    final AtomicLong swallowed = new AtomicLong();

    CommitEveryNDslStoreSuppliers(DslStoreSuppliers delegate, long n) {
        this.delegate = delegate;
        this.n = n;
    }

    @Override
    public void configure(Map<String, ?> configs) {
        delegate.configure(configs);
    }

    @Override
    public KeyValueBytesStoreSupplier keyValueStore(DslKeyValueParams params) {
        return delegate.keyValueStore(params);
    }

    @Override
    public SessionBytesStoreSupplier sessionStore(DslSessionParams params) {
        return delegate.sessionStore(params);
    }

    @Override
    public WindowBytesStoreSupplier windowStore(DslWindowParams params) {
        WindowBytesStoreSupplier s = delegate.windowStore(params);
        return new WindowBytesStoreSupplier() {
            @Override
            public String name() {
                return s.name();
            }

            @Override
            public WindowStore<Bytes, byte[]> get() {
                WindowStore<Bytes, byte[]> inner = s.get();
                if (inner instanceof HeadersBytesStore) {
                    throw new IllegalStateException("headers-format stores are not wrapped by this benchmark");
                }
                return inner instanceof TimestampedBytesStore
                        ? new TimestampedThrottled(inner)
                        : new Throttled(inner);
            }

            @Override
            public String metricsScope() {
                return s.metricsScope();
            }

            @Override
            public long segmentIntervalMs() {
                return s.segmentIntervalMs();
            }

            @Override
            public long windowSize() {
                return s.windowSize();
            }

            @Override
            public boolean retainDuplicates() {
                return s.retainDuplicates();
            }

            @Override
            public long retentionPeriod() {
                return s.retentionPeriod();
            }
        };
    }

    /** Marker-preserving variant: Kafka's builders check {@code instanceof TimestampedBytesStore}. */
    final class TimestampedThrottled extends Throttled implements TimestampedBytesStore {
        TimestampedThrottled(WindowStore<Bytes, byte[]> inner) {
            super(inner);
        }
    }

    class Throttled extends WrappedStateStore<WindowStore<Bytes, byte[]>, Bytes, byte[]>
            implements WindowStore<Bytes, byte[]> {
        private long calls;

        Throttled(WindowStore<Bytes, byte[]> inner) {
            super(inner);
        }

        @Override
        public void commit(Map<TopicPartition, Long> offsets) {
            if (++calls % n == 0) {
                forwarded.incrementAndGet();
                wrapped().commit(offsets);
            } else {
                swallowed.incrementAndGet();
            }
        }

        @Override
        public void put(Bytes key, byte[] value, long windowStartTimestamp) {
            wrapped().put(key, value, windowStartTimestamp);
        }

        @Override
        public byte[] fetch(Bytes key, long time) {
            return wrapped().fetch(key, time);
        }

        @Override
        public WindowStoreIterator<byte[]> fetch(Bytes key, long timeFrom, long timeTo) {
            return wrapped().fetch(key, timeFrom, timeTo);
        }

        @Override
        public WindowStoreIterator<byte[]> backwardFetch(Bytes key, long timeFrom, long timeTo) {
            return wrapped().backwardFetch(key, timeFrom, timeTo);
        }

        @Override
        public KeyValueIterator<Windowed<Bytes>, byte[]> fetch(Bytes keyFrom, Bytes keyTo, long timeFrom, long timeTo) {
            return wrapped().fetch(keyFrom, keyTo, timeFrom, timeTo);
        }

        @Override
        public KeyValueIterator<Windowed<Bytes>, byte[]> backwardFetch(Bytes keyFrom, Bytes keyTo, long timeFrom, long timeTo) {
            return wrapped().backwardFetch(keyFrom, keyTo, timeFrom, timeTo);
        }

        @Override
        public KeyValueIterator<Windowed<Bytes>, byte[]> fetchAll(long timeFrom, long timeTo) {
            return wrapped().fetchAll(timeFrom, timeTo);
        }

        @Override
        public KeyValueIterator<Windowed<Bytes>, byte[]> backwardFetchAll(long timeFrom, long timeTo) {
            return wrapped().backwardFetchAll(timeFrom, timeTo);
        }

        @Override
        public KeyValueIterator<Windowed<Bytes>, byte[]> all() {
            return wrapped().all();
        }

        @Override
        public KeyValueIterator<Windowed<Bytes>, byte[]> backwardAll() {
            return wrapped().backwardAll();
        }
    }
}
