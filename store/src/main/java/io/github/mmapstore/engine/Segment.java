package io.github.mmapstore.engine;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One immutable, sorted, columnar segment file, mapped read-only.
 *
 * <p>Open checks the trailer, footer and checksum table (a few kilobytes). Data pages are verified the
 * first time any reader touches them and remembered in a bitmap (one bit per 4 KiB page), so a page's
 * bytes are never handed out before their CRC32C matched, and hot pages are not re-hashed on every get.
 *
 * <p>The mapping belongs to a shared arena that is closed only when the last holder releases the
 * segment: readers on any thread can never touch unmapped memory.
 */
final class Segment implements SegmentRows {
    private final Path path;
    private final long number;
    private final Arena arena;
    private final MemorySegment file;
    private final long rows;
    private final long tombstones;
    private final byte[] firstKey;
    private final byte[] lastKey;
    private final Map<Integer, long[]> columns;
    private final MemorySegment prefixes;
    private final MemorySegment keyOffsets;
    private final MemorySegment keys;
    private final MemorySegment valueOffsets;
    private final MemorySegment values;
    private final MemorySegment flags;
    private final MemorySegment bloom;
    private final long keysBase;
    private final long valuesBase;
    private final long prefixesBase;
    private final long keyOffsetsBase;
    private final long valueOffsetsBase;
    private final long flagsBase;
    private final long bloomBase;
    /** Bytes per key offset (4 or 8), or 0 when every key has {@link #keyLength} bytes. */
    private final int keyOffsetBytes;
    private final long keyLength;
    /** Bytes per value offset (4 or 8), or 0 when every value slot has {@link #valueLength} bytes. */
    private final int valueOffsetBytes;
    private final long valueLength;
    private final long crcTableOffset;
    private final long checkedLength;
    private final AtomicLongArray verifiedPages;
    private final RefCount refs = new RefCount(0);
    private volatile boolean deleteOnRelease;
    /**
     * The sequence number of the newest write this file holds, when it may hold writes after the last
     * commit (a memtable spilled in the middle of a transaction); 0 for files of committed state (every
     * file a manifest names, every merge output). In memory only: after a restart every file is committed.
     */
    private volatile long maxSeq;
    private final ColumnExtension extension;
    private final long[] extraBase;
    private final int[] extraWidth;
    /**
     * Every {@link #SPARSE_STRIDE}-th key prefix, on the heap: a lookup first searches this small array
     * (a few cache lines) and then at most one stride of the mapped prefix column, instead of probing
     * the mapped column across the whole segment (one cache and TLB miss per probe). 8 bytes per 64 rows:
     * 128 KB per million keys.
     */
    private long[] sparsePrefixes;
    static final int SPARSE_STRIDE = 64;
    /** Set once every page has been checked: hot reads then skip the bitmap. */
    private volatile boolean allVerified;

