package io.github.mmapstore.vector;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * On-disk and in-memory layout of a vector column: each row is {@code dimension} float32 values in
 * little-endian order, starting on a {@value #ROW_ALIGNMENT}-byte boundary, zero-padded up to
 * {@link #alignedRowBytes(int)}. With a 64-byte aligned base, every row starts on a cache line and a
 * 512-bit load never splits a line. The kernels themselves accept any byte offset (unaligned loads are
 * correct, only slower); alignment is a property of the writer.
 */
public final class VectorLayout {
    /** Byte alignment of each row: one cache line, one AVX-512 register. */
    public static final int ROW_ALIGNMENT = 64;
    /** Bytes per component. */
    public static final int FLOAT_BYTES = Float.BYTES;
    /** Largest supported dimension (a row stays far below 2 GiB; scores stay accurate in float). */
    public static final int MAX_DIMENSION = 1 << 16;
    /** One component as stored: float32, little-endian, no alignment requirement. */
    public static final ValueLayout.OfFloat FLOAT_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private VectorLayout() {
    }

    /**
     * Bytes one row of the given dimension occupies in a column: {@code 4 * dimension} rounded up to
     * {@value #ROW_ALIGNMENT}. Use it as the row stride.
     *
     * @throws IllegalArgumentException if {@code dimension} is not in {@code [1, MAX_DIMENSION]}
     */
    public static long alignedRowBytes(int dimension) {
        VectorValidation.checkDimension(dimension);
        long raw = (long) dimension * FLOAT_BYTES;
        return (raw + ROW_ALIGNMENT - 1) & -ROW_ALIGNMENT;
    }

    /** Allocates a zeroed, {@value #ROW_ALIGNMENT}-byte aligned block for {@code rows} rows. */
    public static MemorySegment allocateRows(Arena arena, long rows, int dimension) {
        if (rows < 0) {
            throw new IllegalArgumentException("rows must be >= 0, got " + rows);
        }
        return arena.allocate(Math.multiplyExact(rows, alignedRowBytes(dimension)), ROW_ALIGNMENT);
    }

    /**
     * Writes {@code vector} at {@code offset} as float32 LE and zeroes the padding up to
     * {@link #alignedRowBytes(int)} (the padding is written only if it fits in the segment).
     * No validation: call {@link VectorValidation} first.
     */
    public static void writeRow(MemorySegment target, long offset, float[] vector) {
        int dim = vector.length;
        MemorySegment.copy(vector, 0, target, FLOAT_LE, offset, dim);
        long used = (long) dim * FLOAT_BYTES;
        long pad = alignedRowBytes(dim) - used;
        if (pad > 0 && offset + used + pad <= target.byteSize()) {
            target.asSlice(offset + used, pad).fill((byte) 0);
        }
    }

    /** Copies one row out onto the heap (for returning embeddings to a caller, never in a scan). */
    public static float[] readRow(MemorySegment source, long offset, int dimension) {
        VectorValidation.checkDimension(dimension);
        float[] out = new float[dimension];
        MemorySegment.copy(source, FLOAT_LE, offset, out, 0, dimension);
        return out;
    }

    /** Reads one float32 LE value, e.g. from a norm column ({@code index} counts floats). */
    public static float getFloat(MemorySegment column, long offset, long index) {
        return column.get(FLOAT_LE, offset + index * FLOAT_BYTES);
    }
}
