package io.github.mmapstore.engine;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The writes not yet in a segment. One writer, any number of readers.
 *
 * <h2>Why no object per entry</h2>
 * A memtable lives for seconds, long enough for every entry to survive the young collections that
 * happen while it fills: with a map entry, a key box, a chain and a version object per put, the garbage
 * collector copied millions of small objects at each young collection (pauses of 150-450 ms on two cores
 * measured while a 64 MiB memtable filled, most of a put's mean cost and all of its tail). Here keys and
 * values are copied into slabs ({@code byte[]} arenas that only grow; a slab of 1 MiB is allocated
 * straight into the old generation by G1 and never copied), and the per-key bookkeeping lives in pages of
 * {@code long[]} and one {@code int[]} hash table: a few hundred objects per memtable, none per entry.
 * (LevelDB and RocksDB keep their memtables in an arena for the same reason: one allocation per block,
 * nothing per entry to free or trace.)
 *
 * <h2>Layout</h2>
 * <ul>
 *   <li>An <b>address</b> is {@code slab << 32 | offset}; 0 ({@link #NONE}) is no record (slab 0 is never
 *       used).</li>
 *   <li>A <b>key record</b>: the key's length (int) then its bytes.</li>
 *   <li>A <b>version record</b>: the write's sequence number (long), the address of the key's previous
 *       version (long, {@link #NONE} for the first), the value's length (int, -1 for a tombstone) and the
 *       value's bytes. Versions of a key form a chain, newest first.</li>
 *   <li>Each key gets an <b>id</b> (0, 1, 2... in order of first insertion) and three longs in the key
 *       pages: its key record's address, its {@link KeyHash#hash} (the flush's bloom filter reuses it), and
 *       its newest version's address (the only field ever changed).</li>
 *   <li>The <b>hash table</b> maps a key to its id (open addressing, linear probing; a slot holds id + 1).</li>
 * </ul>
 *
 * <h2>Readers while the writer goes on</h2>
 * Records are written once and never moved; the writer fills a record, then publishes it with a release
 * store (a table slot, or a key's newest-version field), and readers load those with acquire: whatever a
 * reader reaches is complete. A reader fixes a sequence number when it starts and ignores newer versions
 * (the LevelDB approach), so a scan sees one consistent snapshot. A table that grows is rebuilt aside and
 * published whole; a reader still on the old one finds every key written before it was replaced, and keys
 * added later carry sequence numbers newer than any snapshot that could read that old table.
 *
 * <h2>Order</h2>
 * Built only when someone asks for it: a reader that needs keys in order sorts the ids added since the
 * last sort into a run and publishes it for everyone; runs of similar size are merged (like a binary
 * counter), so sorting costs O(n log n) in all however reads and writes interleave, and an ordered scan
 * merges O(log n) runs.
 */
final class Memtable {
    /** No record: an absent key, the end of a version chain. */
    static final long NONE = 0;
    /** Bytes of a version record before its value: sequence number, older version, value length. */
    static final int VERSION_HEADER = 20;
    /** Bytes of a key record before its key: the key's length. */
    static final int KEY_HEADER = 4;
    /** Bytes each key costs beyond its key record: three longs in the key pages and about two table slots. */
    static final int KEY_BOOKKEEPING = 3 * Long.BYTES + 2 * Integer.BYTES;

    /**
     * The first slab, key page and table are small (4 KiB, 6 KiB, 1 KiB): a memory budget shared by
     * thousands of stores freezes their memtables at tens of kilobytes, and what a memtable holds before its
     * first few hundred keys is then the floor under every store that was written to.
     */
    private static final int FIRST_SLAB = 4 << 10;
    /** Largest ordinary slab: at least half a G1 region for heaps up to 4 GiB, so allocated as humongous, never copied. */
    private static final int MAX_SLAB = 1 << 20;
    private static final int PAGE_SHIFT = 8;
    private static final int PAGE_KEYS = 1 << PAGE_SHIFT;
    private static final int STRIDE = 3;
    private static final int KEY_ADDRESS = 0;
    private static final int HASH = 1;
    private static final int HEAD = 2;

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);
    private static final VarHandle SLAB_LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle SLAB_INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    // ---- storage (the writer appends; readers reach records through published addresses) ------------
    /** Slabs by number; slab 0 is never used, so that address 0 is no record. */
    private volatile byte[][] slabs = new byte[8][];
    private int slabCount = 1;
    private byte[] slab;
    private int slabNumber;
    private int slabPos;
    private long slabBytesUsed;
    /** Bytes of every array this memtable allocated (slabs, key pages, table): what it holds on the heap. Writer's. */
    private long heapBytes;

    /** Key pages: {@link #STRIDE} longs per id. The directory is replaced when it grows; pages never move. */
    private volatile long[][] pages = new long[16][];
    /** Slots hold id + 1 (0: empty); replaced whole when it grows. {@link #NO_TABLE} until the first put. */
    private volatile int[] table = NO_TABLE;
    /** One empty slot: every lookup in a memtable never written misses at once. */
    private static final int[] NO_TABLE = new int[1];
    /** The table's size at the first put. */
    private final int initialSlots;
    private volatile int count;
    private volatile long liveCount;
    /** Sequence number of the first write (the memtable holds no older version); writer only. */
    private long firstSeq = Long.MAX_VALUE;
    private final AtomicReference<Runs> runs = new AtomicReference<>(new Runs(List.of(), 0));

    Memtable() {
        this(4096);
    }

    /**
     * A memtable sized for about {@code expectedKeys} keys (the previous memtable's count), so that its
     * table does not rebuild its way up while it fills.
     */
    Memtable(long expectedKeys) {
        long n = Math.min(Math.max(expectedKeys, 128), 1 << 23);
        // load at most 3/4 at the expected count; allocated at the first put, not on the path that froze the
        // previous memtable (a commit's checkpoint), where zeroing megabytes of table showed in commit p99
        this.initialSlots = Integer.highestOneBit((int) (n + n / 2)) << 1;
    }

    // =============================================================================================
    // Writes (one writer)
    // =============================================================================================

    /** Writes {@code valueOrNull} (null: a tombstone) for {@code key} at sequence number {@code seq}. Writer only. */
    void put(byte[] key, byte[] valueOrNull, long seq) {
        if (seq < firstSeq) {
            firstSeq = seq;
        }
        long hash = KeyHash.hash(key);
        int[] t = table;
        if (t == NO_TABLE) {
            t = new int[initialSlots];
            heapBytes += (long) t.length * Integer.BYTES;
            table = t;
        }
        int mask = t.length - 1;
        int i = spread(hash) & mask;
        while (true) {
            int slot = t[i]; // the writer's own table: plain reads see its own stores
            if (slot == 0) {
                break;
            }
            int id = slot - 1;
            long[] page = page(id);
            int at = (id & (PAGE_KEYS - 1)) * STRIDE;
            if (page[at + HASH] == hash && keyEquals(page[at + KEY_ADDRESS], key)) {
                long old = page[at + HEAD];
                long v = appendVersion(seq, old, valueOrNull);
                LONGS.setRelease(page, at + HEAD, v);
                boolean wasValue = valueLength(old) >= 0;
                if (wasValue != (valueOrNull != null)) {
                    liveCount = liveCount + (wasValue ? -1 : 1);
                }
                return;
            }
            i = (i + 1) & mask;
        }
        insert(key, hash, appendVersion(seq, NONE, valueOrNull), t, i);
    }

    /** A new key at free slot {@code i} of table {@code t}. */
    private void insert(byte[] key, long hash, long version, int[] t, int i) {
        int id = count;
        long keyAddress = allocate(KEY_HEADER + key.length);
        byte[] s = slab;
        int off = offset(keyAddress);
        SLAB_INT.set(s, off, key.length);
        System.arraycopy(key, 0, s, off + KEY_HEADER, key.length);
        long[] page = pageForWrite(id);
        int at = (id & (PAGE_KEYS - 1)) * STRIDE;
        page[at + KEY_ADDRESS] = keyAddress;
        page[at + HASH] = hash;
        page[at + HEAD] = version;
        INTS.setRelease(t, i, id + 1); // publishes the key record, the version and the page fields
        count = id + 1;
        if (valueLength(version) >= 0) {
            liveCount = liveCount + 1;
        }
        if ((long) (id + 1) * 4 > (long) t.length * 3) {
            grow();
        }
    }

    /** Rebuilds the table at twice the size and publishes it whole. */
    private void grow() {
        int[] old = table;
        int[] t = new int[old.length * 2];
        heapBytes += (long) (t.length - old.length) * Integer.BYTES;
        int mask = t.length - 1;
        int n = count;
        for (int id = 0; id < n; id++) {
            int i = spread(hash(id)) & mask;
            while (t[i] != 0) {
                i = (i + 1) & mask;
            }
            t[i] = id + 1;
        }
        table = t; // volatile: the new table's slots are visible with it
    }

    private long appendVersion(long seq, long older, byte[] valueOrNull) {
        int len = valueOrNull == null ? -1 : valueOrNull.length;
        long address = allocate(VERSION_HEADER + Math.max(0, len));
        byte[] s = slab;
        int off = offset(address);
        SLAB_LONG.set(s, off, seq);
        SLAB_LONG.set(s, off + 8, older);
        SLAB_INT.set(s, off + 16, len);
        if (len > 0) {
            System.arraycopy(valueOrNull, 0, s, off + VERSION_HEADER, len);
        }
        return address;
    }

    /** Room for a record of {@code size} bytes in the current slab, or a new one; returns its address. */
    private long allocate(int size) {
        if (slab == null || slabPos + size > slab.length) {
            int next = slab == null ? FIRST_SLAB : Math.min(MAX_SLAB, slab.length * 2);
            newSlab(Math.max(next, size));
        }
        long address = ((long) slabNumber << 32) | slabPos;
        slabPos += size;
        slabBytesUsed += size;
        return address;
    }

    private void newSlab(int size) {
        byte[][] dir = slabs;
        if (slabCount == dir.length) {
            dir = Arrays.copyOf(dir, dir.length * 2);
        }
        byte[] s = new byte[size];
        heapBytes += size;
        dir[slabCount] = s; // published to readers by the release store of the first address into it
        if (dir != slabs) {
            slabs = dir;
        }
        slab = s;
        slabNumber = slabCount++;
        slabPos = 0;
    }

    private long[] pageForWrite(int id) {
        int p = id >>> PAGE_SHIFT;
        long[][] dir = pages;
        if (p == dir.length) {
            dir = Arrays.copyOf(dir, dir.length * 2);
        }
        long[] page = dir[p];
        if (page == null) {
            page = new long[PAGE_KEYS * STRIDE];
            heapBytes += (long) page.length * Long.BYTES;
            dir[p] = page; // published by the release store of the table slot of its first key
        }
        if (dir != pages) {
            pages = dir;
        }
        return page;
    }

    /**
     * Writes a tombstone over every key below {@code bound} whose newest version is a value, numbering
     * them after {@code seq}; returns the last number used. Writer only.
     */
    long tombstoneBelow(byte[] bound, long seq) {
        Cursor c = entries(null, true, bound, false, false);
        List<byte[]> keys = new ArrayList<>();
        while (c.next()) {
            if (valueLength(head(c.id())) >= 0) {
                keys.add(key(c.id()));
            }
        }
        for (byte[] k : keys) {
            put(k, null, ++seq);
        }
        return seq;
    }

    // =============================================================================================
    // Reads (any thread)
    // =============================================================================================

    /** The address of the version of {@code key} visible at {@code snapshot}, or {@link #NONE} when the memtable has no say. */
    long get(byte[] key, long snapshot) {
        int id = find(key);
        return id < 0 ? NONE : visible(id, snapshot);
    }

    /** The id of {@code key}, or -1. */
    int find(byte[] key) {
        long hash = KeyHash.hash(key);
        int[] t = table;
        int mask = t.length - 1;
        int i = spread(hash) & mask;
        while (true) {
            int slot = (int) INTS.getAcquire(t, i);
            if (slot == 0) {
                return -1;
            }
            int id = slot - 1;
            if (hash(id) == hash && keyEquals(keyAddress(id), key)) {
                return id;
            }
            i = (i + 1) & mask;
        }
    }

    /** The newest version of key {@code id} at or before {@code snapshot}, or {@link #NONE}. */
    long visible(int id, long snapshot) {
        long v = head(id);
        while (v != NONE && seq(v) > snapshot) {
            v = older(v);
        }
        return v;
    }

    /** The newest version of key {@code id}. */
    long head(int id) {
        long[] page = page(id);
        return (long) LONGS.getAcquire(page, (id & (PAGE_KEYS - 1)) * STRIDE + HEAD);
    }

    /** The sequence number of version {@code v}. */
    long seq(long v) {
        return (long) SLAB_LONG.get(slabs[slabOf(v)], offset(v));
    }

    /** The version before {@code v} of the same key, or {@link #NONE}. */
    long older(long v) {
        return (long) SLAB_LONG.get(slabs[slabOf(v)], offset(v) + 8);
    }

    /** The length of version {@code v}'s value, -1 for a tombstone (and for {@link #NONE}). */
    int valueLength(long v) {
        return v == NONE ? -1 : (int) SLAB_INT.get(slabs[slabOf(v)], offset(v) + 16);
    }

    /** A copy of version {@code v}'s value, or null for a tombstone. */
    byte[] value(long v) {
        byte[] s = slabs[slabOf(v)];
        int off = offset(v);
        int len = (int) SLAB_INT.get(s, off + 16);
        return len < 0 ? null : Arrays.copyOfRange(s, off + VERSION_HEADER, off + VERSION_HEADER + len);
    }

    /** A copy of key {@code id}. */
    byte[] key(int id) {
        long a = keyAddress(id);
        byte[] s = slabs[slabOf(a)];
        int off = offset(a);
        int len = (int) SLAB_INT.get(s, off);
        return Arrays.copyOfRange(s, off + KEY_HEADER, off + KEY_HEADER + len);
    }

    /** Where a flush sends rows: slices of the slabs, valid while the memtable lives. */
    interface RowSink {
        void row(byte[] keySource, int keyFrom, int keyLength, byte[] valueSource, int valueFrom, int valueLength, long hash)
                throws java.io.IOException;
    }

    /**
     * Hands key {@code id} with version {@code v}'s value (-1 length: a tombstone) to {@code sink} straight
     * from the slabs: a flush copies each row once, into its file's buffers, instead of into a key and a
     * value array first.
     */
    void emit(int id, long v, RowSink sink) throws java.io.IOException {
        long[] page = page(id);
        int at = (id & (PAGE_KEYS - 1)) * STRIDE;
        long a = page[at + KEY_ADDRESS];
        byte[] ks = slabs[slabOf(a)];
        int ko = offset(a);
        byte[] vs = slabs[slabOf(v)];
        int vo = offset(v);
        sink.row(ks, ko + KEY_HEADER, (int) SLAB_INT.get(ks, ko), vs, vo + VERSION_HEADER, (int) SLAB_INT.get(vs, vo + 16),
                page[at + HASH]);
    }

    /**
     * Reads the first bytes of key {@code id}'s record and of version {@code v}'s, and returns them as a
     * number the caller must use: issued a few rows ahead of {@link #emit}, these loads miss the cache
     * while the rows before are copied, instead of one after the other (a flush visits rows in key order,
     * at random places in the slabs: memory latency, not copying, is most of its time).
     */
    int touch(int id, long v) {
        long a = page(id)[(id & (PAGE_KEYS - 1)) * STRIDE + KEY_ADDRESS];
        return slabs[slabOf(a)][offset(a)] + slabs[slabOf(v)][offset(v) + 16];
    }

    /** The length of key {@code id}. */
    int keyLength(int id) {
        long a = keyAddress(id);
        return (int) SLAB_INT.get(slabs[slabOf(a)], offset(a));
    }

    /** {@link KeyHash#hash} of key {@code id}. */
    long hash(int id) {
        return page(id)[(id & (PAGE_KEYS - 1)) * STRIDE + HASH];
    }

    /**
     * The first 8 bytes of key {@code id} from {@code from} on, big-endian, zero-padded past its end (see
     * {@link KeyOrder#prefix(byte[])}).
     */
    long prefix(int id, int from) {
        long a = keyAddress(id);
        byte[] s = slabs[slabOf(a)];
        int off = offset(a);
        int len = (int) SLAB_INT.get(s, off);
        int start = off + KEY_HEADER + from;
        int n = Math.min(8, len - from);
        long p = 0;
        for (int i = 0; i < n; i++) {
            p |= (s[start + i] & 0xFFL) << (56 - 8 * i);
        }
        return p;
    }

    private long keyAddress(int id) {
        return page(id)[(id & (PAGE_KEYS - 1)) * STRIDE + KEY_ADDRESS];
    }

    private long[] page(int id) {
        return pages[id >>> PAGE_SHIFT];
    }

    private boolean keyEquals(long keyAddress, byte[] key) {
        byte[] s = slabs[slabOf(keyAddress)];
        int off = offset(keyAddress);
        int len = (int) SLAB_INT.get(s, off);
        return len == key.length && Arrays.equals(s, off + KEY_HEADER, off + KEY_HEADER + len, key, 0, len);
    }

    /** How many of the first {@code limit} bytes of {@code key} key {@code id} starts with. */
    private int sharedWith(int id, byte[] key, int limit) {
        long a = keyAddress(id);
        byte[] s = slabs[slabOf(a)];
        int off = offset(a) + KEY_HEADER;
        int len = Math.min(limit, (int) SLAB_INT.get(s, off - KEY_HEADER));
        int m = Arrays.mismatch(s, off, off + len, key, 0, len);
        return m < 0 ? len : m;
    }

    /** Compares key {@code id} with {@code key} in unsigned byte order. */
    int compare(int id, byte[] key) {
        long a = keyAddress(id);
        byte[] s = slabs[slabOf(a)];
        int off = offset(a) + KEY_HEADER;
        int len = (int) SLAB_INT.get(s, off - KEY_HEADER);
        return Arrays.compareUnsigned(s, off, off + len, key, 0, key.length);
    }

    /** Compares keys {@code a} and {@code b} in unsigned byte order. */
    int compare(int a, int b) {
        long x = keyAddress(a);
        long y = keyAddress(b);
        byte[] sx = slabs[slabOf(x)];
        byte[] sy = slabs[slabOf(y)];
        int ox = offset(x) + KEY_HEADER;
        int oy = offset(y) + KEY_HEADER;
        int lx = (int) SLAB_INT.get(sx, ox - KEY_HEADER);
        int ly = (int) SLAB_INT.get(sy, oy - KEY_HEADER);
        return Arrays.compareUnsigned(sx, ox, ox + lx, sy, oy, oy + ly);
    }

    private static int slabOf(long address) {
        return (int) (address >>> 32);
    }

    private static int offset(long address) {
        return (int) address;
    }

    private static int spread(long hash) {
        return (int) (hash ^ (hash >>> 32));
    }

    /** Whether some key has a version at or before {@code seq}. Writer only. */
    boolean holdsWritesUpTo(long seq) {
        return firstSeq <= seq;
    }

    /**
     * Bytes held: slab bytes used (keys, values and their headers) and each key's bookkeeping (its page
     * fields and its share of the table at the table's usual load), so that an empty memtable counts as
     * empty. Exact for the writer; other threads (metrics) may read a figure a few writes old.
     */
    long approximateBytes() {
        return slabBytesUsed + (long) count * KEY_BOOKKEEPING;
    }

    /**
     * Heap held by this memtable's arrays: slabs as allocated (a slab is filled before the next, twice its
     * size, is taken), key pages of 256 keys, and the table. Above {@link #approximateBytes()} by the
     * unused ends of those: what a memory budget must count, since it is what the heap holds.
     */
    long heapBytes() {
        return heapBytes;
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

    // =============================================================================================
    // Order
    // =============================================================================================

    /**
     * Ids sorted by key and (built at the first range search, for runs worth it) the 8 bytes of every key
     * after the prefix all of them share, as numbers: a range read searches every run twice (in a
     * stream-stream join, which reads after every write, those searches were 40 % of the time). The
     * numbers narrow the search without touching a key; only keys whose 8 bytes tie are compared in full.
     */
    private final class Run {
        /** Runs shorter than this are searched over the keys directly. */
        static final int INDEXED_FROM = 16;
        private final int[] ids;
        /** Length of the prefix every key of the run shares, and the run's first key; set with {@link #prefixes}. */
        private int shared;
        private byte[] first;
        /** Each key's 8 bytes after {@link #shared}, big-endian, zero-padded; null until first searched. */
        private volatile long[] prefixes;

        Run(int[] ids) {
            this.ids = ids;
        }

        int size() {
            return ids.length;
        }

        /** First index whose key is at or above {@code key} ({@code inclusive}), or above it. */
        int lowerBound(byte[] key, boolean inclusive) {
            int n = ids.length;
            if (n < INDEXED_FROM) {
                return lowerBoundIn(ids, key, inclusive, 0, n);
            }
            long[] px = prefixes;
            if (px == null) {
                px = buildPrefixes(); // readers may race to build it: the same array either way
            }
            int s = shared;
            if (s > 0) {
                byte[] first = this.first;
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
            return lowerBoundIn(ids, key, inclusive, lo, tieEnd);
        }

        private long[] buildPrefixes() {
            int n = ids.length;
            byte[] first = Memtable.this.key(ids[0]);
            byte[] last = Memtable.this.key(ids[n - 1]);
            // in a sorted run, the prefix the first and last keys share is shared by every key between them
            int m = Arrays.mismatch(first, last);
            int s = m < 0 ? first.length : m; // mismatch is at most the shorter key's length
            long[] px = new long[n];
            for (int i = 0; i < n; i++) {
                px[i] = prefix(ids[i], s);
            }
            shared = s;
            this.first = first;
            prefixes = px; // published after shared and first (volatile write)
            return px;
        }
    }

    /** The published sorted runs and how many ids they cover. */
    private record Runs(List<Run> list, int covered) {
    }

    /** Sorted runs covering every key inserted so far; builds and publishes a new run if needed. */
    private List<Run> sorted() {
        while (true) {
            Runs r = runs.get();
            int c = count;
            if (r.covered() >= c) {
                return r.list();
            }
            int[] fresh = new int[c - r.covered()];
            for (int i = 0; i < fresh.length; i++) {
                fresh[i] = r.covered() + i;
            }
            sortByKey(fresh);
            List<Run> list = new ArrayList<>(r.list());
            list.add(new Run(fresh));
            // Merge the newest runs while they are of similar size: O(log n) runs, O(n log n) work.
            while (list.size() >= 2 && list.get(list.size() - 1).size() * 2 >= list.get(list.size() - 2).size()) {
                Run b = list.remove(list.size() - 1);
                Run a = list.remove(list.size() - 1);
                list.add(new Run(merge(a.ids, b.ids)));
            }
            if (runs.compareAndSet(r, new Runs(List.copyOf(list), c))) {
                return list;
            }
        }
    }

    /**
     * Sorts ids by key in unsigned byte order. A comparison sort reaches two keys' bytes per comparison
     * (cache misses: it was two thirds of a flush's time). Instead the keys' first distinguishing bytes go
     * into a primitive array with each id's position, that array is sorted, and only ids whose 40 sorted
     * bits tie are compared in full. The bytes taken start after the prefix all keys share (a
     * time-partitioned store's keys share their partition number).
     */
    void sortByKey(int[] ids) {
        int n = ids.length;
        if (n < 64 || n > MAX_PACKED_SORT) {
            mergeSort(ids, 0, n, new int[n]);
            return;
        }
        byte[] first = key(ids[0]);
        int shared = first.length;
        for (int i = 1; i < n && shared > 0; i++) {
            shared = sharedWith(ids[i], first, shared);
        }
        long[] packed = new long[n];
        for (int i = 0; i < n; i++) {
            long p = prefix(ids[i], shared);
            // top 40 bits of the prefix, then the position; sign flipped so that signed order is unsigned order
            packed[i] = ((p & ~INDEX_MASK) | i) ^ Long.MIN_VALUE;
        }
        Arrays.sort(packed);
        int[] sorted = new int[n];
        for (int i = 0; i < n; i++) {
            sorted[i] = ids[(int) (packed[i] & INDEX_MASK)];
        }
        int[] scratch = null;
        for (int i = 0; i < n; ) {
            long high = packed[i] & ~INDEX_MASK;
            int j = i + 1;
            while (j < n && (packed[j] & ~INDEX_MASK) == high) {
                j++;
            }
            if (j - i > 1) {
                if (scratch == null) {
                    scratch = new int[n];
                }
                mergeSort(sorted, i, j, scratch);
            }
            i = j;
        }
        System.arraycopy(sorted, 0, ids, 0, n);
    }

    /** A stable sort of {@code ids[from, to)} by key (insertion sort below 16 ids). */
    private void mergeSort(int[] ids, int from, int to, int[] scratch) {
        if (to - from < 16) {
            for (int i = from + 1; i < to; i++) {
                int x = ids[i];
                int j = i - 1;
                while (j >= from && compare(ids[j], x) > 0) {
                    ids[j + 1] = ids[j];
                    j--;
                }
                ids[j + 1] = x;
            }
            return;
        }
        int mid = (from + to) >>> 1;
        mergeSort(ids, from, mid, scratch);
        mergeSort(ids, mid, to, scratch);
        if (compare(ids[mid - 1], ids[mid]) <= 0) {
            return;
        }
        System.arraycopy(ids, from, scratch, from, to - from);
        int i = from;
        int j = mid;
        int k = from;
        while (i < mid && j < to) {
            ids[k++] = compare(scratch[i], scratch[j]) <= 0 ? scratch[i++] : scratch[j++];
        }
        while (i < mid) {
            ids[k++] = scratch[i++];
        }
        while (j < to) {
            ids[k++] = scratch[j++];
        }
    }

    /** The low bits of a packed sort entry hold the id's position. */
    private static final int INDEX_BITS = 24;
    private static final long INDEX_MASK = (1L << INDEX_BITS) - 1;
    private static final int MAX_PACKED_SORT = 1 << INDEX_BITS;

    private int[] merge(int[] a, int[] b) {
        int[] out = new int[a.length + b.length];
        int i = 0;
        int j = 0;
        int k = 0;
        while (i < a.length && j < b.length) {
            out[k++] = compare(a[i], b[j]) <= 0 ? a[i++] : b[j++];
        }
        while (i < a.length) {
            out[k++] = a[i++];
        }
        while (j < b.length) {
            out[k++] = b[j++];
        }
        return out;
    }

    /** First index in [lo, hi) of {@code ids} whose key is at or above {@code key} ({@code inclusive}), or above it; hi if none. */
    private int lowerBoundIn(int[] ids, byte[] key, boolean inclusive, int lo, int hi) {
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            int c = compare(ids[mid], key);
            if (c < 0 || (c == 0 && !inclusive)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Every key's id in key order (not to be changed: it may be the memtable's own sorted run). */
    int[] idsInOrder() {
        List<Run> list = sorted();
        if (list.isEmpty()) {
            return new int[0];
        }
        int[] all = list.get(0).ids;
        for (int i = 1; i < list.size(); i++) {
            all = merge(all, list.get(i).ids);
        }
        return all;
    }

    /** Keys in [from, to] (either bound null = open), in the given direction. */
    Cursor entries(byte[] from, boolean fromInclusive, byte[] to, boolean toInclusive, boolean reverse) {
        List<Run> list = sorted();
        int n = list.size();
        int[][] arrays = new int[n][];
        int[] pos = new int[n];
        int[] end = new int[n];
        for (int i = 0; i < n; i++) {
            Run run = list.get(i);
            arrays[i] = run.ids;
            int lo = from == null ? 0 : run.lowerBound(from, fromInclusive);
            int hi = to == null ? run.ids.length : run.lowerBound(to, !toInclusive);
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
        return new Cursor(arrays, pos, end, reverse);
    }

    /** Keys in order, merged over the sorted runs: {@link #next()} then {@link #id()}. */
    final class Cursor {
        private final int[][] arrays;
        private final int[] pos;
        private final int[] end;
        private final boolean reverse;
        private int id = -1;

        private Cursor(int[][] arrays, int[] pos, int[] end, boolean reverse) {
            this.arrays = arrays;
            this.pos = pos;
            this.end = end;
            this.reverse = reverse;
        }

        /** Moves to the next key; false at the end. */
        boolean next() {
            int best = -1;
            for (int i = 0; i < arrays.length; i++) {
                if (pos[i] == end[i]) {
                    continue;
                }
                if (best < 0) {
                    best = i;
                } else {
                    int c = compare(arrays[i][pos[i]], arrays[best][pos[best]]);
                    if (reverse ? c > 0 : c < 0) {
                        best = i;
                    }
                }
            }
            if (best < 0) {
                id = -1;
                return false;
            }
            id = arrays[best][pos[best]];
            pos[best] += reverse ? -1 : 1;
            return true;
        }

        /** The key the cursor is on. */
        int id() {
            return id;
        }
    }
}
