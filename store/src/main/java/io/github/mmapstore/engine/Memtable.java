package io.github.mmapstore.engine;

import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The writes not yet in a segment. One writer, any number of readers.
 *
 * <p>Point operations go through a hash map: a put or get costs one hash probe, not a walk down a
 * skip list of hundreds of thousands of nodes (that walk, all cache misses, was most of the cost of a put).
 * Order is built only when someone asks for it: every new key is also appended to an insertion log, and
 * a reader that needs keys in order sorts the keys added since the last sort into a run and publishes it
 * for everyone; runs of similar size are merged (like a binary counter), so sorting costs O(n log n) in
 * all however reads and writes interleave, and an ordered scan merges O(log n) runs.
 *
 * <p>Each key holds a chain of versions, newest first, tagged with the sequence number of the write. A
 * reader fixes a sequence number when it starts and ignores newer versions, so a scan sees one
 * consistent snapshot even while the writer goes on (the LevelDB approach; old versions go away with the
 * memtable at flush, and the size limit counts them).
 */
final class Memtable {
    /** Per-entry bookkeeping the heap pays beyond the key and value bytes (map entry, key box, version). */
    static final int ENTRY_OVERHEAD = 112;

    /** One version of a key's value; {@code value == null} is a tombstone. */
    static final class Version {
        final long seq;
        final byte[] value;
        /**
         * The value's length, -1 for a tombstone: a flush sizes its file from the chains and versions alone,
         * without a cache miss on every value (the field fits in the object's alignment padding).
         */
        final int length;
        final Version older;

        Version(long seq, byte[] value, Version older) {
            this.seq = seq;
            this.value = value;
            this.length = value == null ? -1 : value.length;
            this.older = older;
        }
    }

    /** The head of a key's version chain; replaced, never mutated in place. */
    static final class Chain {
        final byte[] key;
        /** The key's length (see {@link Version#length}). */
        final int keyLength;
        /** {@link KeyHash#hash} of the key, computed once at the first put (the flush's bloom filter reuses it). */
        final long hash;
        volatile Version head;

