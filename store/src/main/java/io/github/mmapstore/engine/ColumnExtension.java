package io.github.mmapstore.engine;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Extra fixed-width columns that a store kind derives from its values, so that fields it scans (an
 * embedding's vector and norm, a confidence, a timestamp) lie column by column in the segment files,
 * each row aligned as the column asks, readable in place through {@link SegmentRows#columnRows}.
 *
 * <p>The log and the memtable keep whole values, row by row; only segments are split. A value is split
 * when a segment is written ({@link #split}) and joined again when it is read back ({@link #join}). The
 * same extension must be given every time the store is opened: segments record their columns, and a
 * segment without them is refused as written by a different store kind.
 */
public interface ColumnExtension {
    /**
     * One extra column.
     *
     * @param id          column number, 100 or more (lower numbers are the engine's own)
     * @param bytesPerRow width of each row, a multiple of {@code alignment}
     * @param alignment   byte alignment of every row (a power of two up to 4096; 64 suits SIMD loads)
     */
    record Column(int id, int bytesPerRow, int alignment) {
        public Column {
            if (id < 100) {
                throw new IllegalArgumentException("extension column numbers start at 100, got " + id);
            }
            if (alignment < 1 || alignment > 4096 || Integer.bitCount(alignment) != 1) {
                throw new IllegalArgumentException("alignment must be a power of two up to 4096, got " + alignment);
            }
            if (bytesPerRow < 1 || bytesPerRow % alignment != 0) {
                throw new IllegalArgumentException("bytesPerRow " + bytesPerRow + " must be a positive multiple of " + alignment);
            }
        }
    }

    /** The extra columns, in a fixed order. */
    List<Column> columns();

    /** How many bytes of {@code value} stay in the engine's value column. */
    int storedLength(byte[] value);

    /**
     * Splits a value for a segment row: writes each extra column's row into {@code rowOut[i]} (zeroed,
     * position 0, {@code bytesPerRow} long) and returns the bytes kept in the value column.
     */
    byte[] split(byte[] value, ByteBuffer[] rowOut);

    /** Rebuilds the value of a segment row from its kept bytes and its extra column rows. */
    byte[] join(byte[] stored, MemorySegment[] rowColumns);
}
