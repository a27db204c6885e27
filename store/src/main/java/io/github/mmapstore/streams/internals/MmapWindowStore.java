package io.github.mmapstore.streams.internals;

import io.github.mmapstore.engine.ReadIsolation;
import java.nio.ByteBuffer;
import java.util.NoSuchElementException;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;
import org.apache.kafka.streams.state.internals.CachingWindowStore;
import org.apache.kafka.streams.state.internals.WindowKeySchema;
import org.apache.kafka.streams.state.internals.WrappedStateStore;

/**
 * A {@code WindowStore<Bytes, byte[]>} on a {@link MmapSegmentedBytesStore}: the counterpart of Kafka's
 * {@code RocksDBWindowStore}. Keys are Kafka's window layout {@code [key][8-byte start][4-byte seqnum]};
 * with {@code retainDuplicates} (stream-stream joins) every put gets the next sequence number, so equal
 * keys and times are all kept, and a null value is ignored as Kafka does.
 *
 * <p>A store created for emit-on-window-close keeps a time-ordered copy of its rows and answers
 * {@code fetchAll} in window-start order, as Kafka's time-ordered window store does, unless Kafka's
 * caching layer sits above it (the cache merges with the store in key order, so then key order it is).
 */
public class MmapWindowStore extends SegmentedStoreFacade implements WindowStore<Bytes, byte[]> {
    private final boolean retainDuplicates;
    private final long windowSize;
    private int seqnum;
    private boolean fetchAllByTime;
    private boolean keyRangeByTime;
    private boolean keyRangeByTimeRequested;

    public MmapWindowStore(MmapSegmentedBytesStore bytesStore, boolean retainDuplicates, long windowSize) {
        super(bytesStore);
        this.retainDuplicates = retainDuplicates;
        this.windowSize = windowSize;
    }

    /**
     * Key-range fetches in time order too, as Kafka's time-ordered window store without key index (the
     * one the DSL uses for tumbling and hopping windows that emit on close) answers them.
     */
    void keyRangeInTimeOrder() {
        this.keyRangeByTimeRequested = true;
    }

    @Override
    public void init(StateStoreContext context, StateStore root) {
        super.init(context, root);
        this.fetchAllByTime = bytesStore.hasTimeIndex() && !cachedAbove(root);
        this.keyRangeByTime = fetchAllByTime && keyRangeByTimeRequested;
    }

    /**
     * {@code READ_COMMITTED}: a read-only view of the store as of its last commit (each fetch sees one
     * commit, the last when it starts), answering exactly as the store does; otherwise this store.
     */
    @Override
    public ReadOnlyWindowStore<Bytes, byte[]> readOnly(IsolationLevel isolationLevel) {
        java.util.Objects.requireNonNull(isolationLevel, "isolationLevel cannot be null");
        if (isolationLevel != IsolationLevel.READ_COMMITTED) {
            return this;
        }
        MmapWindowStore view = new MmapWindowStore(bytesStore.view(ReadIsolation.COMMITTED), retainDuplicates, windowSize);
        view.fetchAllByTime = fetchAllByTime;
        view.keyRangeByTime = keyRangeByTime;
        view.seqnum = seqnum;
        return view;
    }

    /** Whether Kafka's key-ordered caching layer wraps this store (walking down from the root). */
    static boolean cachedAbove(StateStore root) {
        StateStore s = root;
        while (s != null) {
            if (s instanceof CachingWindowStore) {
                return true;
            }
            s = s instanceof WrappedStateStore<?, ?, ?> w ? w.wrapped() : null;
        }
        return false;
    }

    // ---- writes ---------------------------------------------------------------------------------

    @Override
    public void put(Bytes key, byte[] value, long windowStartTimestamp) {
        java.util.Objects.requireNonNull(key, "key cannot be null");
        if (value != null || !retainDuplicates) {
            if (retainDuplicates) {
                seqnum = (seqnum + 1) & 0x7FFFFFFF;
            }
            bytesStore.put(WindowKeySchema.toStoreKeyBinary(key, windowStartTimestamp, seqnum), value);
        }
    }

    // ---- reads ----------------------------------------------------------------------------------

    @Override
    public byte[] fetch(Bytes key, long timestamp) {
        java.util.Objects.requireNonNull(key, "key cannot be null");
        return bytesStore.get(WindowKeySchema.toStoreKeyBinary(key, timestamp, seqnum));
    }

    @Override
    public WindowStoreIterator<byte[]> fetch(Bytes key, long timeFrom, long timeTo) {
        return new ValuesIterator(bytesStore.fetch(key, timeFrom, timeTo));
    }