    private Segment(Path path, long number, Arena arena, MemorySegment file, ColumnExtension extension) {
        this.path = path;
        this.number = number;
        this.arena = arena;
        this.file = file;
        this.extension = extension;
        long size = file.byteSize();
        if (size < SegmentFormat.HEADER_BYTES + SegmentFormat.TRAILER_BYTES) {
            throw new CorruptionException(path, 0, "segment file too short (" + size + " bytes)");
        }
        long t = size - SegmentFormat.TRAILER_BYTES;
        long footerOffset = file.get(SegmentFormat.U64, t);
        int footerLen = file.get(SegmentFormat.U32, t + 8);
        int footerCrc = file.get(SegmentFormat.U32, t + 12);
        int version = file.get(SegmentFormat.U32, t + 16);
        int trailerCrc = file.get(SegmentFormat.U32, t + 20);
        long magic = file.get(SegmentFormat.U64, t + 24);
        if (trailerCrc != Checksums.crc(file, t, 20) || magic != SegmentFormat.MAGIC) {
            throw new CorruptionException(path, t, "segment trailer checksum or magic mismatch");
        }
        if (version < SegmentFormat.OLDEST_READABLE_VERSION || version > SegmentFormat.VERSION) {
            throw new IncompatibleFormatException("segment " + path + " has format version " + version
                    + "; this MmapStore reads versions " + SegmentFormat.OLDEST_READABLE_VERSION + " to " + SegmentFormat.VERSION);
        }
        if (footerOffset < SegmentFormat.HEADER_BYTES || footerLen < 0 || footerOffset + footerLen != t) {
            throw new CorruptionException(path, t, "segment footer position out of range");
        }
        if (footerCrc != Checksums.crc(file, footerOffset, footerLen)) {
            throw new CorruptionException(path, footerOffset, "segment footer checksum mismatch");
        }
        ByteBuffer f = file.asSlice(footerOffset, footerLen).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        try {
            if (f.getInt() != version) {
                throw new CorruptionException(path, footerOffset, "footer version differs from trailer version");
            }
            rows = f.getLong();
            tombstones = f.getLong();
            int columnCount = f.getInt();
            columns = new HashMap<>();
            crcTableOffset = f.getLong();
            int pageCount = f.getInt();
            int tableCrc = f.getInt();
            checkedLength = crcTableOffset;
            if (crcTableOffset < SegmentFormat.HEADER_BYTES || crcTableOffset + 4L * pageCount > footerOffset
                    || pageCount != (int) ((crcTableOffset + SegmentFormat.PAGE_BYTES - 1) / SegmentFormat.PAGE_BYTES)) {
                throw new CorruptionException(path, footerOffset, "checksum table position out of range");
            }
            if (tableCrc != Checksums.crc(file, crcTableOffset, 4L * pageCount)) {
                throw new CorruptionException(path, crcTableOffset, "page checksum table checksum mismatch");
            }
            for (int i = 0; i < columnCount; i++) {
                int id = f.getInt();
                long off = f.getLong();
                long len = f.getLong();
                if (off < SegmentFormat.HEADER_BYTES || len < 0 || off + len > crcTableOffset) {
                    throw new CorruptionException(path, footerOffset, "column " + id + " out of range");
                }
                columns.put(id, new long[] {off, len});
            }
            firstKey = new byte[f.getInt()];
            f.get(firstKey);
            lastKey = new byte[f.getInt()];
            f.get(lastKey);
            if (f.hasRemaining()) {
                throw new CorruptionException(path, footerOffset, "trailing bytes in footer");
            }
        } catch (RuntimeException e) {
            if (e instanceof EngineException ee) {
                throw ee;
            }
            throw new CorruptionException(path, footerOffset, "footer does not parse: " + e);
        }
        verifiedPages = new AtomicLongArray((int) ((crcTableOffset / SegmentFormat.PAGE_BYTES + 64) / 64));
        keys = column(SegmentFormat.COL_KEYS, -1);
        values = column(SegmentFormat.COL_VALUES, -1);
        keysBase = columns.get(SegmentFormat.COL_KEYS)[0];
        valuesBase = columns.get(SegmentFormat.COL_VALUES)[0];
        keyOffsetBytes = offsetWidth(SegmentFormat.COL_KEY_OFFSETS, SegmentFormat.COL_KEY_OFFSETS_32, "key");
        keyOffsets = keyOffsetBytes == 0 ? null : offsetsColumn(SegmentFormat.COL_KEY_OFFSETS, SegmentFormat.COL_KEY_OFFSETS_32);
        keyOffsetsBase = keyOffsetBytes == 0 ? keysBase : offsetsBase(SegmentFormat.COL_KEY_OFFSETS, SegmentFormat.COL_KEY_OFFSETS_32);
        keyLength = keyOffsetBytes == 0 ? fixedLength(keys, "key") : -1;
        // A key column that divides into the rows by another length than the keys have would hand out cut
        // or joined keys without any checksum failing; the footer's first and last key tell the length.
        if (keyOffsetBytes == 0 && rows > 0 && (firstKey.length != keyLength || lastKey.length != keyLength)) {
            throw new CorruptionException(path, keysBase, "key column of " + keys.byteSize() + " bytes without offsets makes keys of "
                    + keyLength + " bytes, but the footer's first and last keys have " + firstKey.length + " and "
                    + lastKey.length + " bytes");
        }
        valueOffsetBytes = offsetWidth(SegmentFormat.COL_VALUE_OFFSETS, SegmentFormat.COL_VALUE_OFFSETS_32, "value");
        valueOffsets = valueOffsetBytes == 0 ? null
                : offsetsColumn(SegmentFormat.COL_VALUE_OFFSETS, SegmentFormat.COL_VALUE_OFFSETS_32);
        valueOffsetsBase = valueOffsetBytes == 0 ? valuesBase
                : offsetsBase(SegmentFormat.COL_VALUE_OFFSETS, SegmentFormat.COL_VALUE_OFFSETS_32);
        valueLength = valueOffsetBytes == 0 ? fixedLength(values, "value") : -1;
        // Fixed-length keys are their own dense search column; keys of varying length need the prefixes.
        boolean hasPrefixes = columns.containsKey(SegmentFormat.COL_KEY_PREFIX);
        prefixes = hasPrefixes || keyOffsetBytes != 0 ? column(SegmentFormat.COL_KEY_PREFIX, rows * 8) : null;
        prefixesBase = prefixes == null ? keysBase : columns.get(SegmentFormat.COL_KEY_PREFIX)[0];
        flags = columns.containsKey(SegmentFormat.COL_FLAGS) ? column(SegmentFormat.COL_FLAGS, rows) : null;
        flagsBase = flags == null ? 0 : columns.get(SegmentFormat.COL_FLAGS)[0];
        if (flags == null && tombstones != 0) {
            throw new CorruptionException(path, footerOffset, "footer counts " + tombstones + " tombstones but the segment has no flags column");
        }
        bloom = column(SegmentFormat.COL_BLOOM, -1);
        bloomBase = columns.get(SegmentFormat.COL_BLOOM)[0];
        if (bloom.byteSize() == 0 || bloom.byteSize() % BloomFilter.BLOCK_BYTES != 0) {
            throw new CorruptionException(path, footerOffset, "bloom filter column has a bad size");
        }
        List<ColumnExtension.Column> specs = extension == null ? List.of() : extension.columns();
        extraBase = new long[specs.size()];
        extraWidth = new int[specs.size()];
        for (int i = 0; i < specs.size(); i++) {
            ColumnExtension.Column c = specs.get(i);
            long[] col = columns.get(c.id());
            if (col == null || col[1] != rows * c.bytesPerRow() || col[0] % c.alignment() != 0) {
                throw new IncompatibleFormatException("segment " + path + " was written by a different store kind: column "
                        + c.id() + " is " + (col == null ? "missing" : "of another shape")
                        + "; open it with the configuration that wrote it, or delete the directory to rebuild it from the changelog");
            }
            extraBase[i] = col[0];
            extraWidth[i] = c.bytesPerRow();
        }
    }

