package io.github.mmapstore.vector;

/**
 * Checks every vector goes through before it is written (and every query before it is searched):
 * the kernels themselves do not check, they follow IEEE 754 (a NaN component gives a NaN score, an
 * infinity an infinite or NaN score). Each failure is an {@link IllegalArgumentException} whose message
 * names the problem and, for a bad component, its index.
 */
public final class VectorValidation {
    private VectorValidation() {
    }

    /** @throws IllegalArgumentException unless {@code 1 <= dimension <= MAX_DIMENSION} */
    public static int checkDimension(int dimension) {
        if (dimension < 1 || dimension > VectorLayout.MAX_DIMENSION) {
            throw new IllegalArgumentException("vector dimension must be between 1 and "
                    + VectorLayout.MAX_DIMENSION + ", got " + dimension);
        }
        return dimension;
    }

    /** @throws IllegalArgumentException if {@code actual != expected} */
    public static void checkDimension(int expected, int actual) {
        if (actual != expected) {
            throw new IllegalArgumentException("vector has dimension " + actual + " but the store expects "
                    + expected);
        }
    }

    /** @throws IllegalArgumentException if {@code k < 1} */
    public static int checkK(int k) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be at least 1, got " + k);
        }
        return k;
    }

    /**
     * Checks that every component is finite and that the squared norm does not overflow float (which
     * keeps every dot product between two accepted vectors finite too).
     *
     * @return the vector's Euclidean norm (as the kernels compute it: {@code sqrt} of a float sum)
     * @throws NullPointerException if {@code vector} is null
     * @throws IllegalArgumentException on a NaN or infinite component, or an overflowing norm
     */
    public static float checkFinite(float[] vector) {
        if (vector == null) {
            throw new NullPointerException("vector must not be null");
        }
        for (int i = 0; i < vector.length; i++) {
            float x = vector[i];
            if (!Float.isFinite(x)) {
                throw new IllegalArgumentException("vector component " + i + " is " + x
                        + "; NaN and infinite components are not allowed");
            }
        }
        float norm = ScalarKernels.INSTANCE.norm(vector);
        if (!Float.isFinite(norm)) {
            throw new IllegalArgumentException("vector norm overflows float (components too large); "
                    + "scale the vector down");
        }
        return norm;
    }

    /**
     * Full check for a vector about to be written or searched: dimension, finite components, finite
     * norm, and for cosine a non-zero norm.
     *
     * @return the vector's norm, to store in the norm column
     */
    public static float validate(float[] vector, int expectedDimension, boolean cosine) {
        if (vector == null) {
            throw new NullPointerException("vector must not be null");
        }
        checkDimension(expectedDimension, vector.length);
        float norm = checkFinite(vector);
        if (cosine) {
            checkNonZeroNorm(norm);
        }
        return norm;
    }

    /** @throws IllegalArgumentException if {@code norm == 0} (a zero vector has no direction) */
    public static void checkNonZeroNorm(float norm) {
        if (norm == 0f) {
            throw new IllegalArgumentException(
                    "zero vector: cosine similarity is undefined for a vector whose norm is 0");
        }
    }
}
