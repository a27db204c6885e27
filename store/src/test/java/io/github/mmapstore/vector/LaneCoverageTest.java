package io.github.mmapstore.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every lane counts. The seed project shipped a SIMD kernel that summed half its lanes and a self-test
 * on constant vectors that could not see it. Here: (1) a model of exactly that bug passes a
 * constant-vector check but fails the random-vector check the real kernels pass; (2) a basis-vector
 * probe shows each component position reaches the result exactly once.
 */
class LaneCoverageTest {
    static Stream<Arguments> kernels() {
        return KernelCorrectnessTest.kernels();
    }

    /**
     * The seed's bug, modelled: full vectors contribute only their lower half of lanes, doubled (so a
     * constant input still gives the right answer); the tail is right.
     */
    static double halfLanesDot(float[] a, float[] b, int lanes) {
        double s = 0;
        int full = a.length - a.length % lanes;
        for (int i = 0; i < full; i++) {
            if (i % lanes < lanes / 2) {
                s += 2.0 * a[i] * b[i];
            }
        }
        for (int i = full; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    @Test
    void theRandomVectorCheckCatchesAHalfLanesKernelThatConstantVectorsCannot() {
        int lanes = KernelCorrectnessTest.SIMD.lanes();
        Random rnd = new Random(99);
        for (int dim : KernelCorrectnessTest.dimensions()) {
            if (dim < lanes) {
                continue; // no full vector: the bug cannot show
            }
            float[] c = new float[dim];
            Arrays.fill(c, 0.5f);
            double constRef = Reference.dot(c, c);
            assertTrue(Reference.close(constRef, halfLanesDot(c, c, lanes), Reference.absDot(c, c)),
                    "constant vectors do not see the bug at dimension " + dim);

            // One random pair can, by chance (about 1 in 1000), have its dropped and doubled halves
            // cancel; the correctness test draws four pairs per dimension, and so does this check.
            boolean exposed = false;
            for (int draw = 0; draw < KernelCorrectnessTest.OFFSETS.length; draw++) {
                float[] a = Reference.random(rnd, dim);
                float[] b = Reference.random(rnd, dim);
                exposed |= !Reference.close(Reference.dot(a, b), halfLanesDot(a, b, lanes), Reference.absDot(a, b));
            }
            assertTrue(exposed, "random vectors expose the bug at dimension " + dim);
        }
    }

    /** dot(e_i, row) must be exactly row[i] for every position i: each component is summed once. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void eachComponentPositionContributesExactlyOnce(String name, VectorKernels k) {
        Random rnd = new Random(123);
        try (Arena arena = Arena.ofConfined()) {
            for (int dim : new int[] {1, 3, 8, 15, 16, 17, 32, 48, 63, 64, 65, 100, 128, 130, 257}) {
                float[] row = Reference.random(rnd, dim);
                MemorySegment rows = Reference.rows(arena, 0, 0, row);
                float[][] basis = new float[dim][dim];
                for (int i = 0; i < dim; i++) {
                    basis[i][i] = 1f;
                    assertEquals(row[i], k.dot(basis[i], rows, 0), name + " dim " + dim + " position " + i);
                }
                float[][] multi = new float[dim][1];
                k.dotMulti(basis, rows, 0, VectorLayout.alignedRowBytes(dim), 1, multi, 0);
                for (int i = 0; i < dim; i++) {
                    assertEquals(row[i], multi[i][0], name + " multi dim " + dim + " position " + i);
                }
            }
        }
    }
}
