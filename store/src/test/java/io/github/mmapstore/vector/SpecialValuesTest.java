package io.github.mmapstore.vector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * NaN, infinities and zero vectors. The contract: kernels follow IEEE 754 (NaN in, NaN out, wherever
 * the NaN sits, including the masked tail); {@link VectorValidation} rejects such vectors before they
 * are written or searched.
 */
class SpecialValuesTest {
    static Stream<Arguments> kernels() {
        return KernelCorrectnessTest.kernels();
    }

    /** A NaN in any single component, lane or tail position, makes every score NaN. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void nanInAnyComponentPropagates(String name, VectorKernels k) {
        Random rnd = new Random(17);
        try (Arena arena = Arena.ofConfined()) {
            for (int dim : new int[] {1, 2, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 79, 130}) {
                for (int pos = 0; pos < dim; pos++) {
                    float[] q = Reference.random(rnd, dim);
                    float[] row = Reference.random(rnd, dim);
                    row[pos] = Float.NaN;
                    MemorySegment rows = Reference.rows(arena, 0, 0, row);
                    String at = name + " dim " + dim + " NaN at " + pos;
                    assertTrue(Float.isNaN(k.dot(q, rows, 0)), at + " dot");
                    assertTrue(Float.isNaN(k.squaredL2(q, rows, 0)), at + " l2");
                    assertTrue(Float.isNaN(k.norm(rows, 0, dim)), at + " norm");
                    assertTrue(Float.isNaN(k.norm(row)), at + " norm[]");
                    float[] out = new float[1];
                    k.dotBatch(q, rows, 0, VectorLayout.alignedRowBytes(dim), 1, out, 0);
                    assertTrue(Float.isNaN(out[0]), at + " dotBatch");
                    float[][] multi = new float[5][1];
                    k.dotMulti(new float[][] {q, q, q, q, q}, rows, 0, 0 + VectorLayout.alignedRowBytes(dim), 1,
                            multi, 0);
                    for (float[] m : multi) {
                        assertTrue(Float.isNaN(m[0]), at + " dotMulti");
                    }
                    // NaN in the query instead
                    float[] q2 = row.clone();
                    MemorySegment plain = Reference.rows(arena, 0, 0, q);
                    assertTrue(Float.isNaN(k.dot(q2, plain, 0)), at + " dot (query)");
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void infinitiesFollowIeee(String name, VectorKernels k) {
        try (Arena arena = Arena.ofConfined()) {
            for (int dim : new int[] {1, 5, 16, 17, 40, 130}) {
                for (int pos : new int[] {0, dim / 2, dim - 1}) {
                    float[] ones = new float[dim];
                    java.util.Arrays.fill(ones, 1f);
                    float[] row = ones.clone();
                    row[pos] = Float.POSITIVE_INFINITY;
                    MemorySegment rows = Reference.rows(arena, 0, 0, row);
                    String at = name + " dim " + dim + " +Inf at " + pos;
                    assertEquals(Float.POSITIVE_INFINITY, k.dot(ones, rows, 0), at);
                    assertEquals(Float.POSITIVE_INFINITY, k.squaredL2(ones, rows, 0), at);
                    assertEquals(Float.POSITIVE_INFINITY, k.norm(rows, 0, dim), at);
                    float[] neg = ones.clone();
                    neg[pos] = -1f;
                    assertEquals(Float.NEGATIVE_INFINITY, k.dot(neg, rows, 0), at);
                    float[] zeroAtPos = ones.clone();
                    zeroAtPos[pos] = 0f;
                    assertTrue(Float.isNaN(k.dot(zeroAtPos, rows, 0)), at + ": Inf * 0 is NaN");
                    if (dim > 1) {
                        float[] both = row.clone();
                        both[pos == 0 ? 1 : 0] = Float.NEGATIVE_INFINITY;
                        MemorySegment r2 = Reference.rows(arena, 0, 0, both);
                        assertTrue(Float.isNaN(k.dot(ones, r2, 0)), at + ": Inf + -Inf is NaN");
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void zeroVectors(String name, VectorKernels k) {
        try (Arena arena = Arena.ofConfined()) {
            for (int dim : new int[] {1, 16, 17, 100}) {
                float[] zero = new float[dim];
                float[] q = Reference.random(new Random(dim), dim);
                MemorySegment rows = Reference.rows(arena, 0, 0, zero);
                assertEquals(0f, k.norm(rows, 0, dim));
                assertEquals(0f, k.norm(zero));
                assertEquals(0f, k.dot(q, rows, 0));
                assertEquals((float) Reference.squaredL2(q, zero), k.squaredL2(q, rows, 0),
                        1e-4f * (float) Reference.squaredL2(q, zero));
                // cosine with a zero norm is 0/0: NaN (validation keeps zero vectors out of cosine stores)
                assertTrue(Float.isNaN(k.cosine(q, k.norm(q), rows, 0, 0f)), name + " cosine vs zero row");
            }
        }
    }

    @Test
    void validationRejectsBadVectorsWithClearMessages() {
        assertThatThrownBy(() -> VectorValidation.validate(new float[3], 4, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dimension 3").hasMessageContaining("expects 4");
        assertThatThrownBy(() -> VectorValidation.validate(new float[] {1f, Float.NaN, 2f}, 3, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("component 1").hasMessageContaining("NaN");
        assertThatThrownBy(() -> VectorValidation.validate(new float[] {Float.POSITIVE_INFINITY}, 1, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("component 0").hasMessageContaining("Infinity");
        assertThatThrownBy(() -> VectorValidation.validate(new float[] {0f, Float.NEGATIVE_INFINITY}, 2, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("component 1").hasMessageContaining("-Infinity");
        assertThatThrownBy(() -> VectorValidation.validate(new float[5], 5, true))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("zero vector").hasMessageContaining("cosine");
        assertThatThrownBy(() -> VectorValidation.validate(new float[] {3e19f, 3e19f}, 2, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("norm overflows");
        assertThatThrownBy(() -> VectorValidation.validate(null, 2, false))
                .isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> VectorValidation.checkDimension(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dimension");
        assertThatThrownBy(() -> VectorValidation.checkK(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("k must be at least 1");
        assertThatThrownBy(() -> TopK.highest(0)).isInstanceOf(IllegalArgumentException.class);

        // a zero vector is fine for dot product and L2; validate returns the norm to store
        assertEquals(0f, VectorValidation.validate(new float[5], 5, false));
        assertEquals(5f, VectorValidation.validate(new float[] {3f, 4f}, 2, true));
        float[] big = {1e19f, 1e19f};
        assertThat(VectorValidation.validate(big, 2, true)).isFinite();
    }
}
