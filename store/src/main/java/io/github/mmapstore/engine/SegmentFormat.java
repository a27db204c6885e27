package io.github.mmapstore.engine;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The on-disk layout of a segment file (format version 1).
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
 */
final class SegmentFormat {
    static final long MAGIC = 0x3147455354534D4DL; // "MMSTSEG1"
    static final int VERSION = 1;
    static final int HEADER_BYTES = 64;
    static final int TRAILER_BYTES = 32;
    static final int PAGE_BYTES = 4096;
    static final int ALIGN = 64;

    /** First 8 key bytes, big-endian, one per row: the binary search runs on this dense column. */
    static final int COL_KEY_PREFIX = 1;
    /** rows + 1 little-endian u64 offsets into {@link #COL_KEYS}. */
    static final int COL_KEY_OFFSETS = 2;
    static final int COL_KEYS = 3;
    /** rows + 1 little-endian u64 offsets into {@link #COL_VALUES}. */
    static final int COL_VALUE_OFFSETS = 4;
    static final int COL_VALUES = 5;
    /** One byte per row; bit 0 marks a tombstone. */
    static final int COL_FLAGS = 6;
    static final int COL_BLOOM = 7;

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
