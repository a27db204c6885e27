package io.github.mmapstore.benchmarks.embedding;

import io.github.mmapstore.engine.LiveRowVisitor;
import io.github.mmapstore.engine.SegmentRows;
import io.github.mmapstore.streams.KnnQuery;
import io.github.mmapstore.streams.KnnResult;
import io.github.mmapstore.streams.Similarity;
import io.github.mmapstore.vector.EmbeddingFormat;
import io.github.mmapstore.vector.TopK;
import io.github.mmapstore.vector.VectorLayout;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.apache.lucene.util.VectorUtil;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Exact top-10 over {@code n} vectors of {@code dimension} floats (default 1,000,000 x 768 = 3 GB, more
 * than any cache) in an embedding store compacted to one segment, against two yardsticks measured in the
 * same run:
 *
 * <ul>
 *   <li>{@code bandwidthSum}: the machine's memory read bandwidth over the same mapped vector column: a
 *       plain SIMD sum of every float of the column (4 accumulators of the preferred species), read
 *       through the same {@code scanLive} runs as the search, so the only difference is the kernel and
 *       the top-k selection;</li>
 *   <li>{@code luceneHeap}: the same scan with Lucene's {@code VectorUtil.dotProduct} (Panama SIMD when
 *       the incubator module is present) over {@code float[]} rows on the Java heap, top-10 kept by the
 *       store's own {@code TopK}.</li>
 * </ul>
 * One operation is one full scan: vectors/s = n x score, GB/s = n x 4 x dimension x score / 1e9. The
 * {@code ...2Threads} variants run two scans concurrently (two IQ requests at once; JMH sums both
 * threads), {@code scanTopKBatch4} answers 4 queries in one pass (the similarity join's batched mode).
 *
 * <p>Run: {@code java --add-modules jdk.incubator.vector -Dbench.dir=benchmarks/work -jar
 * benchmarks/target/benchmarks.jar EmbeddingScanBenchmark}; the store is built once (a few minutes),
 * then reused.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms1g", "-Xmx1g"})
@Warmup(iterations = 2, time = 4)
@Measurement(iterations = 3, time = 5)
public class EmbeddingScanBenchmark {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int K = 10;

    @Param({"1000000"})
    public int n;

    @Param({"768"})
    public int dimension;

    EmbeddingData.Store store;
    private long rowBytes;

    @Setup(Level.Trial)
    public void open() throws IOException {
        store = EmbeddingData.open(n, dimension, Similarity.DOT_PRODUCT);
        rowBytes = VectorLayout.alignedRowBytes(dimension);
    }

    @TearDown(Level.Trial)
    public void close() {
        store.close();
    }

    /** Per-thread query vectors, rotated so that no result is reused. */
    @State(Scope.Thread)
    public static class Queries {
        private float[][] vectors;
        private int next;

        @Setup(Level.Trial)
        public void make(EmbeddingScanBenchmark b) {
            vectors = new float[8][];
            long seed = Thread.currentThread().threadId() * 1000;
            for (int i = 0; i < vectors.length; i++) {
                vectors[i] = EmbeddingData.query(b.dimension, seed + i);
            }
        }

        float[] next() {
            float[] v = vectors[next];
            next = (next + 1) % vectors.length;
            return v;
        }
    }

    // ---- the store's scan ----

    @Benchmark
    public KnnResult scanTopK(Queries q) {
        return store.search(KnnQuery.nearest(q.next(), K));
    }

    @Benchmark
    @Threads(2)
    public KnnResult scanTopK2Threads(Queries q) {
        return store.search(KnnQuery.nearest(q.next(), K));
    }

    @Benchmark
    public List<KnnResult> scanTopKBatch4(Queries q) {
        return store.search(List.of(KnnQuery.nearest(q.next(), K), KnnQuery.nearest(q.next(), K),
                KnnQuery.nearest(q.next(), K), KnnQuery.nearest(q.next(), K)));
    }

    // ---- memory bandwidth over the same mapped column ----

    @Benchmark
    public float bandwidthSum() {
        return sumColumn();
    }

    @Benchmark
    @Threads(2)
    public float bandwidthSum2Threads() {
        return sumColumn();
    }

    private float sumColumn() {
        float[] total = new float[1];
        store.engine().scanLive(new LiveRowVisitor() {
            @Override
            public void memtable(byte[] key, byte[] value) {
                throw new IllegalStateException("the benchmark store has an empty memtable");
            }

            @Override
            public void segmentRows(SegmentRows seg, long from, long to) {
                total[0] += sum(seg.columnRows(EmbeddingFormat.COL_VECTORS, from, to));
            }
        });
        return total[0];
    }

    /**
     * Sum of every float of the column, row by row with an int-counted inner loop (the loop shape the
     * kernels use, which C2 compiles best), four accumulators carried across rows.
     */
    float sum(MemorySegment s) {
        int dim = dimension;
        int lanes = SPECIES.length();
        int l4 = 4 * lanes;
        long rows = s.byteSize() / rowBytes;
        FloatVector a0 = FloatVector.zero(SPECIES);
        FloatVector a1 = FloatVector.zero(SPECIES);
        FloatVector a2 = FloatVector.zero(SPECIES);
        FloatVector a3 = FloatVector.zero(SPECIES);
        float tail = 0;
        for (long r = 0; r < rows; r++) {
            long base = r * rowBytes;
            int i = 0;
            for (int bound = dim - dim % l4; i < bound; i += l4) {
                a0 = a0.add(FloatVector.fromMemorySegment(SPECIES, s, base + 4L * i, ByteOrder.LITTLE_ENDIAN));
                a1 = a1.add(FloatVector.fromMemorySegment(SPECIES, s, base + 4L * (i + lanes), ByteOrder.LITTLE_ENDIAN));
                a2 = a2.add(FloatVector.fromMemorySegment(SPECIES, s, base + 4L * (i + 2 * lanes), ByteOrder.LITTLE_ENDIAN));
                a3 = a3.add(FloatVector.fromMemorySegment(SPECIES, s, base + 4L * (i + 3 * lanes), ByteOrder.LITTLE_ENDIAN));
            }
            for (; i < dim; i++) {
                tail += s.get(VectorLayout.FLOAT_LE, base + 4L * i);
            }
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD) + tail;
    }

    // ---- Lucene on the heap ----

    /** The same vectors as {@code float[]} rows on the heap (copied once from the store). */
    @State(Scope.Benchmark)
    public static class Heap {
        float[][] rows;

        @Setup(Level.Trial)
        public void load(EmbeddingScanBenchmark b) {
            rows = new float[b.n][];
            int[] next = {0};
            int dim = b.dimension;
            b.store.engine().scanLive(new LiveRowVisitor() {
                @Override
                public void memtable(byte[] key, byte[] value) {
                    throw new IllegalStateException("the benchmark store has an empty memtable");
                }

                @Override
                public void segmentRows(SegmentRows seg, long from, long to) {
                    MemorySegment col = seg.columnRows(EmbeddingFormat.COL_VECTORS, from, to);
                    for (long r = 0; r < to - from; r++) {
                        rows[next[0]++] = VectorLayout.readRow(col, r * b.rowBytes, dim);
                    }
                }
            });
            if (next[0] != b.n) {
                throw new IllegalStateException("read " + next[0] + " rows, expected " + b.n);
            }
        }
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms6g", "-Xmx6g"})
    public List<TopK.Hit> luceneHeap(Heap heap, Queries q) {
        float[] query = q.next();
        float[][] rows = heap.rows;
        TopK top = TopK.highest(K);
        for (int i = 0; i < rows.length; i++) {
            top.offer(VectorUtil.dotProduct(query, rows[i]), i);
        }
        return top.toSortedList();
    }

    /** Keeps the blackhole import honest for quick edits. */
    static void consume(Blackhole bh, Object o) {
        bh.consume(o);
    }
}
