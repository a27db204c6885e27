package io.github.mmapstore.vector;

import static io.github.mmapstore.vector.Reference.absDot;
import static io.github.mmapstore.vector.Reference.close;
import static io.github.mmapstore.vector.Reference.explain;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SIMD and scalar kernels against a double-precision reference, at every dimension 1..130 and at odd
 * sizes around the vector width (tail loops), at aligned and unaligned offsets, with rows ending exactly
 * at the end of their segment.
 */
class KernelCorrectnessTest {
    static final VectorKernels SIMD = VectorKernels.simd().orElseThrow(
            () -> new AssertionError("tests run with " + VectorKernels.ENABLE_FLAG + " (Surefire argLine)"));
    static final VectorKernels SCALAR = VectorKernels.scalar();
    /** Byte offsets of the row: aligned, float-aligned, odd, and one short of a cache line. */
    static final long[] OFFSETS = {0, 4, 1, 60};

    static int[] dimensions() {
        IntStream small = IntStream.rangeClosed(1, 130);
        IntStream odd = IntStream.of(255, 256, 257, 383, 384, 511, 767, 768, 769, 1023, 1536, 1537);
        return IntStream.concat(small, odd).toArray();
    }

    static Stream<Arguments> kernels() {
        return Stream.of(Arguments.of("simd", SIMD), Arguments.of("scalar", SCALAR));
    }

