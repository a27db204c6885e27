package io.github.mmapstore.engine;

import java.util.Iterator;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The writes not yet in a segment, sorted by key. One writer, any number of readers.
 *
 * <p>Each key holds a chain of versions, newest first, tagged with the sequence number of the write.
 * A reader fixes a sequence number when it starts and ignores newer versions, so a scan sees one
 * consistent snapshot even while the writer goes on (the LevelDB approach; old versions go away with the
 * memtable at flush, and the size limit counts them).
 */
final class Memtable {
    /** Per-entry bookkeeping the heap pays beyond the key and value bytes (node, version, map entry). */
    static final int ENTRY_OVERHEAD = 96;

    /** One version of a key's value; {@code value == null} is a tombstone. */
    static final class Version {
        final long seq;
        final byte[] value;
        final Version older;

        Version(long seq, byte[] value, Version older) {
            this.seq = seq;
            this.value = value;
            this.older = older;
        }
    }

    /** The head of a key's version chain; replaced, never mutated in place. */
    static final class Chain {
        volatile Version head;

        Chain(Version head) {
            this.head = head;
        }

        Version visible(long snapshot) {
            Version v = head;
            while (v != null && v.seq > snapshot) {
                v = v.older;
            }
            return v;
        }
    }

    private final ConcurrentSkipListMap<byte[], Chain> map = new ConcurrentSkipListMap<>(KeyOrder.COMPARATOR);
    private final AtomicLong bytes = new AtomicLong();
    private volatile long keyCount;
    private volatile long liveCount;

    /** Writer only. */
    void put(byte[] key, byte[] valueOrNull, long seq) {
        long added = ENTRY_OVERHEAD / 2 + (valueOrNull == null ? 0 : valueOrNull.length);
        Version first = new Version(seq, valueOrNull, null);
        // One walk of the skip list: insert if absent, else get the existing chain.
        Chain chain = map.putIfAbsent(key, new Chain(first));
        if (chain == null) {
            added += key.length + ENTRY_OVERHEAD / 2;
            keyCount++;
            if (valueOrNull != null) {
                liveCount++;
            }
        } else {
            Version old = chain.head;
            chain.head = new Version(seq, valueOrNull, old);
            if (old.value == null && valueOrNull != null) {
                liveCount++;
            } else if (old.value != null && valueOrNull == null) {
                liveCount--;
            }
        }
        bytes.addAndGet(added);
    }

    /**
     * Writes a tombstone over every key below {@code bound} whose newest version is a value, numbering
     * them after {@code seq}; returns the last number used. Writer only.
     */
    long tombstoneBelow(byte[] bound, long seq) {
        for (Map.Entry<byte[], Chain> e : map.headMap(bound, false).entrySet()) {
            if (e.getValue().head.value != null) {
                put(e.getKey(), null, ++seq);
            }
        }
        return seq;
    }

    /** The version visible at {@code snapshot}, or null when the memtable has no say on this key. */
    Version get(byte[] key, long snapshot) {
        Chain chain = map.get(key);
        return chain == null ? null : chain.visible(snapshot);
    }

    long approximateBytes() {
        return bytes.get();
    }

    long keyCount() {
        return keyCount;
    }

    /** Keys whose newest version is a value (not a tombstone). */
    long liveCount() {
        return liveCount;
    }

    boolean isEmpty() {
        return map.isEmpty();
    }

    /** Keys in [from, to] (either bound null = open), in the given direction. */
    Iterator<Map.Entry<byte[], Chain>> entries(byte[] from, boolean fromInclusive, byte[] to, boolean toInclusive,
                                               boolean reverse) {
        NavigableMap<byte[], Chain> view = map;
        if (from != null && to != null) {
            view = map.subMap(from, fromInclusive, to, toInclusive);
        } else if (from != null) {
            view = map.tailMap(from, fromInclusive);
        } else if (to != null) {
            view = map.headMap(to, toInclusive);
        }
        return (reverse ? view.descendingMap() : view).entrySet().iterator();
    }
}