        Chain(byte[] key, long hash, Version head) {
            this.key = key;
            this.keyLength = key.length;
            this.hash = hash;
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

    /** A key with its hash, for the hash map. */
    private static final class Key {
        final byte[] bytes;
        final int hash;
        final long hash64;

        Key(byte[] bytes) {
            this.bytes = bytes;
            long h = KeyHash.hash(bytes);
            this.hash64 = h;
            this.hash = (int) (h ^ (h >>> 32));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.hash == hash && Arrays.equals(k.bytes, bytes);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /**
     * Chains sorted by key, and (built at the first range search, for runs worth it) the 8 bytes of every key
     * after the prefix all of them share, as numbers: a range read searches every run twice, and a binary search
     * over the chains reaches a key array through a pointer per probe (in a stream-stream join, which reads
     * after every write, those searches were 40 % of the time). The numbers narrow the search without touching
     * a key; only keys whose 8 bytes tie are compared in full.
     */
    private static final class Run {
        /** Runs shorter than this are searched over the chains directly. */
        static final int INDEXED_FROM = 16;
        private final Chain[] chains;
        /** Length of the prefix every key of the run shares; set with {@link #prefixes}. */
        private int shared;
        /** Each key's 8 bytes after {@link #shared}, big-endian, zero-padded; null until first searched. */
        private volatile long[] prefixes;

        Run(Chain[] chains) {
            this.chains = chains;
        }

        Chain[] chains() {
            return chains;
        }

        int size() {
            return chains.length;
        }

        /** First index whose key is at or above {@code key} ({@code inclusive}), or above it. */
        int lowerBound(byte[] key, boolean inclusive) {
            int n = chains.length;
            if (n < INDEXED_FROM) {
                return Memtable.lowerBound(chains, key, inclusive, 0, n);
            }
            long[] px = prefixes;
            if (px == null) {
                px = buildPrefixes(); // readers may race to build it: the same array either way
            }
            int s = shared;
            if (s > 0) {
                byte[] first = chains[0].key;
                if (key.length < s || Arrays.mismatch(key, 0, s, first, 0, s) >= 0) {
                    // the key leaves the shared prefix: every key of the run is above it, or every one below
                    int c = Arrays.compareUnsigned(key, 0, Math.min(s, key.length), first, 0, s);
                    return c > 0 ? n : 0;
                }
            }
            long p = KeyOrder.prefix(key, s);
            int lo = 0;
            int hi = n;
            while (lo < hi) { // first prefix >= p: every key before it is below the key
                int mid = (lo + hi) >>> 1;
                if (Long.compareUnsigned(px[mid], p) < 0) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            int tieEnd = lo;
            hi = n;
            while (tieEnd < hi) { // first prefix > p: every key from it on is above the key
                int mid = (tieEnd + hi) >>> 1;
                if (Long.compareUnsigned(px[mid], p) <= 0) {
                    tieEnd = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return Memtable.lowerBound(chains, key, inclusive, lo, tieEnd);
        }

        private long[] buildPrefixes() {
            int n = chains.length;
            byte[] first = chains[0].key;
            byte[] last = chains[n - 1].key;
            // in a sorted run, the prefix the first and last keys share is shared by every key between them
            int m = Arrays.mismatch(first, last);
            int s = m < 0 ? first.length : m; // mismatch is at most the shorter key's length
            long[] px = new long[n];
            for (int i = 0; i < n; i++) {
                px[i] = KeyOrder.prefix(chains[i].key, s);
            }
            shared = s;
            prefixes = px; // published after shared (volatile write)
            return px;
        }
    }

    /** The published sorted runs and how many insertions they cover. */
    private record Runs(List<Run> list, int covered) {
    }

    private final ConcurrentHashMap<Key, Chain> map;
    private final AtomicLong bytes = new AtomicLong();
    /** New keys' chains in insertion order; the writer appends, readers read below {@link #count}. */
    private volatile Chain[] inserted;
    private volatile int count;
    private volatile long liveCount;
    /** Sequence number of the first write (the memtable holds no older version); writer only. */
    private long firstSeq = Long.MAX_VALUE;
    private final AtomicReference<Runs> runs = new AtomicReference<>(new Runs(List.of(), 0));

    Memtable() {
        this(4096);
    }

    /**
     * A memtable sized for about {@code expectedKeys} keys (the previous memtable's count), so that it
     * does not rehash its way up while it fills.
     */
    Memtable(long expectedKeys) {
        int n = (int) Math.min(Math.max(expectedKeys, 4096), 1 << 26);
        // The map allocates its table at the first put, off the path that froze the previous memtable (a
        // commit's checkpoint); the insertion log starts small and doubles, which costs O(1) a key.
        this.map = new ConcurrentHashMap<>(n + n / 3);
        this.inserted = new Chain[Math.min(n, 1 << 14)];
    }

    /** Writer only. */
    void put(byte[] key, byte[] valueOrNull, long seq) {
        if (seq < firstSeq) {
            firstSeq = seq;
        }
        long added = ENTRY_OVERHEAD / 2 + (valueOrNull == null ? 0 : valueOrNull.length);
        Version first = new Version(seq, valueOrNull, null);
        Key k = new Key(key);
        Chain fresh = new Chain(key, k.hash64, first);
        Chain chain = map.putIfAbsent(k, fresh);
        if (chain == null) {
            added += key.length + ENTRY_OVERHEAD / 2;
            Chain[] arr = inserted;
            int c = count;
            if (c == arr.length) {
                arr = Arrays.copyOf(arr, c * 2);
                inserted = arr; // published before the count that makes the new slot readable
            }
            arr[c] = fresh;
            count = c + 1;
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

    /** The version visible at {@code snapshot}, or null when the memtable has no say on this key. */
    Version get(byte[] key, long snapshot) {
        Chain chain = map.get(new Key(key));
        return chain == null ? null : chain.visible(snapshot);
    }

    /**
     * Writes a tombstone over every key below {@code bound} whose newest version is a value, numbering
     * them after {@code seq}; returns the last number used. Writer only.
     */
    long tombstoneBelow(byte[] bound, long seq) {
        Iterator<Map.Entry<byte[], Chain>> it = entries(null, true, bound, false, false);
        List<byte[]> keys = new ArrayList<>();
        while (it.hasNext()) {
            Map.Entry<byte[], Chain> e = it.next();
            if (e.getValue().head.value != null) {
                keys.add(e.getKey());
            }
        }
        for (byte[] k : keys) {
            put(k, null, ++seq);
        }
        return seq;
    }

    /** Whether some key has a version at or before {@code seq}. Writer only. */
    boolean holdsWritesUpTo(long seq) {
        return firstSeq <= seq;
    }

    long approximateBytes() {
        return bytes.get();
    }

    long keyCount() {
        return count;
    }

    /** Keys whose newest version is a value (not a tombstone). */
    long liveCount() {
        return liveCount;
    }

    boolean isEmpty() {
        return count == 0;
    }

    /** Sorted runs covering every key inserted so far; builds and publishes a new run if needed. */
    private List<Run> sorted() {
        while (true) {
            Runs r = runs.get();
            int c = count;
            if (r.covered() >= c) {
                return r.list();
            }
            Chain[] arr = inserted;
            Chain[] fresh = Arrays.copyOfRange(arr, r.covered(), c);
            sortByKey(fresh);
            List<Run> list = new ArrayList<>(r.list());
            list.add(new Run(fresh));
            // Merge the newest runs while they are of similar size: O(log n) runs, O(n log n) work.
            while (list.size() >= 2 && list.get(list.size() - 1).size() * 2 >= list.get(list.size() - 2).size()) {
                Run b = list.remove(list.size() - 1);
                Run a = list.remove(list.size() - 1);
                list.add(merge(a, b));
            }
            if (runs.compareAndSet(r, new Runs(List.copyOf(list), c))) {
                return list;
            }
        }
    }

    private static final java.util.Comparator<Chain> BY_KEY = (a, b) -> Arrays.compareUnsigned(a.key, b.key);

    /**
     * Sorts chains by key in unsigned byte order. A comparison sort over the chains chases a pointer to a
     * key array per comparison (cache misses: it was two thirds of a flush's time). Instead the keys' first
     * distinguishing bytes go into a primitive array with each chain's index, that array is sorted (no
     * pointers), and only chains whose 40 sorted bits tie are compared in full. The bytes taken start after
     * the prefix all keys share (a time-partitioned store's keys share their partition number).
     */
    static void sortByKey(Chain[] chains) {
        int n = chains.length;
        if (n < 64 || n > MAX_PACKED_SORT) {
            Arrays.sort(chains, BY_KEY);
            return;
        }
        byte[] first = chains[0].key;
        int shared = first.length;
        for (int i = 1; i < n && shared > 0; i++) {
            int m = Arrays.mismatch(first, 0, shared, chains[i].key, 0, Math.min(shared, chains[i].key.length));
            if (m >= 0) {
                shared = m;
            } else {
                shared = Math.min(shared, chains[i].key.length);
            }
        }
        long[] packed = new long[n];
        for (int i = 0; i < n; i++) {
            long p = KeyOrder.prefix(chains[i].key, shared);
            // top 40 bits of the prefix, then the index; sign flipped so that signed order is unsigned order
            packed[i] = ((p & ~INDEX_MASK) | i) ^ Long.MIN_VALUE;
        }
        Arrays.sort(packed);
        Chain[] sorted = new Chain[n];
        for (int i = 0; i < n; i++) {
            sorted[i] = chains[(int) (packed[i] & INDEX_MASK)];
        }
        for (int i = 0; i < n; ) {
            long high = packed[i] & ~INDEX_MASK;
            int j = i + 1;
            while (j < n && (packed[j] & ~INDEX_MASK) == high) {
                j++;
            }
            if (j - i > 1) {
                Arrays.sort(sorted, i, j, BY_KEY);
            }
            i = j;
        }
        System.arraycopy(sorted, 0, chains, 0, n);
    }

    /** The low bits of a packed sort entry hold the chain's index. */
    private static final int INDEX_BITS = 24;
    private static final long INDEX_MASK = (1L << INDEX_BITS) - 1;
    private static final int MAX_PACKED_SORT = 1 << INDEX_BITS;

    private static Run merge(Run a, Run b) {
        Chain[] out = new Chain[a.size() + b.size()];
        int i = 0;
        int j = 0;
        int k = 0;
        while (i < a.size() && j < b.size()) {
            out[k++] = Arrays.compareUnsigned(a.chains()[i].key, b.chains()[j].key) <= 0 ? a.chains()[i++] : b.chains()[j++];
        }
        while (i < a.size()) {
            out[k++] = a.chains()[i++];
        }
        while (j < b.size()) {
            out[k++] = b.chains()[j++];
        }
        return new Run(out);
    }

    /** First index in {@code run} whose key is {@code >= key} (or {@code > key} when not inclusive). */
    /** First index in [lo, hi) whose key is at or above {@code key} ({@code inclusive}), or above it; hi if none. */
    private static int lowerBound(Chain[] run, byte[] key, boolean inclusive, int lo, int hi) {
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            int c = Arrays.compareUnsigned(run[mid].key, key);
            if (c < 0 || (c == 0 && !inclusive)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Every key's chain in key order (not to be changed: it may be the memtable's own sorted run). */
    Chain[] chainsInOrder() {
        List<Run> list = sorted();
        if (list.isEmpty()) {
            return new Chain[0];
        }
        Run all = list.get(0);
        for (int i = 1; i < list.size(); i++) {
            all = merge(all, list.get(i));
        }
        return all.chains();
    }

    /** Keys in [from, to] (either bound null = open), in the given direction, with their chains. */
    Iterator<Map.Entry<byte[], Chain>> entries(byte[] from, boolean fromInclusive, byte[] to, boolean toInclusive,
                                               boolean reverse) {
        List<Run> list = sorted();
        int n = list.size();
        Chain[][] arrays = new Chain[n][];
        int[] pos = new int[n];
        int[] end = new int[n];
        for (int i = 0; i < n; i++) {
            Run sortedRun = list.get(i);
            Chain[] run = sortedRun.chains();
            arrays[i] = run;
            int lo = from == null ? 0 : sortedRun.lowerBound(from, fromInclusive);
            int hi = to == null ? run.length : sortedRun.lowerBound(to, !toInclusive);
            if (hi < lo) {
                hi = lo; // bounds that cross (from == to with one of them exclusive): nothing, not a walk past the end
            }
            if (reverse) {
                pos[i] = hi - 1;
                end[i] = lo - 1;
            } else {
                pos[i] = lo;
                end[i] = hi;
            }
        }
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                for (int i = 0; i < n; i++) {
                    if (pos[i] != end[i]) {
                        return true;
                    }
                }
                return false;
            }

            @Override
            public Map.Entry<byte[], Chain> next() {
                int best = -1;
                for (int i = 0; i < n; i++) {
                    if (pos[i] == end[i]) {
                        continue;
                    }
                    if (best < 0) {
                        best = i;
                    } else {
                        int c = Arrays.compareUnsigned(arrays[i][pos[i]].key, arrays[best][pos[best]].key);
                        if (reverse ? c > 0 : c < 0) {
                            best = i;
                        }
                    }
                }
                if (best < 0) {
                    throw new NoSuchElementException();
                }
                Chain chain = arrays[best][pos[best]];
                pos[best] += reverse ? -1 : 1;
                return new AbstractMap.SimpleImmutableEntry<>(chain.key, chain);
            }
        };
    }
}
