package io.github.mmapstore.streams;

import io.github.mmapstore.engine.EngineException;
import io.github.mmapstore.vector.EmbeddingFormat;
import io.github.mmapstore.vector.VectorKernels;
import io.github.mmapstore.vector.VectorLayout;
import io.github.mmapstore.vector.VectorValidation;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.Query;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.state.internals.CachedStateStore;
import org.apache.kafka.streams.state.internals.StoreQueryUtils;
import org.apache.kafka.streams.state.internals.WrappedStateStore;

/**
 * A key-value store of embeddings ({@link EmbeddingSerde} values) that answers {@link KnnQuery}: exact
 * top-k by cosine, dot product or Euclidean distance, with SIMD kernels on the mapped vector column.
 *
 * <p>Every write is checked: the value must be an embedding of the store's dimension with finite
 * components, and under cosine not the zero vector; anything else is refused with an
 * {@link IllegalArgumentException} and changes nothing.
 *
 * <p>Caching must be off for this store ({@code withCachingDisabled()}): Kafka's record cache holds
 * writes back from the store until a commit, and a search would not see them. {@link #init} refuses a
 * store built with caching rather than answer searches with stale data.
 */
public class MmapEmbeddingStore extends MmapKeyValueStore {
    private final int dimension;
    private final Similarity similarity;
    private final EmbeddingSearcher searcher;

    public MmapEmbeddingStore(String name, String metricsScope, int dimension, Similarity similarity) {
        super(name, metricsScope, new EmbeddingFormat.Columns(dimension));
        this.dimension = dimension;
        this.similarity = similarity;
        this.searcher = new EmbeddingSearcher(dimension, similarity, VectorKernels.best());
    }

    public int dimension() {
        return dimension;
    }

    public Similarity similarity() {
        return similarity;
    }

    @Override
    public void init(StateStoreContext context, StateStore root) {
        for (StateStore s = root; s != null; s = s instanceof WrappedStateStore<?, ?, ?> w ? w.wrapped() : null) {
            if (s instanceof CachedStateStore<?, ?>) {
                throw new IllegalStateException("embedding store " + name() + " is built with caching enabled; "
                        + "searches would miss cached writes: build it with withCachingDisabled()");
            }
            if (s == this) {
                break;
            }
        }
        super.init(context, root);
    }

    /** Checks a value before it is written; null (a delete) is fine. */
    void checkValue(byte[] value) {
        if (value == null) {
            return;
        }
        int dim;
        try {
            dim = EmbeddingFormat.check(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("store " + name() + ": " + e.getMessage(), e);
        }
        if (dim != dimension) {
            throw new IllegalArgumentException("store " + name() + " holds embeddings of dimension " + dimension
                    + "; got one of dimension " + dim);
        }
        MemorySegment v = MemorySegment.ofArray(value);
        for (int i = 0; i < dim; i++) {
            float f = v.get(VectorLayout.FLOAT_LE, EmbeddingFormat.VECTOR_OFFSET + 4L * i);
            if (!Float.isFinite(f)) {
                throw new IllegalArgumentException("store " + name() + ": component " + i + " of the embedding is " + f);
            }
        }
        if (similarity == Similarity.COSINE && EmbeddingFormat.norm(v, EmbeddingFormat.VECTOR_OFFSET, dim) == 0f) {
            throw new IllegalArgumentException("store " + name() + " ranks by cosine: the zero vector has no direction");
        }
    }

    @Override
    public void put(Bytes key, byte[] value) {
        checkValue(value);
        super.put(key, value);
    }

    @Override
    public byte[] putIfAbsent(Bytes key, byte[] value) {
        checkValue(value);
        return super.putIfAbsent(key, value);
    }

    @Override
    public void putAll(List<KeyValue<Bytes, byte[]>> entries) {
        for (KeyValue<Bytes, byte[]> kv : entries) {
            checkValue(kv.value);
        }
        super.putAll(entries);
    }

    /** Exact top-k over every live row of this store (memtable and segments). */
    public KnnResult search(KnnQuery query) {
        try {
            return searcher.search(core().engine(), query);
        } catch (EngineException e) {
            throw core().translate("searching", e);
        }
    }

    /** Several searches in one pass over the data (similarity joins). */
    public List<KnnResult> search(List<KnnQuery> queries) {
        try {
            return searcher.search(core().engine(), queries);
        } catch (EngineException e) {
            throw core().translate("searching", e);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public <R> QueryResult<R> query(Query<R> query, PositionBound positionBound, QueryConfig config) {
        if (query instanceof KnnQuery knn) {
            int partition = core().context().taskId().partition();
            if (!StoreQueryUtils.isPermitted(core().position(), positionBound, partition)) {
                return QueryResult.notUpToBound(core().position(), positionBound, partition);
            }
            long start = System.nanoTime();
            QueryResult<R> result;
            try {
                VectorValidation.checkDimension(dimension, knn.vectorNoCopy().length);
                result = (QueryResult<R>) QueryResult.forResult(search(knn));
            } catch (IllegalArgumentException e) {
                result = QueryResult.forFailure(org.apache.kafka.streams.query.FailureReason.STORE_EXCEPTION,
                        "bad KnnQuery for store " + name() + ": " + e.getMessage());
            }
            if (config.isCollectExecutionInfo()) {
                result.addExecutionInfo("Handled KnnQuery in " + getClass().getName() + " in " + (System.nanoTime() - start) + "ns");
            }
            result.setPosition(core().position().copy());
            return result;
        }
        return super.query(query, positionBound, config);
    }
}
