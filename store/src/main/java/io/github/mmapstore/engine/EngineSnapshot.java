package io.github.mmapstore.engine;

import java.util.Objects;

/**
 * One consistent state of a store, held open for several reads: the memtables up to one sequence number
 * and one list of segments (see {@link StoreEngine#snapshot(ReadIsolation)}). Every read through it sees
 * the same state however the writer goes on, so a read that walks ranges one after another (a window
 * fetch over time segments) never mixes two commits. Thread-safe; iterators it hands out are not.
 */
public final class EngineSnapshot implements AutoCloseable {
    private final StoreEngine engine;
    private final Version version;
    private final ReadIsolation isolation;
    private final long snapshot;
    private boolean closed;

    EngineSnapshot(StoreEngine engine, Version version, ReadIsolation isolation, long snapshot) {
        this.engine = engine;
        this.version = version;
        this.isolation = isolation;
        this.snapshot = snapshot;
    }

    public ReadIsolation isolation() {
        return isolation;
    }

    /** The value of {@code key}, or null. */
    public byte[] get(byte[] key) {
        Objects.requireNonNull(key, "key must not be null");
        check();
        engine.checkReadable();
        return engine.lookup(version, snapshot, isolation, key);
    }

    /** Entries between {@code from} and {@code to} (null = unbounded) in this snapshot; close it after use. */
    public EngineIterator range(byte[] from, boolean fromInclusive, byte[] to, boolean toInclusive, boolean reverse) {
        check();
        return engine.rangeIn(version, snapshot, isolation, from, fromInclusive, to, toInclusive, reverse);
    }

    private synchronized void check() {
        if (closed) {
            throw new EngineClosedException("snapshot is closed");
        }
    }

    /** Lets the snapshot go; iterators opened from it stay readable until they are closed. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            version.release();
        }
    }
}
