package io.github.mmapstore.vector;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

/** Double-precision reference kernels, data generators and the tolerance rule the tests share. */
final class Reference {
    /** Relative tolerance on scores. */
    static final double REL_TOL = 1e-4;

    private Reference() {
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    /** Sum of |a_i * b_i|: the magnitude a float dot product's rounding error is relative to. */
    static double absDot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += Math.abs((double) a[i] * b[i]);
        }
        return s;
    }

    static double squaredL2(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            s += d * d;
        }
        return s;
    }

    static double norm(float[] a) {
        return Math.sqrt(dot(a, a));
    }

    static double cosine(float[] a, float[] b) {
        return dot(a, b) / (norm(a) * norm(b));
    }

    /**
     * Whether {@code got} is within {@link #REL_TOL} of {@code expected}, relative to
     * {@code max(|expected|, scale)}: for sums of positive terms (L2, norms, dot of positive vectors)
     * scale is the result itself, a plain relative tolerance; for signed dot products it is
     * {@code sum |a_i b_i|}, since cancellation can make the exact result arbitrarily small.
     */
    static boolean close(double expected, double got, double scale) {
        double tol = REL_TOL * Math.max(Math.abs(expected), scale);
        return Math.abs(got - expected) <= tol || (tol == 0 && got == expected);
    }

    static String explain(String what, int dim, double expected, double got, double scale) {
        return what + " at dimension " + dim + ": expected " + expected + ", got " + got + " (scale " + scale
                + ", relative error " + Math.abs(got - expected) / Math.max(Math.abs(expected), scale) + ")";
    }

    static float[] random(Random r, int dim) {
        float[] v = new float[dim];
        for (int i = 0; i < dim; i++) {
            v[i] = r.nextFloat() * 2f - 1f;
        }
        return v;
    }

    static float[] randomPositive(Random r, int dim) {
        float[] v = new float[dim];
        for (int i = 0; i < dim; i++) {
            v[i] = 0.05f + r.nextFloat();
        }
        return v;
    }

    /**
     * A native segment holding the rows at {@code offset + r * stride}, sized to end exactly where the
     * last row ends (so a kernel that reads past a row's end fails with an exception).
     */
    static MemorySegment rows(Arena arena, long offset, long stride, float[]... rows) {
        int dim = rows[0].length;
        long size = offset + (rows.length - 1L) * stride + (long) dim * Float.BYTES;
        MemorySegment s = arena.allocate(size, VectorLayout.ROW_ALIGNMENT);
        for (int r = 0; r < rows.length; r++) {
            MemorySegment.copy(rows[r], 0, s, VectorLayout.FLOAT_LE, offset + r * stride, dim);
        }
        return s;
    }

    /** A float32 LE column of the given values. */
    static MemorySegment column(Arena arena, long offset, float[] values) {
        MemorySegment s = arena.allocate(offset + (long) values.length * Float.BYTES, 8);
        MemorySegment.copy(values, 0, s, VectorLayout.FLOAT_LE, offset, values.length);
        return s;
    }
}
