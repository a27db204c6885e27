package io.github.mmapstore.streams.internals;

import io.github.mmapstore.engine.LiveRowVisitor;
import io.github.mmapstore.engine.ReadIsolation;
import io.github.mmapstore.engine.SegmentRows;
import io.github.mmapstore.engine.StoreEngine;
import io.github.mmapstore.streams.Embedding;
import io.github.mmapstore.streams.EmbeddingSerde;
import io.github.mmapstore.streams.KnnQuery;
import io.github.mmapstore.streams.KnnResult;
import io.github.mmapstore.streams.Similarity;
import io.github.mmapstore.vector.EmbeddingFormat;
import io.github.mmapstore.vector.TopK;
import io.github.mmapstore.vector.VectorKernels;
import io.github.mmapstore.vector.VectorLayout;
import io.github.mmapstore.vector.VectorValidation;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.utils.Bytes;

/**
 * Exact top-k over every live row of an embedding store, reading the vector, norm, confidence and
 * timestamp columns of segments in place (no vector is copied onto the heap) and the memtable's values
 * where they are. Several queries share one pass over the data: each block of rows is scored against all
 * of them while it is in cache.
 * <p>Internal machinery, public for {@code MmapEmbeddingStore}; not API.
 */
public final class EmbeddingSearcher {
    /** Rows scored per kernel call: large enough to amortise the call, small enough to stay in L2. */
    private static final int BLOCK_ROWS = 256;

    /** Decodes the embeddings of matches ({@link EmbeddingSerde}'s format). */
    private static final Deserializer<Embedding> EMBEDDINGS = new EmbeddingSerde().deserializer();

    private final int dimension;
    private final Similarity similarity;
    private final VectorKernels kernels;
    private final long rowBytes;

    private final int valueOffset;

    EmbeddingSearcher(int dimension, Similarity similarity, VectorKernels kernels) {
        this(dimension, similarity, kernels, 0);
    }

    /**
     * {@code valueOffset}: bytes before the embedding in each value (8 for timestamped stores).
     * Internal machinery, public for {@code MmapEmbeddingStore}; not API.
     */
    public EmbeddingSearcher(int dimension, Similarity similarity, VectorKernels kernels, int valueOffset) {
        this.valueOffset = valueOffset;
        this.dimension = dimension;
        this.similarity = similarity;
        this.kernels = kernels;
        this.rowBytes = VectorLayout.alignedRowBytes(dimension);
    }

    /** Internal machinery, public for {@code MmapEmbeddingStore}; not API. */
    public VectorKernels kernels() {
        return kernels;
    }

    KnnResult search(StoreEngine engine, KnnQuery query) {
        return search(engine, List.of(query), ReadIsolation.LATEST).get(0);
    }

    /**
     * One pass over the data for all {@code queries}; results in the same order. At
     * {@link ReadIsolation#COMMITTED} the pass sees the store as of its last commit.
     * <p>Internal machinery, public for {@code MmapEmbeddingStore}; not API.
     */
    public List<KnnResult> search(StoreEngine engine, List<KnnQuery> queries, ReadIsolation isolation) {
        int q = queries.size();
        float[][] vectors = new float[q][];
        float[] norms = new float[q];
        TopK[] tops = new TopK[q];
        List<Map<Long, byte[][]>> accepted = new ArrayList<>(q);
        for (int i = 0; i < q; i++) {
            KnnQuery kq = queries.get(i);
            vectors[i] = kq.vector();
            VectorValidation.checkDimension(dimension, vectors[i].length);
            norms[i] = kernels.norm(vectors[i]);
            if (similarity == Similarity.COSINE) {
                VectorValidation.checkNonZeroNorm(norms[i]);
            }
            tops[i] = switch (similarity) {
                case COSINE, DOT_PRODUCT -> TopK.highest(kq.k());
                case EUCLIDEAN -> TopK.lowest(kq.k());
            };
            accepted.add(new HashMap<>());
        }
        Visitor visitor = new Visitor(queries, vectors, norms, tops, accepted);
        engine.scanLive(visitor, isolation);
        List<KnnResult> out = new ArrayList<>(q);
        for (int i = 0; i < q; i++) {
            List<TopK.Hit> hits = tops[i].toSortedList();
            List<KnnResult.Match> matches = new ArrayList<>(hits.size());
            for (TopK.Hit h : hits) {
                byte[][] kv = accepted.get(i).get(h.ordinal());
                Embedding emb = kv[1] == null ? null
                        : EMBEDDINGS.deserialize(null, valueOffset == 0 ? kv[1] : Arrays.copyOfRange(kv[1], valueOffset, kv[1].length));
                matches.add(new KnnResult.Match(Bytes.wrap(kv[0]), h.score(), emb));
            }
            out.add(new KnnResult(similarity, matches));
        }
        return out;
    }

    private final class Visitor implements LiveRowVisitor {
        private final List<KnnQuery> queries;
        private final float[][] vectors;
        private final float[] norms;
        private final TopK[] tops;
        private final List<Map<Long, byte[][]>> accepted;
        private final float[][] scores;
        private final boolean anyRowFilter;
        private long ordinal;

        Visitor(List<KnnQuery> queries, float[][] vectors, float[] norms, TopK[] tops, List<Map<Long, byte[][]>> accepted) {
            this.queries = queries;
            this.vectors = vectors;
            this.norms = norms;
            this.tops = tops;
            this.accepted = accepted;
            this.scores = new float[queries.size()][BLOCK_ROWS];
            this.anyRowFilter = queries.stream().anyMatch(EmbeddingSearcher::hasRowFilter);
        }

