package io.github.mmapstore.streams;

import io.github.mmapstore.vector.VectorValidation;
import java.util.Arrays;
import java.util.Objects;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.query.Query;

/**
 * Top-k similarity search over an embedding store, exact. An Interactive Queries v2 {@link Query}:
 * {@code KafkaStreams.query(StateQueryRequest.inStore(name).withQuery(knn))} asks every local partition,
 * and a processor asks its own store with {@code store.query(knn, PositionBound.unbounded(), config)}
 * (see {@link EmbeddingSearch}); Kafka's wrappers hand it to the store unchanged.
 *
 * <p>Immutable; the {@code with...} methods return copies.
 */
public final class KnnQuery implements Query<KnnResult> {
    private final float[] vector;
    private final int k;
    private final float minConfidence;
    private final long fromTimestamp;
    private final long toTimestamp;
    private final Bytes keyPrefix;
    private final boolean includeEmbeddings;

    private KnnQuery(float[] vector, int k, float minConfidence, long fromTimestamp, long toTimestamp, Bytes keyPrefix,
                     boolean includeEmbeddings) {
        this.vector = vector;
        this.k = k;
        this.minConfidence = minConfidence;
        this.fromTimestamp = fromTimestamp;
        this.toTimestamp = toTimestamp;
        this.keyPrefix = keyPrefix;
        this.includeEmbeddings = includeEmbeddings;
    }

    /** The {@code k} rows closest to {@code vector} under the store's similarity. */
    public static KnnQuery nearest(float[] vector, int k) {
        Objects.requireNonNull(vector, "vector cannot be null");
        VectorValidation.checkFinite(vector);
        VectorValidation.checkK(k);
        return new KnnQuery(vector.clone(), k, Float.NEGATIVE_INFINITY, Long.MIN_VALUE, Long.MAX_VALUE, null, false);
    }

    /** Only rows with confidence at least {@code min}. */
    public KnnQuery withMinConfidence(float min) {
        if (Float.isNaN(min)) {
            throw new IllegalArgumentException("minimum confidence must not be NaN");
        }
        return new KnnQuery(vector, k, min, fromTimestamp, toTimestamp, keyPrefix, includeEmbeddings);
    }

    /** Only rows whose embedding timestamp lies in [from, to]. */
    public KnnQuery withTimestampRange(long from, long to) {
        if (from > to) {
            throw new IllegalArgumentException("timestamp range [" + from + ", " + to + "] is empty");
        }
        return new KnnQuery(vector, k, minConfidence, from, to, keyPrefix, includeEmbeddings);
    }

    /** Only rows whose serialized key starts with {@code prefix}. */
    public KnnQuery withKeyPrefix(Bytes prefix) {
        return new KnnQuery(vector, k, minConfidence, fromTimestamp, toTimestamp,
                Objects.requireNonNull(prefix, "prefix cannot be null"), includeEmbeddings);
    }

    /** Return each match's embedding too (copied out of the store). */
    public KnnQuery withEmbeddings() {
        return new KnnQuery(vector, k, minConfidence, fromTimestamp, toTimestamp, keyPrefix, true);
    }

    public float[] vector() {
        return vector.clone();
    }

    float[] vectorNoCopy() {
        return vector;
    }

    public int k() {
        return k;
    }

    public float minConfidence() {
        return minConfidence;
    }

    public long fromTimestamp() {
        return fromTimestamp;
    }

    public long toTimestamp() {
        return toTimestamp;
    }

    public Bytes keyPrefix() {
        return keyPrefix;
    }

    public boolean includeEmbeddings() {
        return includeEmbeddings;
    }

    @Override
    public String toString() {
        return "KnnQuery[dim=" + vector.length + ", k=" + k + (minConfidence != Float.NEGATIVE_INFINITY ? ", minConfidence=" + minConfidence : "")
                + (fromTimestamp != Long.MIN_VALUE || toTimestamp != Long.MAX_VALUE ? ", timestamps=[" + fromTimestamp + ", " + toTimestamp + "]" : "")
                + (keyPrefix != null ? ", keyPrefix=" + keyPrefix : "") + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KnnQuery q && Arrays.equals(vector, q.vector) && k == q.k
                && Float.compare(minConfidence, q.minConfidence) == 0 && fromTimestamp == q.fromTimestamp
                && toTimestamp == q.toTimestamp && Objects.equals(keyPrefix, q.keyPrefix)
                && includeEmbeddings == q.includeEmbeddings;
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(vector), k, minConfidence, fromTimestamp, toTimestamp, keyPrefix, includeEmbeddings);
    }
}
