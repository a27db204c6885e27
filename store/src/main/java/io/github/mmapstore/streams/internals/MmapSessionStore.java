package io.github.mmapstore.streams.internals;

import io.github.mmapstore.engine.ReadIsolation;
import java.util.NoSuchElementException;
import java.util.Objects;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlySessionStore;
import org.apache.kafka.streams.state.SessionStore;
import org.apache.kafka.streams.state.internals.SessionKeySchema;

/**
 * A {@code SessionStore<Bytes, byte[]>} on a {@link MmapSegmentedBytesStore} with Kafka's session layout
 * {@code [key][8-byte end][8-byte start]}, segmented by session end: the counterpart of Kafka's
 * {@code RocksDBSessionStore}.
 *
 * <p>A store created for emit-on-window-close keeps a time-ordered copy of its rows and answers
 * {@link #findSessions(long, long)} in end-time order, as Kafka's time-ordered session store does; the
 * plain store does not support that call, as Kafka's key-ordered session store does not.
 */
public class MmapSessionStore extends SegmentedStoreFacade implements SessionStore<Bytes, byte[]> {

    public MmapSessionStore(MmapSegmentedBytesStore bytesStore) {
        super(bytesStore);
    }

    /**
     * {@code READ_COMMITTED}: a read-only view of the store as of its last commit (each fetch sees one
     * commit, the last when it starts), answering exactly as the store does; otherwise this store.
     */
    @Override
    public ReadOnlySessionStore<Bytes, byte[]> readOnly(IsolationLevel isolationLevel) {
        Objects.requireNonNull(isolationLevel, "isolationLevel cannot be null");
        return isolationLevel == IsolationLevel.READ_COMMITTED
                ? new MmapSessionStore(bytesStore.view(ReadIsolation.COMMITTED)) : this;
    }

    // ---- writes ---------------------------------------------------------------------------------

    @Override
    public void put(Windowed<Bytes> sessionKey, byte[] aggregate) {
        Objects.requireNonNull(sessionKey, "sessionKey cannot be null");
        bytesStore.put(SessionKeySchema.toBinary(sessionKey), aggregate);
    }

    @Override
    public void remove(Windowed<Bytes> sessionKey) {
        Objects.requireNonNull(sessionKey, "sessionKey cannot be null");
        bytesStore.remove(SessionKeySchema.toBinary(sessionKey));
    }

    // ---- reads ----------------------------------------------------------------------------------

    @Override
    public KeyValueIterator<Windowed<Bytes>, byte[]> findSessions(long earliestSessionEndTime, long latestSessionEndTime) {
        if (!bytesStore.hasTimeIndex()) {
            throw new UnsupportedOperationException("This API is not supported by this implementation of SessionStore.");
        }
        return new SessionIterator(bytesStore.fetchSessionsByEndTime(earliestSessionEndTime, latestSessionEndTime));
    }

    @Override
    public KeyValueIterator<Windowed<Bytes>, byte[]> findSessions(Bytes key, long earliestSessionEndTime, long latestSessionStartTime) {
        return new SessionIterator(bytesStore.fetch(key, earliestSessionEndTime, latestSessionStartTime));
    }

    @Override
    public KeyValueIterator<Windowed<Bytes>, byte[]> backwardFindSessions(Bytes key, long earliestSessionEndTime, long latestSessionStartTime) {
        return new SessionIterator(bytesStore.backwardFetch(key, earliestSessionEndTime, latestSessionStartTime));
    }

    @Override
    public KeyValueIterator<Windowed<Bytes>, byte[]> findSessions(Bytes keyFrom, Bytes keyTo, long earliestSessionEndTime,
                                                                  long latestSessionStartTime) {
        return new SessionIterator(bytesStore.fetch(keyFrom, keyTo, earliestSessionEndTime, latestSessionStartTime));
    }

    @Override
    public KeyValueIterator<Windowed<Bytes>, byte[]> backwardFindSessions(Bytes keyFrom, Bytes keyTo, long earliestSessionEndTime,
                                                                          long latestSessionStartTime) {
        return new SessionIterator(bytesStore.backwardFetch(keyFrom, keyTo, earliestSessionEndTime, latestSessionStartTime));
    }

    @Override
    public byte[] fetchSession(Bytes key, long earliestSessionEndTime, long latestSessionStartTime) {
        Objects.requireNonNull(key, "key cannot be null");
        return bytesStore.get(SessionKeySchema.toBinary(key, earliestSessionEndTime, latestSessionStartTime));
    }

    @Override
    public KeyValueIterator<Windowed<Bytes>, byte[]> fetch(Bytes key) {
        return findSessions(key, 0L, Long.MAX_VALUE);
    }

    @Override
    public KeyValueIterator<Windowed<Bytes>, byte[]> backwardFetch(Bytes key) {
        return backwardFindSessions(key, 0L, Long.MAX_VALUE);
    }

    @Override
    public KeyValueIterator<Windowed<Bytes>, byte[]> fetch(Bytes keyFrom, Bytes keyTo) {
        return findSessions(keyFrom, keyTo, 0L, Long.MAX_VALUE);
    }

    @Override
    public KeyValueIterator<Windowed<Bytes>, byte[]> backwardFetch(Bytes keyFrom, Bytes keyTo) {
        return backwardFindSessions(keyFrom, keyTo, 0L, Long.MAX_VALUE);
    }


    /** Session keys as {@code Windowed<Bytes>}. */
    static final class SessionIterator implements KeyValueIterator<Windowed<Bytes>, byte[]> {
        private final KeyValueIterator<Bytes, byte[]> inner;

        SessionIterator(KeyValueIterator<Bytes, byte[]> inner) {
            this.inner = inner;
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
            return KeyValue.pair(SessionKeySchema.from(kv.key), kv.value);
        }

        @Override
        public Windowed<Bytes> peekNextKey() {
            return SessionKeySchema.from(inner.peekNextKey());
        }

        @Override
        public void close() {
            inner.close();
        }
    }
}