    @Override
    public WindowStoreIterator<byte[]> backwardFetch(Bytes key, long timeFrom, long timeTo) {
        return new ValuesIterator(bytesStore.backwardFetch(key, timeFrom, timeTo));
    }

    @Override
    public KeyValueIterator<Windowed<Bytes>, byte[]> fetch(Bytes keyFrom, Bytes keyTo, long timeFrom, long timeTo) {
        return new WindowedIterator(keyRangeByTime
                ? bytesStore.fetchKeyRangeByTime(keyFrom, keyTo, timeFrom, timeTo, true)
                : bytesStore.fetch(keyFrom, keyTo, timeFrom, timeTo), windowSize);
    }

    @Override
    public KeyValueIterator<Windowed<Bytes>, byte[]> backwardFetch(Bytes keyFrom, Bytes keyTo, long timeFrom, long timeTo) {
        return new WindowedIterator(keyRangeByTime
                ? bytesStore.fetchKeyRangeByTime(keyFrom, keyTo, timeFrom, timeTo, false)
                : bytesStore.backwardFetch(keyFrom, keyTo, timeFrom, timeTo), windowSize);
    }

    @Override
    public KeyValueIterator<Windowed<Bytes>, byte[]> all() {
        return new WindowedIterator(fetchAllByTime ? bytesStore.fetchAllByTime(0L, Long.MAX_VALUE, true) : bytesStore.all(), windowSize);
    }

    @Override
    public KeyValueIterator<Windowed<Bytes>, byte[]> backwardAll() {
        return new WindowedIterator(fetchAllByTime ? bytesStore.fetchAllByTime(0L, Long.MAX_VALUE, false) : bytesStore.backwardAll(),
                windowSize);
    }

    @Override
    public KeyValueIterator<Windowed<Bytes>, byte[]> fetchAll(long timeFrom, long timeTo) {
        return new WindowedIterator(fetchAllByTime
                ? bytesStore.fetchAllByTime(timeFrom, timeTo, true)
                : bytesStore.fetchAll(timeFrom, timeTo), windowSize);
    }

    @Override
    public KeyValueIterator<Windowed<Bytes>, byte[]> backwardFetchAll(long timeFrom, long timeTo) {
        return new WindowedIterator(fetchAllByTime
                ? bytesStore.fetchAllByTime(timeFrom, timeTo, false)
                : bytesStore.backwardFetchAll(timeFrom, timeTo), windowSize);
    }


    // ---- iterators ------------------------------------------------------------------------------

    static long startTime(byte[] storeKey) {
        return ByteBuffer.wrap(storeKey).getLong(storeKey.length - 12);
    }

    /** Window start time to value, over store keys of one record key. */
    static final class ValuesIterator implements WindowStoreIterator<byte[]> {
        private final KeyValueIterator<Bytes, byte[]> inner;

        ValuesIterator(KeyValueIterator<Bytes, byte[]> inner) {
            this.inner = inner;
        }

        @Override
        public boolean hasNext() {
            return inner.hasNext();
        }

        @Override
        public KeyValue<Long, byte[]> next() {
            if (!inner.hasNext()) {
                throw new NoSuchElementException();
            }
            KeyValue<Bytes, byte[]> kv = inner.next();
            return KeyValue.pair(startTime(kv.key.get()), kv.value);
        }

        @Override
        public Long peekNextKey() {
            return startTime(inner.peekNextKey().get());
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    /** Windowed record keys, the window end being start + window size (saturated as Kafka does). */
    static final class WindowedIterator implements KeyValueIterator<Windowed<Bytes>, byte[]> {
        private final KeyValueIterator<Bytes, byte[]> inner;
        private final long windowSize;

        WindowedIterator(KeyValueIterator<Bytes, byte[]> inner, long windowSize) {
            this.inner = inner;
            this.windowSize = windowSize;
        }

        @Override
        public boolean hasNext() {
            return inner.hasNext();
        }

        @Override
        public KeyValue<Windowed<Bytes>, byte[]> next() {
            if (!inner.hasNext()) {
                throw new NoSuchElementException();
            }
            KeyValue<Bytes, byte[]> kv = inner.next();
            return KeyValue.pair(WindowKeySchema.fromStoreBytesKey(kv.key.get(), windowSize), kv.value);
        }

        @Override
        public Windowed<Bytes> peekNextKey() {
            return WindowKeySchema.fromStoreBytesKey(inner.peekNextKey().get(), windowSize);
        }

        @Override
        public void close() {
            inner.close();
        }
    }
}
