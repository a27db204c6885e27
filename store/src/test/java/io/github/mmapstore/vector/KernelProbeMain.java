package io.github.mmapstore.vector;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

/**
 * Run in a child JVM by {@link KernelSelectionTest}: prints which kernels {@link VectorKernels#best()}
 * chose, then checks them against the double reference at dimensions 1..130 and a few large odd ones
 * (so a JVM limited to 128- or 256-bit vectors tests those tail paths too). Exit code 0 on success.
 */
public final class KernelProbeMain {
    private KernelProbeMain() {
    }

    public static void main(String[] args) {
        VectorKernels k = VectorKernels.best();
        System.out.println("PROBE simd=" + k.isSimd() + " lanes=" + k.lanes() + " description=" + k.description());
        Random rnd = new Random(1);
        int failures = 0;
        try (Arena arena = Arena.ofConfined()) {
            int[] extra = {255, 257, 383, 769, 1537};
            for (int d = 1; d <= 130 + extra.length; d++) {
                int dim = d <= 130 ? d : extra[d - 131];
                float[] q = Reference.random(rnd, dim);
                float[] row = Reference.random(rnd, dim);
                MemorySegment rows = Reference.rows(arena, 4, 0, row);
                double scale = Reference.absDot(q, row);
                double l2 = Reference.squaredL2(q, row);
                float[][] multi = new float[5][1];
                k.dotMulti(new float[][] {q, q, q, q, q}, rows, 4, VectorLayout.alignedRowBytes(dim), 1, multi, 0);
                if (!Reference.close(Reference.dot(q, row), k.dot(q, rows, 4), scale)
                        || !Reference.close(l2, k.squaredL2(q, rows, 4), l2)
                        || !Reference.close(Reference.norm(row), k.norm(rows, 4, dim), Reference.norm(row))
                        || !Reference.close(Reference.dot(q, row), multi[0][0], scale)
                        || !Reference.close(Reference.dot(q, row), multi[4][0], scale)) {
                    System.out.println("PROBE mismatch at dimension " + dim);
                    failures++;
                }
            }
        }
        System.out.println(failures == 0 ? "PROBE check ok" : "PROBE check FAILED");
        System.exit(failures == 0 ? 0 : 1);
    }
}
