package io.github.mmapstore.streams;

import io.github.mmapstore.engine.EngineException;
import io.github.mmapstore.engine.ReadIsolation;
import io.github.mmapstore.streams.internals.EmbeddingSearcher;
import io.github.mmapstore.streams.internals.MmapKeyValueStore;
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
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.Query;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.state.internals.CachingKeyValueStore;
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
        this(name, metricsScope, dimension, similarity, VectorKernels.best());
    }

    /** With chosen kernels (tests compare the SIMD and the scalar path). */
    MmapEmbeddingStore(String name, String metricsScope, int dimension, Similarity similarity, VectorKernels kernels) {
        this(name, metricsScope, dimension, similarity, kernels, 0);
    }

    /** {@code valueOffset}: bytes before the embedding in each value (8 in the timestamped variant). */
    MmapEmbeddingStore(String name, String metricsScope, int dimension, Similarity similarity, VectorKernels kernels,
                       int valueOffset) {
        super(name, metricsScope, new EmbeddingFormat.Columns(dimension, valueOffset));
        this.dimension = dimension;
        this.similarity = similarity;
        this.valueOffset = valueOffset;
        this.searcher = new EmbeddingSearcher(dimension, similarity, kernels, valueOffset);
    }

    private final int valueOffset;

    /** The kernels searches run on. */
    VectorKernels kernels() {
        return searcher.kernels();
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
            // Every Kafka wrapper implements CachedStateStore (to pass flush listeners down): look for
            // the caching layer itself.
            if (s instanceof CachingKeyValueStore) {
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
            dim = EmbeddingFormat.check(value, valueOffset);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("store " + name() + ": " + e.getMessage(), e);
        }
        if (dim != dimension) {
            throw new IllegalArgumentException("store " + name() + " holds embeddings of dimension " + dimension
                    + "; got one of dimension " + dim);
        }
        MemorySegment v = MemorySegment.ofArray(value);
        for (int i = 0; i < dim; i++) {
            float f = v.get(VectorLayout.FLOAT_LE, valueOffset + EmbeddingFormat.VECTOR_OFFSET + 4L * i);
            if (!Float.isFinite(f)) {
                throw new IllegalArgumentException("store " + name() + ": component " + i + " of the embedding is " + f);
            }
        }
        if (similarity == Similarity.COSINE && EmbeddingFormat.norm(v, valueOffset + EmbeddingFormat.VECTOR_OFFSET, dim) == 0f) {
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
        return search(List.of(query), ReadIsolation.LATEST).get(0);
    }

    /** Several searches in one pass over the data (similarity joins). */
    public List<KnnResult> search(List<KnnQuery> queries) {
        return search(queries, ReadIsolation.LATEST);
    }

    /** Several searches in one pass over the store as a read at {@code isolation} sees it. */
    List<KnnResult> search(List<KnnQuery> queries, ReadIsolation isolation) {
        try {
            return searcher.search(core().engine(), queries, isolation);
        } catch (EngineException e) {
            throw core().translate("searching", e);
        }
    }

    /**
     * Answers {@link KnnQuery} (a {@link KnnResult}) and {@link KnnBatchQuery} (one result per query, one
     * pass over the data) locally, and the key-value queries as {@link MmapKeyValueStore} does. A query
     * whose vector has the wrong dimension (or is the zero vector under cosine) fails with
     * {@code STORE_EXCEPTION}; a position bound the store has not reached yields {@code NOT_UP_TO_BOUND}.
     */
    @Override
    @SuppressWarnings("unchecked")
    public <R> QueryResult<R> query(Query<R> query, PositionBound positionBound, QueryConfig config) {
        if (!(query instanceof KnnQuery) && !(query instanceof KnnBatchQuery)) {
            return super.query(query, positionBound, config);
        }
        int partition = core().context().taskId().partition();
        ReadIsolation isolation = core().isolation(config);
        Position position = core().position(isolation);
        if (!core().kafka().isPermitted(position, positionBound, partition)) {
            return QueryResult.notUpToBound(position, positionBound, partition);
        }
        long start = System.nanoTime();
        QueryResult<R> result;
        try {
            if (query instanceof KnnQuery knn) {
                VectorValidation.checkDimension(dimension, knn.vectorNoCopy().length);
                result = (QueryResult<R>) QueryResult.forResult(search(List.of(knn), isolation).get(0));
            } else {
                List<KnnQuery> batch = ((KnnBatchQuery) query).queries();
                for (KnnQuery knn : batch) {
                    VectorValidation.checkDimension(dimension, knn.vectorNoCopy().length);
                }
                result = (QueryResult<R>) QueryResult.forResult(search(batch, isolation));
            }
        } catch (IllegalArgumentException e) {
            result = QueryResult.forFailure(org.apache.kafka.streams.query.FailureReason.STORE_EXCEPTION,
                    "bad " + query.getClass().getSimpleName() + " for store " + name() + ": " + e.getMessage());
        }
        if (config.isCollectExecutionInfo()) {
            result.addExecutionInfo("Handled " + query.getClass().getSimpleName() + " in " + getClass().getName()
                    + " in " + (System.nanoTime() - start) + "ns");
        }
        synchronized (core().position()) {
            result.setPosition(position.copy());
        }
        return result;
    }
}
