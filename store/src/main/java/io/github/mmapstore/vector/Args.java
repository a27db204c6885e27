package io.github.mmapstore.vector;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/** Argument checks shared by both kernel implementations, run once per batch, never per row. */
final class Args {
    private Args() {
    }

    /** The one cosine formula both implementations use (two divisions: no underflow of the product). */
    static float cosine(float dot, float queryNorm, float rowNorm) {
        return dot / queryNorm / rowNorm;
    }

    /** Checks a block of rows and its output range; returns false if there is nothing to do. */
    static boolean block(int dimension, MemorySegment rows, long firstRowOffset, long rowStride, int rowCount) {
        Objects.requireNonNull(rows, "rows");
        if (rowCount < 0) {
            throw new IllegalArgumentException("rowCount must be >= 0, got " + rowCount);
        }
        long rowBytes = (long) dimension * Float.BYTES;
        if (rowStride < rowBytes) {
            throw new IllegalArgumentException("row stride " + rowStride + " is smaller than a row of dimension "
                    + dimension + " (" + rowBytes + " bytes)");
        }
        if (rowCount == 0) {
            return false;
        }
        long span = Math.addExact(Math.multiplyExact(rowCount - 1L, rowStride), rowBytes);
        Objects.checkFromIndexSize(firstRowOffset, span, rows.byteSize());
        return true;
    }

    static void scores(float[] scores, int scoresOffset, int rowCount) {
        Objects.requireNonNull(scores, "scores");
        Objects.checkFromIndexSize(scoresOffset, rowCount, scores.length);
    }

    static void norms(MemorySegment norms, long normsOffset, int rowCount) {
        Objects.requireNonNull(norms, "norms");
        Objects.checkFromIndexSize(normsOffset, (long) rowCount * Float.BYTES, norms.byteSize());
    }

    static boolean batch(float[] query, MemorySegment rows, long firstRowOffset, long rowStride, int rowCount,
                         float[] scores, int scoresOffset) {
        Objects.requireNonNull(query, "query");
        scores(scores, scoresOffset, Math.max(rowCount, 0));
        return block(query.length, rows, firstRowOffset, rowStride, rowCount);
    }

    /** Checks a multi-query call; returns the common dimension, or -1 if there is nothing to do. */
    static int multi(float[][] queries, MemorySegment rows, long firstRowOffset, long rowStride, int rowCount,
                     float[][] scores, int scoresOffset) {
        Objects.requireNonNull(queries, "queries");
        Objects.requireNonNull(scores, "scores");
        if (scores.length != queries.length) {
            throw new IllegalArgumentException("scores has " + scores.length + " arrays for " + queries.length
                    + " queries");
        }
        if (queries.length == 0) {
            return -1;
        }
        int dim = Objects.requireNonNull(queries[0], "queries[0]").length;
        for (int q = 0; q < queries.length; q++) {
            float[] query = Objects.requireNonNull(queries[q], "queries[" + q + "]");
            if (query.length != dim) {
                throw new IllegalArgumentException("query " + q + " has dimension " + query.length
                        + " but query 0 has dimension " + dim);
            }
            scores(scores[q], scoresOffset, Math.max(rowCount, 0));
        }
        return block(dim, rows, firstRowOffset, rowStride, rowCount) ? dim : -1;
    }

    static void queryNorms(float[] queryNorms, int queries) {
        Objects.requireNonNull(queryNorms, "queryNorms");
        if (queryNorms.length != queries) {
            throw new IllegalArgumentException("queryNorms has " + queryNorms.length + " norms for " + queries
                    + " queries");
        }
    }
}
