package io.github.mmapstore.vector;

import static io.github.mmapstore.vector.VectorLayout.FLOAT_LE;

import java.lang.foreign.MemorySegment;

/**
 * Plain-Java kernels: the fallback when {@code jdk.incubator.vector} is not available, and the
 * baseline the SIMD kernels are measured and tested against. Four independent accumulators (C2 does
 * not reorder a float sum by itself) keep the adds from waiting on each other; the partial sums are
 * combined as {@code (a0 + a1) + (a2 + a3)}.
 */
final class ScalarKernels implements VectorKernels {
    static final ScalarKernels INSTANCE = new ScalarKernels();

    private ScalarKernels() {
    }

    @Override
    public String description() {
        return "scalar";
    }

    @Override
    public boolean isSimd() {
        return false;
    }

    @Override
    public int lanes() {
        return 1;
    }

    @Override
    public float dot(float[] q, MemorySegment s, long off) {
        int dim = q.length;
        float a0 = 0f;
        float a1 = 0f;
        float a2 = 0f;
        float a3 = 0f;
        int i = 0;
        for (; i + 3 < dim; i += 4) {
            long p = off + (long) i * Float.BYTES;
            a0 += q[i] * s.get(FLOAT_LE, p);
            a1 += q[i + 1] * s.get(FLOAT_LE, p + 4);
            a2 += q[i + 2] * s.get(FLOAT_LE, p + 8);
            a3 += q[i + 3] * s.get(FLOAT_LE, p + 12);
        }
        for (; i < dim; i++) {
            a0 += q[i] * s.get(FLOAT_LE, off + (long) i * Float.BYTES);
        }
        return (a0 + a1) + (a2 + a3);
    }

    @Override
    public float dot(MemorySegment a, long aOff, MemorySegment b, long bOff, int dim) {
        float a0 = 0f;
        float a1 = 0f;
        float a2 = 0f;
        float a3 = 0f;
        int i = 0;
        for (; i + 3 < dim; i += 4) {
            long p = aOff + (long) i * Float.BYTES;
            long r = bOff + (long) i * Float.BYTES;
            a0 += a.get(FLOAT_LE, p) * b.get(FLOAT_LE, r);
            a1 += a.get(FLOAT_LE, p + 4) * b.get(FLOAT_LE, r + 4);
            a2 += a.get(FLOAT_LE, p + 8) * b.get(FLOAT_LE, r + 8);
            a3 += a.get(FLOAT_LE, p + 12) * b.get(FLOAT_LE, r + 12);
        }
        for (; i < dim; i++) {
            a0 += a.get(FLOAT_LE, aOff + (long) i * Float.BYTES) * b.get(FLOAT_LE, bOff + (long) i * Float.BYTES);
        }
        return (a0 + a1) + (a2 + a3);
    }

    @Override
    public float squaredL2(float[] q, MemorySegment s, long off) {
        int dim = q.length;
        float a0 = 0f;
        float a1 = 0f;
        float a2 = 0f;
        float a3 = 0f;
        int i = 0;
        for (; i + 3 < dim; i += 4) {
            long p = off + (long) i * Float.BYTES;
            float d0 = q[i] - s.get(FLOAT_LE, p);
            float d1 = q[i + 1] - s.get(FLOAT_LE, p + 4);
            float d2 = q[i + 2] - s.get(FLOAT_LE, p + 8);
            float d3 = q[i + 3] - s.get(FLOAT_LE, p + 12);
            a0 += d0 * d0;
            a1 += d1 * d1;
            a2 += d2 * d2;
            a3 += d3 * d3;
        }
        for (; i < dim; i++) {
            float d = q[i] - s.get(FLOAT_LE, off + (long) i * Float.BYTES);
            a0 += d * d;
        }
        return (a0 + a1) + (a2 + a3);
    }