    /** Bytes per offset of the key or value column: 8, 4, or 0 when neither offsets column is present. */
    private int offsetWidth(int id64, int id32, String what) {
        boolean wide = columns.containsKey(id64);
        boolean narrow = columns.containsKey(id32);
        if (wide && narrow) {
            throw new CorruptionException(path, 0, "segment has both 4- and 8-byte " + what + " offsets");
        }
        return wide ? 8 : narrow ? 4 : 0;
    }

    private MemorySegment offsetsColumn(int id64, int id32) {
        return columns.containsKey(id64) ? column(id64, (rows + 1) * 8) : column(id32, (rows + 1) * 4);
    }

    private long offsetsBase(int id64, int id32) {
        return columns.getOrDefault(id64, columns.get(id32))[0];
    }

    /** The one length of every row's bytes in a column without offsets: its length over the rows. */
    private long fixedLength(MemorySegment column, String what) {
        if (rows == 0) {
            return 0;
        }
        if (column.byteSize() % rows != 0) {
            throw new CorruptionException(path, 0, what + " column of " + column.byteSize() + " bytes without offsets does not divide into "
                    + rows + " rows");
        }
        return column.byteSize() / rows;
    }

    private MemorySegment column(int id, long expectedLength) {
        long[] c = columns.get(id);
        if (c == null) {
            throw new CorruptionException(path, 0, "segment lacks column " + id);
        }
        if (expectedLength >= 0 && c[1] != expectedLength) {
            throw new CorruptionException(path, c[0], "column " + id + " has " + c[1] + " bytes, expected " + expectedLength);
        }
        return file.asSlice(c[0], c[1]);
    }

    /** Maps and checks a segment file. The caller owns one reference. */
    static Segment open(Path path, long number) throws IOException {
        return open(path, number, null);
    }

