package io.github.mmapstore.streams.internals;

import java.util.NoSuchElementException;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;

/** The iterator returned for an empty or invalid range. */
final class EmptyIterator implements KeyValueIterator<Bytes, byte[]> {
    private static final EmptyIterator INSTANCE = new EmptyIterator();

    static EmptyIterator instance() {
        return INSTANCE;
    }

    @Override
    public boolean hasNext() {
        return false;
    }

    @Override
    public KeyValue<Bytes, byte[]> next() {
        throw new NoSuchElementException();
    }

    @Override
    public Bytes peekNextKey() {
        throw new NoSuchElementException();
    }

    @Override
    public void close() {
    }
}
