package io.github.mmapstore.streams.internals;

import io.github.mmapstore.engine.EngineClosedException;
import io.github.mmapstore.engine.EngineIterator;
import java.util.NoSuchElementException;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.internals.ManagedKeyValueIterator;

/**
 * Kafka's iterator over an engine snapshot; tracked by its store so that closing the store closes it. A
 * {@link ManagedKeyValueIterator}: Kafka 4.4's adapter under a DSL table of plain values casts IQv2 range
 * results to it (its own stores' iterators are).
 */
final class MmapKeyValueIterator implements ManagedKeyValueIterator<Bytes, byte[]> {
    private final String storeName;
    private final EngineIterator inner;
    private final java.util.function.UnaryOperator<byte[]> keyMapper;
    private final Runnable onClose;
    private volatile Runnable closeCallback;
    private volatile boolean closed;

    /** {@code keyMapper} turns engine keys into the store's keys (e.g. strips a time-partition prefix). */
    MmapKeyValueIterator(String storeName, EngineIterator inner, java.util.function.UnaryOperator<byte[]> keyMapper,
                         Runnable onClose) {
        this.storeName = storeName;
        this.inner = inner;
        this.keyMapper = keyMapper;
        this.onClose = onClose;
    }

    private void checkOpen() {
        if (closed) {
            throw new InvalidStateStoreException("MmapStore iterator for store " + storeName + " has closed");
        }
    }

    @Override
    public boolean hasNext() {
        checkOpen();
        try {
            return inner.hasNext();
        } catch (EngineClosedException e) {
            throw new InvalidStateStoreException("MmapStore iterator for store " + storeName + " has closed", e);
        }
    }

    @Override
    public KeyValue<Bytes, byte[]> next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        io.github.mmapstore.engine.KeyValue kv = inner.next();
        return KeyValue.pair(Bytes.wrap(keyMapper.apply(kv.key())), kv.value());
    }

    @Override
    public Bytes peekNextKey() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        return Bytes.wrap(keyMapper.apply(inner.peekNextKey()));
    }

    @Override
    public void onClose(Runnable callback) {
        this.closeCallback = callback;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            inner.close();
            onClose.run();
            Runnable callback = closeCallback;
            if (callback != null) {
                callback.run();
            }
        }
    }
}