    @Override
    public float squaredL2(MemorySegment a, long aOff, MemorySegment b, long bOff, int dim) {
        float a0 = 0f;
        float a1 = 0f;
        float a2 = 0f;
        float a3 = 0f;
        int i = 0;
        for (; i + 3 < dim; i += 4) {
            long p = aOff + (long) i * Float.BYTES;
            long r = bOff + (long) i * Float.BYTES;
            float d0 = a.get(FLOAT_LE, p) - b.get(FLOAT_LE, r);
            float d1 = a.get(FLOAT_LE, p + 4) - b.get(FLOAT_LE, r + 4);
            float d2 = a.get(FLOAT_LE, p + 8) - b.get(FLOAT_LE, r + 8);
            float d3 = a.get(FLOAT_LE, p + 12) - b.get(FLOAT_LE, r + 12);
            a0 += d0 * d0;
            a1 += d1 * d1;
            a2 += d2 * d2;
            a3 += d3 * d3;
        }
        for (; i < dim; i++) {
            float d = a.get(FLOAT_LE, aOff + (long) i * Float.BYTES) - b.get(FLOAT_LE, bOff + (long) i * Float.BYTES);
            a0 += d * d;
        }
        return (a0 + a1) + (a2 + a3);
    }

    @Override
    public float norm(float[] v) {
        int dim = v.length;
        float a0 = 0f;
        float a1 = 0f;
        float a2 = 0f;
        float a3 = 0f;
        int i = 0;
        for (; i + 3 < dim; i += 4) {
            a0 += v[i] * v[i];
            a1 += v[i + 1] * v[i + 1];
            a2 += v[i + 2] * v[i + 2];
            a3 += v[i + 3] * v[i + 3];
        }
        for (; i < dim; i++) {
            a0 += v[i] * v[i];
        }
        return (float) Math.sqrt((a0 + a1) + (a2 + a3));
    }

    @Override
    public float norm(MemorySegment s, long off, int dim) {
        float a0 = 0f;
        float a1 = 0f;
        float a2 = 0f;
        float a3 = 0f;
        int i = 0;
        for (; i + 3 < dim; i += 4) {
            long p = off + (long) i * Float.BYTES;
            float x0 = s.get(FLOAT_LE, p);
            float x1 = s.get(FLOAT_LE, p + 4);
            float x2 = s.get(FLOAT_LE, p + 8);
            float x3 = s.get(FLOAT_LE, p + 12);
            a0 += x0 * x0;
            a1 += x1 * x1;
            a2 += x2 * x2;
            a3 += x3 * x3;
        }
        for (; i < dim; i++) {
            float x = s.get(FLOAT_LE, off + (long) i * Float.BYTES);
            a0 += x * x;
        }
        return (float) Math.sqrt((a0 + a1) + (a2 + a3));
    }

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

    @Override
    public void dotMulti(float[][] queries, MemorySegment rows, long first, long stride, int rowCount,
                         float[][] scores, int scoresOffset) {
        if (Args.multi(queries, rows, first, stride, rowCount, scores, scoresOffset) < 0) {
            return;
        }
        for (int r = 0; r < rowCount; r++) {
            long off = first + r * stride;
            for (int q = 0; q < queries.length; q++) {
                scores[q][scoresOffset + r] = dot(queries[q], rows, off);
            }
        }
    }

    @Override
    public void squaredL2Multi(float[][] queries, MemorySegment rows, long first, long stride, int rowCount,
                               float[][] scores, int scoresOffset) {
        if (Args.multi(queries, rows, first, stride, rowCount, scores, scoresOffset) < 0) {
            return;
        }
        for (int r = 0; r < rowCount; r++) {
            long off = first + r * stride;
            for (int q = 0; q < queries.length; q++) {
                scores[q][scoresOffset + r] = squaredL2(queries[q], rows, off);
            }
        }
    }

    @Override
    public void cosineMulti(float[][] queries, float[] queryNorms, MemorySegment rows, long first, long stride,
                            int rowCount, MemorySegment norms, long normsOffset, float[][] scores, int scoresOffset) {
        if (Args.multi(queries, rows, first, stride, rowCount, scores, scoresOffset) < 0) {
            return;
        }
        Args.queryNorms(queryNorms, queries.length);
        Args.norms(norms, normsOffset, rowCount);
        for (int r = 0; r < rowCount; r++) {
            long off = first + r * stride;
            float rowNorm = norms.get(FLOAT_LE, normsOffset + (long) r * Float.BYTES);
            for (int q = 0; q < queries.length; q++) {
                scores[q][scoresOffset + r] = Args.cosine(dot(queries[q], rows, off), queryNorms[q], rowNorm);
            }
        }
    }
}