        @Override
        public void memtable(byte[] key, byte[] value) {
            long ord = ordinal++;
            MemorySegment v = MemorySegment.ofArray(value);
            float rowNorm = similarity == Similarity.COSINE ? kernels.norm(v, valueOffset + EmbeddingFormat.VECTOR_OFFSET, dimension) : 0f;
            for (int i = 0; i < queries.size(); i++) {
                KnnQuery kq = queries.get(i);
                if (!passes(kq, EmbeddingFormat.confidence(value, valueOffset), EmbeddingFormat.timestamp(value, valueOffset), key)) {
                    continue;
                }
                float s = switch (similarity) {
                    case COSINE -> kernels.cosine(vectors[i], norms[i], v, valueOffset + EmbeddingFormat.VECTOR_OFFSET, rowNorm);
                    case DOT_PRODUCT -> kernels.dot(vectors[i], v, valueOffset + EmbeddingFormat.VECTOR_OFFSET);
                    case EUCLIDEAN -> (float) Math.sqrt(kernels.squaredL2(vectors[i], v, valueOffset + EmbeddingFormat.VECTOR_OFFSET));
                };
                if (tops[i].offer(s, ord)) {
                    accepted.get(i).put(ord, new byte[][] {key, kq.includeEmbeddings() ? value : null});
                }
            }
        }

        @Override
        public void segmentRows(SegmentRows seg, long from, long to) {
            for (long base = from; base < to; base += BLOCK_ROWS) {
                int n = (int) Math.min(BLOCK_ROWS, to - base);
                MemorySegment vecs = seg.columnRows(EmbeddingFormat.COL_VECTORS, base, base + n);
                MemorySegment rowNorms = similarity == Similarity.COSINE
                        ? seg.columnRows(EmbeddingFormat.COL_NORMS, base, base + n) : null;
                MemorySegment conf = anyRowFilter ? seg.columnRows(EmbeddingFormat.COL_CONFIDENCE, base, base + n) : null;
                MemorySegment ts = anyRowFilter ? seg.columnRows(EmbeddingFormat.COL_TIMESTAMP, base, base + n) : null;
                score(vecs, rowNorms, n);
                long firstOrdinal = ordinal;
                ordinal += n;
                for (int r = 0; r < n; r++) {
                    long row = base + r;
                    if (seg.isTombstone(row)) {
                        continue;
                    }
                    byte[] key = null;
                    for (int i = 0; i < queries.size(); i++) {
                        KnnQuery kq = queries.get(i);
                        if (hasRowFilter(kq)) {
                            float c = conf.get(VectorLayout.FLOAT_LE, 4L * r);
                            long t = ts.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 8L * r);
                            if (kq.keyPrefix() != null && key == null) {
                                key = seg.key(row);
                            }
                            if (!passes(kq, c, t, key)) {
                                continue;
                            }
                        }
                        float s = scores[i][r];
                        if (similarity == Similarity.EUCLIDEAN) {
                            s = (float) Math.sqrt(s);
                        }
                        long ord = firstOrdinal + r;
                        if (tops[i].offer(s, ord)) {
                            if (key == null) {
                                key = seg.key(row);
                            }
                            accepted.get(i).put(ord, new byte[][] {key, kq.includeEmbeddings() ? seg.value(row) : null});
                        }
                    }
                }
            }
        }

        private void score(MemorySegment vecs, MemorySegment rowNorms, int n) {
            if (queries.size() == 1) {
                switch (similarity) {
                    case COSINE -> kernels.cosineBatch(vectors[0], norms[0], vecs, 0, rowBytes, n, rowNorms, 0, scores[0], 0);
                    case DOT_PRODUCT -> kernels.dotBatch(vectors[0], vecs, 0, rowBytes, n, scores[0], 0);
                    case EUCLIDEAN -> kernels.squaredL2Batch(vectors[0], vecs, 0, rowBytes, n, scores[0], 0);
                }
                return;
            }
            switch (similarity) {
                case COSINE -> kernels.cosineMulti(vectors, norms, vecs, 0, rowBytes, n, rowNorms, 0, scores, 0);
                case DOT_PRODUCT -> kernels.dotMulti(vectors, vecs, 0, rowBytes, n, scores, 0);
                case EUCLIDEAN -> kernels.squaredL2Multi(vectors, vecs, 0, rowBytes, n, scores, 0);
            }
        }

        private boolean passes(KnnQuery q, float confidence, long timestamp, byte[] key) {
            if (confidence < q.minConfidence() || timestamp < q.fromTimestamp() || timestamp > q.toTimestamp()) {
                return false;
            }
            if (q.keyPrefix() != null) {
                byte[] p = q.keyPrefix().get();
                return key.length >= p.length && Arrays.equals(key, 0, p.length, p, 0, p.length);
            }
            return true;
        }
    }

    /** Whether {@code q} filters rows by confidence, timestamp or key prefix. */
    private static boolean hasRowFilter(KnnQuery q) {
        return q.minConfidence() != Float.NEGATIVE_INFINITY || q.fromTimestamp() != Long.MIN_VALUE
                || q.toTimestamp() != Long.MAX_VALUE || q.keyPrefix() != null;
    }
}
