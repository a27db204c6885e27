package io.github.mmapstore.engine;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The on-disk layout of a segment file (format version 2; version 1 files are read too).
 *
 * <pre>
 * [header 64 B: magic, version, page size]
 * [column regions, each aligned to 64 bytes, in any order, listed in the footer's column directory]
 * [page checksum table: one CRC32C per 4 KiB page of everything before it]
 * [footer: version, rows, tombstones, column directory, bloom probes, checksum table position and CRC,
 *          first and last key]
 * [trailer 32 B: footer position, length and CRC32C, version, trailer CRC32C, magic]
 * </pre>
 *
 * Columns are identified by number; a reader finds them through the directory, so new columns (the
 * embedding store's vectors and norms, time columns) are added without changing how the engine opens,
 * verifies or merges a segment. Unknown column numbers are carried as opaque regions.
 *
 * <p>Keys and values are each found in one of three ways, chosen per file by the writer (which knows
 * every length before it writes) and told by which offsets column is present:
 * <ul>
 *   <li>no offsets column: every row's bytes have the same length, the column's length over the rows
 *       (the common case of serialized longs, UUIDs, fixed-size aggregates and embeddings); a tombstone
 *       then holds a zeroed slot, which the writer only accepts when that costs less than offsets;</li>
 *   <li>{@link #COL_KEY_OFFSETS_32} / {@link #COL_VALUE_OFFSETS_32}: 4-byte offsets, when the column is
 *       under 4 GiB (every file compaction writes);</li>
 *   <li>{@link #COL_KEY_OFFSETS} / {@link #COL_VALUE_OFFSETS}: 8-byte offsets (all of version 1).</li>
 * </ul>
 * The key prefix column is written only for keys of varying length (fixed-length keys are themselves
 * a dense, searchable column), and the flags column only when the file holds tombstones. Version 1
 * wrote every structural column, 26 bytes a row beyond the keys and values; version 2 writes about
 * 1.4 bytes a row (bloom filter and page checksums) for fixed-length keys and values, which is what
 * leaves compaction room to collect garbage under the space bound (docs/architecture.md, "Segment format").
 */
final class SegmentFormat {
    static final long MAGIC = 0x3147455354534D4DL; // "MMSTSEG1"
    static final int VERSION = 2;
    /** The oldest version this release reads: version 1 is version 2 with every structural column present. */
    static final int OLDEST_READABLE_VERSION = 1;
    static final int HEADER_BYTES = 64;
    static final int TRAILER_BYTES = 32;
    static final int PAGE_BYTES = 4096;
    static final int ALIGN = 64;

    /**
     * First 8 key bytes, big-endian, one per row: the binary search runs on this dense column. Only for
     * keys of varying length.
     */
    static final int COL_KEY_PREFIX = 1;
    /** rows + 1 little-endian u64 offsets into {@link #COL_KEYS}. */
    static final int COL_KEY_OFFSETS = 2;
    static final int COL_KEYS = 3;
    /** rows + 1 little-endian u64 offsets into {@link #COL_VALUES}. */
    static final int COL_VALUE_OFFSETS = 4;
    static final int COL_VALUES = 5;
    /** One byte per row; bit 0 marks a tombstone. Absent when the file holds no tombstone. */
    static final int COL_FLAGS = 6;
    static final int COL_BLOOM = 7;
    /** rows + 1 little-endian u32 offsets into {@link #COL_KEYS}. */
    static final int COL_KEY_OFFSETS_32 = 8;
    /** rows + 1 little-endian u32 offsets into {@link #COL_VALUES}. */
    static final int COL_VALUE_OFFSETS_32 = 9;
    /** Largest column a 4-byte offset can address. */
    static final long MAX_OFFSET_32 = 0xFFFF_FFFFL;

    static final byte FLAG_TOMBSTONE = 1;

    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong PREFIX = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private SegmentFormat() {
    }

    static long align(long offset) {
        return (offset + ALIGN - 1) & -ALIGN;
    }
}
