package io.github.mmapstore.vector;

import static io.github.mmapstore.vector.VectorLayout.FLOAT_LE;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API kernels at {@link FloatVector#SPECIES_PREFERRED} (512-bit, 16 lanes, on AVX-512).
 *
 * <p>Only {@link KernelSelector} loads this class, by name, after checking that
 * {@code jdk.incubator.vector} is in the boot layer: no other class of the store refers to it or to
 * the Vector API, so the store loads and runs without the module.
 *
 * <p>Each kernel runs four independent accumulator vectors over {@code 4 * lanes} floats per step
 * (FMA latency is 4 cycles, two FMA units: four chains keep them busy), then one vector per step, then
 * one masked step for the last {@code dimension % lanes} floats, so every dimension is handled without
 * a scalar loop and without reading past the row. The accumulators are combined as
 * {@code (acc0 + acc1) + (acc2 + acc3)} and reduced across lanes once per row.
 */
final class SimdKernels implements VectorKernels {
    static final SimdKernels INSTANCE = new SimdKernels();

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final int L4 = 4 * L;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private SimdKernels() {
    }

    /** Bits of the preferred float species, e.g. 512. */
    static int speciesBits() {
        return S.vectorBitSize();
    }

    static int speciesLanes() {
        return L;
    }

    @Override
    public String description() {
        return "SIMD " + S.vectorBitSize() + "-bit (" + L + " float lanes)";
    }

    @Override
    public boolean isSimd() {
        return true;
    }

    @Override
    public int lanes() {
        return L;
    }

    private static FloatVector load(MemorySegment s, long off, int i) {
        return FloatVector.fromMemorySegment(S, s, off + (long) i * Float.BYTES, LE);
    }

    private static FloatVector load(MemorySegment s, long off, int i, VectorMask<Float> m) {
        return FloatVector.fromMemorySegment(S, s, off + (long) i * Float.BYTES, LE, m);
    }

    private static float sum(FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3) {
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    // ---- one query, one row ----

    @Override
    public float dot(float[] q, MemorySegment s, long off) {
        int dim = q.length;
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S);
        int i = 0;
        for (int bound = dim - dim % L4; i < bound; i += L4) {
            a0 = FloatVector.fromArray(S, q, i).fma(load(s, off, i), a0);
            a1 = FloatVector.fromArray(S, q, i + L).fma(load(s, off, i + L), a1);
            a2 = FloatVector.fromArray(S, q, i + 2 * L).fma(load(s, off, i + 2 * L), a2);
            a3 = FloatVector.fromArray(S, q, i + 3 * L).fma(load(s, off, i + 3 * L), a3);
        }
        for (int bound = S.loopBound(dim); i < bound; i += L) {
            a0 = FloatVector.fromArray(S, q, i).fma(load(s, off, i), a0);
        }
        if (i < dim) {
            VectorMask<Float> m = S.indexInRange(i, dim);
            a1 = FloatVector.fromArray(S, q, i, m).fma(load(s, off, i, m), a1);
        }
        return sum(a0, a1, a2, a3);
    }

    @Override
    public float dot(MemorySegment a, long aOff, MemorySegment b, long bOff, int dim) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S);
        int i = 0;
        for (int bound = dim - dim % L4; i < bound; i += L4) {
            a0 = load(a, aOff, i).fma(load(b, bOff, i), a0);
            a1 = load(a, aOff, i + L).fma(load(b, bOff, i + L), a1);
            a2 = load(a, aOff, i + 2 * L).fma(load(b, bOff, i + 2 * L), a2);
            a3 = load(a, aOff, i + 3 * L).fma(load(b, bOff, i + 3 * L), a3);
        }
        for (int bound = S.loopBound(dim); i < bound; i += L) {
            a0 = load(a, aOff, i).fma(load(b, bOff, i), a0);
        }
        if (i < dim) {
            VectorMask<Float> m = S.indexInRange(i, dim);
            a1 = load(a, aOff, i, m).fma(load(b, bOff, i, m), a1);
        }
        return sum(a0, a1, a2, a3);
    }

    @Override
    public float squaredL2(float[] q, MemorySegment s, long off) {
        int dim = q.length;
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S);
        int i = 0;
        for (int bound = dim - dim % L4; i < bound; i += L4) {
            FloatVector d0 = FloatVector.fromArray(S, q, i).sub(load(s, off, i));
            FloatVector d1 = FloatVector.fromArray(S, q, i + L).sub(load(s, off, i + L));
            FloatVector d2 = FloatVector.fromArray(S, q, i + 2 * L).sub(load(s, off, i + 2 * L));
            FloatVector d3 = FloatVector.fromArray(S, q, i + 3 * L).sub(load(s, off, i + 3 * L));
            a0 = d0.fma(d0, a0);
            a1 = d1.fma(d1, a1);
            a2 = d2.fma(d2, a2);
            a3 = d3.fma(d3, a3);
        }
        for (int bound = S.loopBound(dim); i < bound; i += L) {
            FloatVector d = FloatVector.fromArray(S, q, i).sub(load(s, off, i));
            a0 = d.fma(d, a0);
        }
        if (i < dim) {
            VectorMask<Float> m = S.indexInRange(i, dim);
            FloatVector d = FloatVector.fromArray(S, q, i, m).sub(load(s, off, i, m));
            a1 = d.fma(d, a1);
        }
        return sum(a0, a1, a2, a3);
    }

    @Override
    public float squaredL2(MemorySegment a, long aOff, MemorySegment b, long bOff, int dim) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S);
        int i = 0;
        for (int bound = dim - dim % L4; i < bound; i += L4) {
            FloatVector d0 = load(a, aOff, i).sub(load(b, bOff, i));
            FloatVector d1 = load(a, aOff, i + L).sub(load(b, bOff, i + L));
            FloatVector d2 = load(a, aOff, i + 2 * L).sub(load(b, bOff, i + 2 * L));
            FloatVector d3 = load(a, aOff, i + 3 * L).sub(load(b, bOff, i + 3 * L));
            a0 = d0.fma(d0, a0);
            a1 = d1.fma(d1, a1);
            a2 = d2.fma(d2, a2);
            a3 = d3.fma(d3, a3);
        }
        for (int bound = S.loopBound(dim); i < bound; i += L) {
            FloatVector d = load(a, aOff, i).sub(load(b, bOff, i));
            a0 = d.fma(d, a0);
        }
        if (i < dim) {
            VectorMask<Float> m = S.indexInRange(i, dim);
            FloatVector d = load(a, aOff, i, m).sub(load(b, bOff, i, m));
            a1 = d.fma(d, a1);
        }
        return sum(a0, a1, a2, a3);
    }

    @Override
    public float norm(float[] v) {
        int dim = v.length;
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S);
        int i = 0;
        for (int bound = dim - dim % L4; i < bound; i += L4) {
            FloatVector x0 = FloatVector.fromArray(S, v, i);
            FloatVector x1 = FloatVector.fromArray(S, v, i + L);
            FloatVector x2 = FloatVector.fromArray(S, v, i + 2 * L);
            FloatVector x3 = FloatVector.fromArray(S, v, i + 3 * L);
            a0 = x0.fma(x0, a0);
            a1 = x1.fma(x1, a1);
            a2 = x2.fma(x2, a2);
            a3 = x3.fma(x3, a3);
        }
        for (int bound = S.loopBound(dim); i < bound; i += L) {
            FloatVector x = FloatVector.fromArray(S, v, i);
            a0 = x.fma(x, a0);
        }
        if (i < dim) {
            FloatVector x = FloatVector.fromArray(S, v, i, S.indexInRange(i, dim));
            a1 = x.fma(x, a1);
        }
        return (float) Math.sqrt(sum(a0, a1, a2, a3));
    }

    @Override
    public float norm(MemorySegment s, long off, int dim) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S);
        int i = 0;
        for (int bound = dim - dim % L4; i < bound; i += L4) {
            FloatVector x0 = load(s, off, i);
            FloatVector x1 = load(s, off, i + L);
            FloatVector x2 = load(s, off, i + 2 * L);
            FloatVector x3 = load(s, off, i + 3 * L);
            a0 = x0.fma(x0, a0);
            a1 = x1.fma(x1, a1);
            a2 = x2.fma(x2, a2);
            a3 = x3.fma(x3, a3);
        }
        for (int bound = S.loopBound(dim); i < bound; i += L) {
            FloatVector x = load(s, off, i);
            a0 = x.fma(x, a0);
        }
        if (i < dim) {
            FloatVector x = load(s, off, i, S.indexInRange(i, dim));
            a1 = x.fma(x, a1);
        }
        return (float) Math.sqrt(sum(a0, a1, a2, a3));
    }

    // ---- one query, a block of rows ----

    @Override
    public void dotBatch(float[] query, MemorySegment rows, long first, long stride, int rowCount,
                         float[] scores, int scoresOffset) {
        if (!Args.batch(query, rows, first, stride, rowCount, scores, scoresOffset)) {
            return;
        }
        for (int r = 0; r < rowCount; r++) {
            scores[scoresOffset + r] = dot(query, rows, first + r * stride);
        }
    }

    @Override
    public void squaredL2Batch(float[] query, MemorySegment rows, long first, long stride, int rowCount,
                               float[] scores, int scoresOffset) {
        if (!Args.batch(query, rows, first, stride, rowCount, scores, scoresOffset)) {
            return;
        }
        for (int r = 0; r < rowCount; r++) {
            scores[scoresOffset + r] = squaredL2(query, rows, first + r * stride);
        }
    }

    @Override
    public void cosineBatch(float[] query, float queryNorm, MemorySegment rows, long first, long stride,
                            int rowCount, MemorySegment norms, long normsOffset, float[] scores, int scoresOffset) {
        if (!Args.batch(query, rows, first, stride, rowCount, scores, scoresOffset)) {
            return;
        }
        Args.norms(norms, normsOffset, rowCount);
        for (int r = 0; r < rowCount; r++) {
            float rowNorm = norms.get(FLOAT_LE, normsOffset + (long) r * Float.BYTES);
            scores[scoresOffset + r] = Args.cosine(dot(query, rows, first + r * stride), queryNorm, rowNorm);
        }
    }

    // ---- many queries, a block of rows ----

    private static final int DOT = 0;
    private static final int L2 = 1;

    @Override
    public void dotMulti(float[][] queries, MemorySegment rows, long first, long stride, int rowCount,
                         float[][] scores, int scoresOffset) {
        int dim = Args.multi(queries, rows, first, stride, rowCount, scores, scoresOffset);
        if (dim >= 0) {
            multi(DOT, dim, queries, rows, first, stride, rowCount, scores, scoresOffset);
        }
    }

    @Override
    public void squaredL2Multi(float[][] queries, MemorySegment rows, long first, long stride, int rowCount,
                               float[][] scores, int scoresOffset) {
        int dim = Args.multi(queries, rows, first, stride, rowCount, scores, scoresOffset);
        if (dim >= 0) {
            multi(L2, dim, queries, rows, first, stride, rowCount, scores, scoresOffset);
        }
    }

    @Override
    public void cosineMulti(float[][] queries, float[] queryNorms, MemorySegment rows, long first, long stride,
                            int rowCount, MemorySegment norms, long normsOffset, float[][] scores, int scoresOffset) {
        int dim = Args.multi(queries, rows, first, stride, rowCount, scores, scoresOffset);
        if (dim < 0) {
            return;
        }
        Args.queryNorms(queryNorms, queries.length);
        Args.norms(norms, normsOffset, rowCount);
        multi(DOT, dim, queries, rows, first, stride, rowCount, scores, scoresOffset);
        for (int r = 0; r < rowCount; r++) {
            float rowNorm = norms.get(FLOAT_LE, normsOffset + (long) r * Float.BYTES);
            for (int q = 0; q < queries.length; q++) {
                scores[q][scoresOffset + r] = Args.cosine(scores[q][scoresOffset + r], queryNorms[q], rowNorm);
            }
        }
    }

    /** Rows outer; queries in groups of four sharing each load of the row. */
    private static void multi(int kind, int dim, float[][] queries, MemorySegment rows, long first, long stride,
                              int rowCount, float[][] scores, int scoresOffset) {
        int nq = queries.length;
        for (int r = 0; r < rowCount; r++) {
            long off = first + r * stride;
            int out = scoresOffset + r;
            int q = 0;
            for (; q + 3 < nq; q += 4) {
                if (kind == DOT) {
                    dot4(dim, queries[q], queries[q + 1], queries[q + 2], queries[q + 3], rows, off,
                            scores[q], scores[q + 1], scores[q + 2], scores[q + 3], out);
                } else {
                    l2x4(dim, queries[q], queries[q + 1], queries[q + 2], queries[q + 3], rows, off,
                            scores[q], scores[q + 1], scores[q + 2], scores[q + 3], out);
                }
            }
            for (; q < nq; q++) {
                scores[q][out] = kind == DOT ? INSTANCE.dot(queries[q], rows, off)
                        : INSTANCE.squaredL2(queries[q], rows, off);
            }
        }
    }

    private static void dot4(int dim, float[] q0, float[] q1, float[] q2, float[] q3, MemorySegment s, long off,
                             float[] o0, float[] o1, float[] o2, float[] o3, int out) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S);
        int i = 0;
        for (int bound = S.loopBound(dim); i < bound; i += L) {
            FloatVector x = load(s, off, i);
            a0 = FloatVector.fromArray(S, q0, i).fma(x, a0);
            a1 = FloatVector.fromArray(S, q1, i).fma(x, a1);
            a2 = FloatVector.fromArray(S, q2, i).fma(x, a2);
            a3 = FloatVector.fromArray(S, q3, i).fma(x, a3);
        }
        if (i < dim) {
            VectorMask<Float> m = S.indexInRange(i, dim);
            FloatVector x = load(s, off, i, m);
            a0 = FloatVector.fromArray(S, q0, i, m).fma(x, a0);
            a1 = FloatVector.fromArray(S, q1, i, m).fma(x, a1);
            a2 = FloatVector.fromArray(S, q2, i, m).fma(x, a2);
            a3 = FloatVector.fromArray(S, q3, i, m).fma(x, a3);
        }
        o0[out] = a0.reduceLanes(VectorOperators.ADD);
        o1[out] = a1.reduceLanes(VectorOperators.ADD);
        o2[out] = a2.reduceLanes(VectorOperators.ADD);
        o3[out] = a3.reduceLanes(VectorOperators.ADD);
    }

    private static void l2x4(int dim, float[] q0, float[] q1, float[] q2, float[] q3, MemorySegment s, long off,
                             float[] o0, float[] o1, float[] o2, float[] o3, int out) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S);
        int i = 0;
        for (int bound = S.loopBound(dim); i < bound; i += L) {
            FloatVector x = load(s, off, i);
            FloatVector d0 = FloatVector.fromArray(S, q0, i).sub(x);
            FloatVector d1 = FloatVector.fromArray(S, q1, i).sub(x);
            FloatVector d2 = FloatVector.fromArray(S, q2, i).sub(x);
            FloatVector d3 = FloatVector.fromArray(S, q3, i).sub(x);
            a0 = d0.fma(d0, a0);
            a1 = d1.fma(d1, a1);
            a2 = d2.fma(d2, a2);
            a3 = d3.fma(d3, a3);
        }
        if (i < dim) {
            VectorMask<Float> m = S.indexInRange(i, dim);
            FloatVector x = load(s, off, i, m);
            FloatVector d0 = FloatVector.fromArray(S, q0, i, m).sub(x);
            FloatVector d1 = FloatVector.fromArray(S, q1, i, m).sub(x);
            FloatVector d2 = FloatVector.fromArray(S, q2, i, m).sub(x);
            FloatVector d3 = FloatVector.fromArray(S, q3, i, m).sub(x);
            a0 = d0.fma(d0, a0);
            a1 = d1.fma(d1, a1);
            a2 = d2.fma(d2, a2);
            a3 = d3.fma(d3, a3);
        }
        o0[out] = a0.reduceLanes(VectorOperators.ADD);
        o1[out] = a1.reduceLanes(VectorOperators.ADD);
        o2[out] = a2.reduceLanes(VectorOperators.ADD);
        o3[out] = a3.reduceLanes(VectorOperators.ADD);
    }
}
