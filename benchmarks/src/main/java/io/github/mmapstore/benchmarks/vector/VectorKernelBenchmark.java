package io.github.mmapstore.benchmarks.vector;

import io.github.mmapstore.vector.VectorKernels;
import io.github.mmapstore.vector.VectorLayout;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Kernel throughput: one query scored against a block of {@value #ROWS} rows that stays in cache (768
 * dimensions: 3 MB, in L2+L3), SIMD against scalar in the same run. Scores are rows per second
 * ({@link OperationsPerInvocation} = rows per call), so the SIMD/scalar ratio is a ratio of scores.
 *
 * <ul>
 *   <li>{@code kernels=simd}: {@code SimdKernels} (Vector API, preferred species; 512-bit on AVX-512).</li>
 *   <li>{@code kernels=scalar}: {@code ScalarKernels}, the store's fallback (four accumulators).</li>
 *   <li>{@code kernels=naive}: a one-accumulator loop over the same segment, the textbook scalar loop,
 *       for reference; not used by the store.</li>
 * </ul>
 * {@code dot} and {@code cosine} are the batched kernels the store's scan calls (cosine = dot product
 * divided by precomputed norms read from a norm column); {@code dotPerRow} calls the one-row kernel
 * per row, to show the per-call overhead. {@code memory=mapped} puts the rows in a memory-mapped temp
 * file instead of an arena (same kernels: both are native segments).
 *
 * <p>Quick run: {@code java -jar benchmarks/target/benchmarks.jar VectorKernelBenchmark -f 1 -wi 3 -w 1s
 * -i 5 -r 1s}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@OperationsPerInvocation(VectorKernelBenchmark.ROWS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class VectorKernelBenchmark {
    static final int ROWS = 1000;

    @Param({"128", "384", "768", "1536"})
    public int dimension;

    @Param({"simd", "scalar", "naive"})
    public String kernels;

    @Param({"arena"})
    public String memory;

    private Arena arena;
    private Path file;
    private MemorySegment rows;
    private MemorySegment norms;
    private long stride;
    private float[] query;
    private float queryNorm;
    private float[] scores;
    private VectorKernels k;
    private boolean naive;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        naive = kernels.equals("naive");
        k = switch (kernels) {
            case "simd" -> VectorKernels.simd().orElseThrow(() -> new IllegalStateException(
                    "SIMD kernels unavailable: run with " + VectorKernels.ENABLE_FLAG));
            case "scalar", "naive" -> VectorKernels.scalar();
            default -> throw new IllegalArgumentException("kernels=" + kernels);
        };
        stride = VectorLayout.alignedRowBytes(dimension);
        arena = Arena.ofShared();
        long bytes = ROWS * stride;
        rows = switch (memory) {
            case "arena" -> arena.allocate(bytes, VectorLayout.ROW_ALIGNMENT);
            case "mapped" -> {
                file = Files.createTempFile("vector-kernel-bench", ".vec");
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                    yield ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes, arena);
                }
            }
            default -> throw new IllegalArgumentException("memory=" + memory);
        };
        norms = arena.allocate((long) ROWS * Float.BYTES, VectorLayout.ROW_ALIGNMENT);
        SplittableRandom rnd = new SplittableRandom(42);
        float[] v = new float[dimension];
        for (int r = 0; r < ROWS; r++) {
            fill(rnd, v);
            VectorLayout.writeRow(rows, r * stride, v);
            norms.setAtIndex(VectorLayout.FLOAT_LE, r, VectorKernels.scalar().norm(v));
        }
        query = new float[dimension];
        fill(rnd, query);
        queryNorm = VectorKernels.scalar().norm(query);
        scores = new float[ROWS];
    }

    private static void fill(SplittableRandom rnd, float[] v) {
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        arena.close();
        if (file != null) {
            Files.deleteIfExists(file);
        }
    }

    @Benchmark
    public float[] dot() {
        if (naive) {
            for (int r = 0; r < ROWS; r++) {
                scores[r] = naiveDot(query, rows, r * stride);
            }
        } else {
            k.dotBatch(query, rows, 0, stride, ROWS, scores, 0);
        }
        return scores;
    }

    @Benchmark
    public float[] cosine() {
        if (naive) {
            for (int r = 0; r < ROWS; r++) {
                float rowNorm = norms.getAtIndex(VectorLayout.FLOAT_LE, r);
                scores[r] = naiveDot(query, rows, r * stride) / queryNorm / rowNorm;
            }
        } else {
            k.cosineBatch(query, queryNorm, rows, 0, stride, ROWS, norms, 0, scores, 0);
        }
        return scores;
    }

    @Benchmark
    public float dotPerRow() {
        float sum = 0;
        for (int r = 0; r < ROWS; r++) {
            sum += naive ? naiveDot(query, rows, r * stride) : k.dot(query, rows, r * stride);
        }
        return sum;
    }

    /** The textbook loop: one accumulator, so each add waits for the previous one. */
    static float naiveDot(float[] q, MemorySegment s, long off) {
        float acc = 0f;
        for (int i = 0; i < q.length; i++) {
            acc += q[i] * s.get(VectorLayout.FLOAT_LE, off + (long) i * Float.BYTES);
        }
        return acc;
    }
}