    /** Maps and checks a segment file whose values are split by {@code extension} (may be null). */
    static Segment open(Path path, long number, ColumnExtension extension) throws IOException {
        FileLimits.reserveMapping(path); // released by SegmentCloser when the arena is closed
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            Segment s = new Segment(path, number, arena, mapped, extension);
            s.refs.set(1);
            return s;
        } catch (IOException | RuntimeException e) {
            arena.close();
            FileLimits.releaseMapping();
            throw e;
        }
    }

    Path path() {
        return path;
    }

    long number() {
        return number;
    }

    @Override
    public long rows() {
        return rows;
    }

    long tombstones() {
        return tombstones;
    }

    long fileSize() {
        return file.byteSize();
    }

    byte[] firstKey() {
        return firstKey;
    }

    /**
     * Bytes of the keys and values: what the rows hold, without the file's own structure (nor the zeroed
     * value slots of tombstones in a file of fixed-length values).
     */
    long userBytes() {
        long n = keys.byteSize() + values.byteSize();
        return valueOffsetBytes == 0 ? n - tombstones * valueLength : n;
    }

    byte[] lastKey() {
        return lastKey;
    }

    /** The footer's column directory: column number to {offset, length}, in column-number order. */
    java.util.SortedMap<Integer, long[]> columnDirectory() {
        java.util.SortedMap<Integer, long[]> out = new java.util.TreeMap<>();
        columns.forEach((id, c) -> out.put(id, c.clone()));
        return out;
    }

    /** In a partitioned engine, the partition of every row: the first 8 key bytes, big-endian. */
    long partition() {
        return KeyOrder.prefix(firstKey);
    }

    /** Whether any key of this segment can lie between the bounds (null = open). */
    boolean overlaps(byte[] from, boolean fromInclusive, byte[] to, boolean toInclusive) {
        if (from != null) {
            int c = KeyOrder.compare(lastKey, from);
            if (c < 0 || (c == 0 && !fromInclusive)) {
                return false;
            }
        }
        if (to != null) {
            int c = KeyOrder.compare(firstKey, to);
            if (c > 0 || (c == 0 && !toInclusive)) {
                return false;
            }
        }
        return true;
    }

    // ---- reference counting --------------------------------------------------------------------

    boolean tryAcquire() {
        return refs.tryAcquire();
    }

    void acquire() {
        if (!tryAcquire()) {
            throw new IllegalStateException("segment " + path + " already released");
        }
    }

    void release() {
        if (refs.release(path)) {
            // unmapped (and deleted, if obsolete) off the caller's thread: see SegmentCloser
            SegmentCloser.close(arena, deleteOnRelease ? path : null);
        }
    }

    /** See {@link #maxSeq}: committed reads skip this file while the last commit is older than {@code seq}. */
    long maxSeq() {
        return maxSeq;
    }

    void maxSeq(long seq) {
        this.maxSeq = seq;
    }

    /**
     * The sequence number of the partition drop that removed this file from the store, 0 while it is in
     * the store. A dropped file stays in the versions (hidden from latest reads) until the drop is
     * committed, so that committed reads see the store as of the last commit, drop or no drop.
     */
    private volatile long droppedAt;

    long droppedAt() {
        return droppedAt;
    }

    void droppedAt(long seq) {
        this.droppedAt = seq;
    }

    /** The file is no longer in the manifest: delete it once the last reader is gone. */
    void markObsolete() {
        deleteOnRelease = true;
    }

    // ---- checked access ------------------------------------------------------------------------

    /** Verifies (once) every page that the absolute range [offset, offset+length) touches. */
    void verify(long offset, long length) {
        if (length <= 0 || allVerified) {
            return;
        }
        long first = offset / SegmentFormat.PAGE_BYTES;
        long last = (offset + length - 1) / SegmentFormat.PAGE_BYTES;
        for (long p = first; p <= last; p++) {
            int word = (int) (p >>> 6);
            long bit = 1L << (p & 63);
            if ((verifiedPages.getOpaque(word) & bit) == 0) {
                verifyPage(p);
                verifiedPages.getAndAccumulate(word, bit, (a, b) -> a | b);
            }
        }
    }

    /** Verifies every page of the file now (used before a new segment replaces others). */
    void verifyAll() {
        verify(0, checkedLength);
        allVerified = true;
    }

    /** Number of checksummed pages. */
    long pageCount() {
        return (checkedLength + SegmentFormat.PAGE_BYTES - 1) / SegmentFormat.PAGE_BYTES;
    }

    /** Verifies pages [from, to). */
    void verifyPages(long from, long to) {
        long start = from * SegmentFormat.PAGE_BYTES;
        long end = Math.min(checkedLength, to * SegmentFormat.PAGE_BYTES);
        verify(start, end - start);
        if (to >= pageCount()) {
            allVerified = true;
        }
    }

    private long[] sparse() {
        long[] sp = sparsePrefixes;
        if (sp == null) {
            sp = new long[(int) ((rows + SPARSE_STRIDE - 1) / SPARSE_STRIDE)];
            for (int i = 0; i < sp.length; i++) {
                sp[i] = prefix((long) i * SPARSE_STRIDE);
            }
            sparsePrefixes = sp;
        }
        return sp;
    }

    private void verifyPage(long page) {
        long start = page * SegmentFormat.PAGE_BYTES;
        long len = Math.min(SegmentFormat.PAGE_BYTES, checkedLength - start);
        int expected = file.get(SegmentFormat.U32, crcTableOffset + page * 4);
        if (Checksums.crc(file, start, len) != expected) {
            throw new CorruptionException(path, start, "page " + page + " checksum mismatch");
        }
    }

    private long checkedLong(MemorySegment col, long base, ValueLayout.OfLong layout, long index) {
        long off = index * 8;
        verify(base + off, 8);
        return col.get(layout, off);
    }

    long prefix(long row) {
        if (prefixes != null) {
            return checkedLong(prefixes, prefixesBase, SegmentFormat.PREFIX, row);
        }
        long off = row * keyLength;
        if (keyLength >= 8) {
            verify(keysBase + off, 8);
            return keys.get(SegmentFormat.PREFIX, off);
        }
        verify(keysBase + off, keyLength);
        return KeyOrder.prefix(copy(keys, off, keyLength)); // zero-padded
    }

    private long keyStart(long row) {
        return switch (keyOffsetBytes) {
            case 0 -> row * keyLength;
            case 4 -> checkedU32(keyOffsets, keyOffsetsBase, row);
            default -> checkedLong(keyOffsets, keyOffsetsBase, SegmentFormat.U64, row);
        };
    }

    private long valueStart(long row) {
        return switch (valueOffsetBytes) {
            case 0 -> row * valueLength;
            case 4 -> checkedU32(valueOffsets, valueOffsetsBase, row);
            default -> checkedLong(valueOffsets, valueOffsetsBase, SegmentFormat.U64, row);
        };
    }

    private long checkedU32(MemorySegment col, long base, long index) {
        long off = index * 4;
        verify(base + off, 4);
        return Integer.toUnsignedLong(col.get(SegmentFormat.U32, off));
    }

    /** Where in the file the key of {@code row} starts (for reports of damage). */
    long keyFileOffset(long row) {
        return keysBase + keyStart(row);
    }

    /** Where in the file the search index starts: the prefix column, or the keys when they are all one length. */
    long indexFileOffset() {
        return prefixesBase;
    }

    /** Where in the file the search index holds the prefix of {@code row}'s key. */
    long prefixFileOffset(long row) {
        return prefixes != null ? prefixesBase + 8 * row : keyFileOffset(row);
    }

    /** The file's layout, as the store inspector shows it: how keys and values are found. */
    String layout() {
        return describe("keys", keyOffsetBytes, keyLength) + ", " + describe("values", valueOffsetBytes, valueLength);
    }

    /**
     * {@code length} bytes of {@code column} from {@code offset}, copied to the heap. Not
     * {@code asSlice(..).toArray(..)}: that looks up the array class's simple name on every call (for its
     * size check), a reflection-cache lookup that showed as 14% of a get-heavy profile.
     */
    static byte[] copy(MemorySegment column, long offset, long length) {
        byte[] out = new byte[Math.toIntExact(length)];
        MemorySegment.copy(column, ValueLayout.JAVA_BYTE, offset, out, 0, out.length);
        return out;
    }

    private static String describe(String what, int offsetBytes, long length) {
        return offsetBytes == 0 ? what + " of " + length + " bytes each" : what + " with " + offsetBytes + "-byte offsets";
    }

    @Override
    public boolean isTombstone(long row) {
        if (flags == null) {
            return false;
        }
        verify(flagsBase + row, 1);
        return (flags.get(ValueLayout.JAVA_BYTE, row) & SegmentFormat.FLAG_TOMBSTONE) != 0;
    }

    @Override
    public byte[] key(long row) {
        long s = keyStart(row);
        long e = keyStart(row + 1);
        checkRange(s, e, keys.byteSize(), keysBase, row, "key");
        verify(keysBase + s, e - s);
        return copy(keys, s, e - s);
    }

    /**
     * Bytes of the stored value of {@code row}, -1 for a tombstone: what a merge's sizing pass needs,
     * without copying the value.
     */
    long storedValueLength(long row) {
        if (isTombstone(row)) {
            return -1;
        }
        long s = valueStart(row);
        long e = valueStart(row + 1);
        checkRange(s, e, values.byteSize(), valuesBase, row, "value");
        return e - s;
    }

    /** The row's value, or null for a tombstone. */
    @Override
    public byte[] value(long row) {
        if (isTombstone(row)) {
            return null;
        }
        long s = valueStart(row);
        long e = valueStart(row + 1);
        checkRange(s, e, values.byteSize(), valuesBase, row, "value");
        verify(valuesBase + s, e - s);
        byte[] stored = copy(values, s, e - s);
        if (extension == null) {
            return stored;
        }
        MemorySegment[] rowColumns = new MemorySegment[extraBase.length];
        for (int i = 0; i < extraBase.length; i++) {
            rowColumns[i] = extraRows(i, row, row + 1);
        }
        return extension.join(stored, rowColumns);
    }

    /** The row's bytes in the value column as stored, without extension columns (the store inspector). */
    byte[] storedValue(long row) {
        long s = valueStart(row);
        long e = valueStart(row + 1);
        checkRange(s, e, values.byteSize(), valuesBase, row, "value");
        verify(valuesBase + s, e - s);
        return copy(values, s, e - s);
    }

    private MemorySegment extraRows(int index, long fromRow, long toRow) {
        if (fromRow < 0 || toRow > rows || fromRow > toRow) {
            throw new IndexOutOfBoundsException("rows [" + fromRow + ", " + toRow + ") of a segment of " + rows);
        }
        long off = extraBase[index] + fromRow * extraWidth[index];
        long len = (toRow - fromRow) * extraWidth[index];
        verify(off, len);
        return file.asSlice(off, len);
    }

    @Override
    public MemorySegment columnRows(int columnId, long fromRow, long toRow) {
        List<ColumnExtension.Column> specs = extension == null ? List.of() : extension.columns();
        for (int i = 0; i < specs.size(); i++) {
            if (specs.get(i).id() == columnId) {
                return extraRows(i, fromRow, toRow);
            }
        }
        throw new IllegalArgumentException("no extension column " + columnId + " in this store");
    }

    private void checkRange(long s, long e, long limit, long base, long row, String what) {
        // Offsets passed their page checksums, so a bad range means the writer was wrong: still never
        // read outside the column.
        if (s < 0 || e < s || e > limit) {
            throw new CorruptionException(path, base, what + " offsets of row " + row + " out of range");
        }
    }

    /** Compares {@code probe} with row {@code row}'s key. */
    int compareKey(byte[] probe, long probePrefix, long row) {
        int c = Long.compareUnsigned(probePrefix, prefix(row));
        if (c != 0) {
            return c;
        }
        long s = keyStart(row);
        long e = keyStart(row + 1);
        checkRange(s, e, keys.byteSize(), keysBase, row, "key");
        verify(keysBase + s, e - s);
        return KeyOrder.compare(probe, keys, s, e - s);
    }

    boolean mightContain(byte[] key, long hash) {
        if (KeyOrder.compare(key, firstKey) < 0 || KeyOrder.compare(key, lastKey) > 0) {
            return false;
        }
        verify(bloomBase + BloomFilter.blockOffset(hash, bloom.byteSize()), BloomFilter.BLOCK_BYTES);
        return BloomFilter.mightContain(bloom, hash);
    }

    /** Row of {@code key}, or -(insertion point) - 1 when absent. */
    long find(byte[] key) {
        long p = KeyOrder.prefix(key);
        long[] sp = sparse();
        // Blocks whose first prefix is < p, and those whose first prefix is <= p, bound the rows that can
        // hold the key (keys may share a prefix across many blocks).
        int firstGE = firstAtLeast(sp, p, false);
        int firstGT = firstAtLeast(sp, p, true);
        long lo = Math.max(0, firstGE - 1) * (long) SPARSE_STRIDE;
        long hi = Math.min(rows, (long) firstGT * SPARSE_STRIDE) - 1;
        while (lo <= hi) {
            long mid = (lo + hi) >>> 1;
            int c = compareKey(key, p, mid);
            if (c > 0) {
                lo = mid + 1;
            } else if (c < 0) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -(lo + 1);
    }

    /** Index of the first entry {@code >= p} (or {@code > p} when strict), unsigned; length if none. */
    private static int firstAtLeast(long[] sp, long p, boolean strict) {
        int lo = 0;
        int hi = sp.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            int c = Long.compareUnsigned(sp[mid], p);
            if (c < 0 || (strict && c == 0)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** First row whose key is {@code >= key} (inclusive) or {@code > key}; {@code rows()} if none. */
    long lowerBound(byte[] key, boolean inclusive) {
        long r = find(key);
        if (r >= 0) {
            return inclusive ? r : r + 1;
        }
        return -r - 1;
    }
}