    @BeforeAll
    static void simdIsReallySimd() {
        assertThat(SIMD.isSimd()).isTrue();
        assertThat(SIMD.lanes()).isGreaterThanOrEqualTo(4);
        assertThat(SCALAR.isSimd()).isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void singleRowKernelsMatchDoubleReferenceAtEveryDimension(String name, VectorKernels k) {
        Random rnd = new Random(42);
        try (Arena arena = Arena.ofConfined()) {
            for (int dim : dimensions()) {
                for (long off : OFFSETS) {
                    float[] q = Reference.random(rnd, dim);
                    float[] row = Reference.random(rnd, dim);
                    MemorySegment rows = Reference.rows(arena, off, 0, row);
                    MemorySegment qs = Reference.rows(arena, off == 0 ? 4 : 0, 0, q);
                    long qOff = off == 0 ? 4 : 0;
                    double scale = absDot(q, row);

                    double dot = Reference.dot(q, row);
                    checkClose(name + " dot(float[])", dim, dot, k.dot(q, rows, off), scale);
                    checkClose(name + " dot(segment)", dim, dot, k.dot(qs, qOff, rows, off, dim), scale);

                    double l2 = Reference.squaredL2(q, row);
                    checkClose(name + " squaredL2(float[])", dim, l2, k.squaredL2(q, rows, off), l2);
                    checkClose(name + " squaredL2(segment)", dim, l2, k.squaredL2(qs, qOff, rows, off, dim), l2);

                    double norm = Reference.norm(row);
                    checkClose(name + " norm(segment)", dim, norm, k.norm(rows, off, dim), norm);
                    checkClose(name + " norm(float[])", dim, norm, k.norm(row), norm);

                    float qn = k.norm(q);
                    float rn = k.norm(rows, off, dim);
                    double cos = Reference.cosine(q, row);
                    double cosScale = scale / (Reference.norm(q) * norm);
                    checkClose(name + " cosine(float[])", dim, cos, k.cosine(q, qn, rows, off, rn), cosScale);
                    checkClose(name + " cosine(segment)", dim, cos, k.cosine(qs, qOff, qn, rows, off, rn, dim),
                            cosScale);
                }
            }
        }
    }

    /** All-positive data: no cancellation, so a plain relative tolerance applies to the dot product. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void dotOfPositiveVectorsIsRelativelyExact(String name, VectorKernels k) {
        Random rnd = new Random(7);
        try (Arena arena = Arena.ofConfined()) {
            for (int dim : dimensions()) {
                float[] q = Reference.randomPositive(rnd, dim);
                float[] row = Reference.randomPositive(rnd, dim);
                MemorySegment rows = Reference.rows(arena, 0, 0, row);
                double dot = Reference.dot(q, row);
                float got = k.dot(q, rows, 0);
                assertTrue(Math.abs(got - dot) <= Reference.REL_TOL * dot, explain(name + " dot", dim, dot, got, dot));
            }
        }
    }

    @Test
    void simdAgreesWithScalarAtEveryDimension() {
        Random rnd = new Random(3);
        try (Arena arena = Arena.ofConfined()) {
            for (int dim : dimensions()) {
                float[] q = Reference.random(rnd, dim);
                float[] row = Reference.random(rnd, dim);
                MemorySegment rows = Reference.rows(arena, 0, 0, row);
                double scale = absDot(q, row);
                checkClose("simd vs scalar dot", dim, SCALAR.dot(q, rows, 0), SIMD.dot(q, rows, 0), scale);
                float l2 = SCALAR.squaredL2(q, rows, 0);
                checkClose("simd vs scalar l2", dim, l2, SIMD.squaredL2(q, rows, 0), l2);
                float n = SCALAR.norm(rows, 0, dim);
                checkClose("simd vs scalar norm", dim, n, SIMD.norm(rows, 0, dim), n);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void batchedFormsEqualTheSingleRowFormAndTheReference(String name, VectorKernels k) {
        Random rnd = new Random(11);
        try (Arena arena = Arena.ofConfined()) {
            for (int dim : new int[] {1, 3, 15, 16, 17, 31, 33, 64, 100, 127, 129, 257, 769}) {
                for (long off : new long[] {0, 4, 1}) {
                    int n = 1 + rnd.nextInt(9);
                    long stride = VectorLayout.alignedRowBytes(dim) + (off == 1 ? 4 : 0);
                    float[] q = Reference.random(rnd, dim);
                    float[][] rowArr = new float[n][];
                    float[] norms = new float[n];
                    for (int r = 0; r < n; r++) {
                        rowArr[r] = Reference.random(rnd, dim);
                        norms[r] = (float) Reference.norm(rowArr[r]);
                    }
                    MemorySegment rows = Reference.rows(arena, off, stride, rowArr);
                    MemorySegment normCol = Reference.column(arena, 8, norms);
                    float qn = k.norm(q);
                    float[] dots = new float[n + 2];
                    float[] l2s = new float[n + 2];
                    float[] coss = new float[n + 2];
                    k.dotBatch(q, rows, off, stride, n, dots, 1);
                    k.squaredL2Batch(q, rows, off, stride, n, l2s, 1);
                    k.cosineBatch(q, qn, rows, off, stride, n, normCol, 8, coss, 1);
                    assertEquals(0f, dots[0]);
                    assertEquals(0f, dots[n + 1]);
                    for (int r = 0; r < n; r++) {
                        long ro = off + r * stride;
                        assertEquals(k.dot(q, rows, ro), dots[1 + r], name + " dotBatch row " + r);
                        assertEquals(k.squaredL2(q, rows, ro), l2s[1 + r], name + " squaredL2Batch row " + r);
                        assertEquals(k.cosine(q, qn, rows, ro, norms[r]), coss[1 + r], name + " cosineBatch row " + r);
                        double scale = absDot(q, rowArr[r]);
                        checkClose(name + " dotBatch", dim, Reference.dot(q, rowArr[r]), dots[1 + r], scale);
                        checkClose(name + " cosineBatch", dim, Reference.cosine(q, rowArr[r]), coss[1 + r],
                                scale / (Reference.norm(q) * Reference.norm(rowArr[r])));
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void multiQueryFormsMatchTheReference(String name, VectorKernels k) {
        Random rnd = new Random(13);
        try (Arena arena = Arena.ofConfined()) {
            for (int dim : new int[] {1, 5, 16, 17, 47, 64, 130, 383, 768}) {
                for (int nq : new int[] {1, 3, 4, 5, 8, 9}) {
                    int n = 1 + rnd.nextInt(7);
                    long stride = VectorLayout.alignedRowBytes(dim);
                    float[][] queries = new float[nq][];
                    float[] qNorms = new float[nq];
                    for (int i = 0; i < nq; i++) {
                        queries[i] = Reference.random(rnd, dim);
                        qNorms[i] = k.norm(queries[i]);
                    }
                    float[][] rowArr = new float[n][];
                    float[] norms = new float[n];
                    for (int r = 0; r < n; r++) {
                        rowArr[r] = Reference.random(rnd, dim);
                        norms[r] = (float) Reference.norm(rowArr[r]);
                    }
                    MemorySegment rows = Reference.rows(arena, 64, stride, rowArr);
                    MemorySegment normCol = Reference.column(arena, 0, norms);
                    float[][] dots = new float[nq][n + 3];
                    float[][] l2s = new float[nq][n + 3];
                    float[][] coss = new float[nq][n + 3];
                    k.dotMulti(queries, rows, 64, stride, n, dots, 3);
                    k.squaredL2Multi(queries, rows, 64, stride, n, l2s, 3);
                    k.cosineMulti(queries, qNorms, rows, 64, stride, n, normCol, 0, coss, 3);
                    for (int i = 0; i < nq; i++) {
                        assertEquals(0f, dots[i][2]);
                        for (int r = 0; r < n; r++) {
                            float[] q = queries[i];
                            float[] row = rowArr[r];
                            double scale = absDot(q, row);
                            String what = name + " multi q" + i + "/" + nq + " row " + r;
                            checkClose(what + " dot", dim, Reference.dot(q, row), dots[i][3 + r], scale);
                            double l2 = Reference.squaredL2(q, row);
                            checkClose(what + " l2", dim, l2, l2s[i][3 + r], l2);
                            checkClose(what + " cosine", dim, Reference.cosine(q, row), coss[i][3 + r],
                                    scale / (Reference.norm(q) * Reference.norm(row)));
                        }
                    }
                }
            }
        }
    }

    /** Rows in heap segments: a byte[] (e.g. a memtable buffer) and a float[]. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void heapSegmentsWork(String name, VectorKernels k) {
        Random rnd = new Random(5);
        for (int dim : new int[] {1, 7, 16, 33, 130}) {
            float[] q = Reference.random(rnd, dim);
            float[] row = Reference.random(rnd, dim);
            byte[] bytes = new byte[4 + dim * 4];
            MemorySegment viaBytes = MemorySegment.ofArray(bytes);
            MemorySegment.copy(row, 0, viaBytes, VectorLayout.FLOAT_LE, 4, dim);
            MemorySegment viaFloats = MemorySegment.ofArray(row.clone());
            double dot = Reference.dot(q, row);
            double scale = absDot(q, row);
            checkClose(name + " dot byte[]", dim, dot, k.dot(q, viaBytes, 4), scale);
            checkClose(name + " dot float[]", dim, dot, k.dot(q, viaFloats, 0), scale);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void batchArgumentsAreCheckedBeforeAnythingIsWritten(String name, VectorKernels k) {
        try (Arena arena = Arena.ofConfined()) {
            int dim = 20;
            long stride = VectorLayout.alignedRowBytes(dim);
            MemorySegment rows = VectorLayout.allocateRows(arena, 3, dim);
            float[] q = new float[dim];
            float[] scores = {7f, 7f, 7f, 7f};
            // 4 rows do not fit in a 3-row segment
            org.junit.jupiter.api.Assertions.assertThrows(IndexOutOfBoundsException.class,
                    () -> k.dotBatch(q, rows, 0, stride, 4, scores, 0));
            // the scores array is too short
            org.junit.jupiter.api.Assertions.assertThrows(IndexOutOfBoundsException.class,
                    () -> k.dotBatch(q, rows, 0, stride, 3, scores, 2));
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> k.dotBatch(q, rows, 0, 40, 2, scores, 0));
            org.junit.jupiter.api.Assertions.assertThrows(IndexOutOfBoundsException.class,
                    () -> k.cosineBatch(q, 1f, rows, 0, stride, 3, Reference.column(arena, 0, new float[2]),
                            0, scores, 0));
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> k.dotMulti(new float[][] {q, new float[dim + 1]}, rows, 0, stride, 1,
                            new float[][] {new float[1], new float[1]}, 0));
            assertThat(scores).containsExactly(7f, 7f, 7f, 7f);
            k.dotBatch(q, rows, 0, stride, 0, scores, 4);
            k.dotMulti(new float[0][], rows, 0, stride, 3, new float[0][], 0);
        }
    }

    @Test
    void alignedRowBytesRoundsUpToACacheLine() {
        assertEquals(64, VectorLayout.alignedRowBytes(1));
        assertEquals(64, VectorLayout.alignedRowBytes(16));
        assertEquals(128, VectorLayout.alignedRowBytes(17));
        assertEquals(3072, VectorLayout.alignedRowBytes(768));
        assertEquals(1024 + 64, VectorLayout.alignedRowBytes(257));
        for (int d : List.of(1, 2, 15, 31, 100, 1537)) {
            long b = VectorLayout.alignedRowBytes(d);
            assertTrue(b % 64 == 0 && b >= 4L * d && b < 4L * d + 64, "dimension " + d);
        }
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> VectorLayout.alignedRowBytes(0));
    }

    @Test
    void writeRowPadsWithZerosAndReadRowRoundTrips() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = VectorLayout.allocateRows(arena, 2, 5);
            s.fill((byte) 0x7f);
            float[] v = {1f, -2f, 3.5f, Float.MIN_VALUE, -0f};
            VectorLayout.writeRow(s, 64, v);
            assertThat(VectorLayout.readRow(s, 64, 5)).containsExactly(v);
            for (long b = 64 + 20; b < 128; b++) {
                assertEquals(0, s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, b), "padding byte " + b);
            }
            // 1.0f = 0x3f800000, stored little-endian whatever the platform
            assertEquals((byte) 0x00, s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 64));
            assertEquals((byte) 0x80, s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 66));
            assertEquals((byte) 0x3f, s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 67));
        }
    }

    static void checkClose(String what, int dim, double expected, double got, double scale) {
        assertTrue(close(expected, got, scale), () -> explain(what, dim, expected, got, scale));
    }
}
