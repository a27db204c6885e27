package io.github.mmapstore.engine;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Live entries of a consistent snapshot in key order (or reverse). Must be closed: it holds the
 * snapshot's segments mapped. Not thread-safe; one iterator per thread.
 */
public final class EngineIterator implements Iterator<KeyValue>, AutoCloseable {
    private final StoreEngine engine;
    private final Version version;
    private final MergeCursor cursor;
    private KeyValue next;
    private boolean closed;

    EngineIterator(StoreEngine engine, Version version, MergeCursor cursor) {
        this.engine = engine;
        this.version = version;
        this.cursor = cursor;
    }

    private boolean fill() {
        if (next != null) {
            return true;
        }
        if (closed) {
            return false;
        }
        engine.checkReadable();
        try {
            while (cursor.next()) {
                byte[] v = cursor.value();
                if (v != null) {
                    next = new KeyValue(cursor.key(), v);
                    return true;
                }
            }
        } catch (CorruptionException e) {
            engine.corrupted(e);
            throw e;
        }
        return false;
    }

    @Override
    public boolean hasNext() {
        if (closed) {
            throw new EngineClosedException("iterator is closed");
        }
        return fill();
    }

    @Override
    public KeyValue next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        KeyValue kv = next;
        next = null;
        return kv;
    }

    /** The key {@link #next()} would return, without moving. */
    public byte[] peekNextKey() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        return next.key();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            version.release();
        }
    }
}
