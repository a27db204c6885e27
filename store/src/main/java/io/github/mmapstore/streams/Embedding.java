package io.github.mmapstore.streams;

import io.github.mmapstore.vector.VectorValidation;
import java.util.Arrays;
import java.util.Objects;

/**
 * One embedding: a float vector, a confidence, a timestamp and opaque metadata bytes.
 *
 * @param vector     the components (finite; the store checks the dimension)
 * @param confidence e.g. the producing model's confidence, used by search filters
 * @param timestamp  e.g. when the embedding was computed (ms), used by search filters
 * @param metadata   opaque bytes returned with matches; never null (empty when absent)
 */
public record Embedding(float[] vector, float confidence, long timestamp, byte[] metadata) {
    public Embedding {
        Objects.requireNonNull(vector, "vector cannot be null");
        VectorValidation.checkFinite(vector);
        if (!Float.isFinite(confidence)) {
            throw new IllegalArgumentException("confidence must be finite, was " + confidence);
        }
        metadata = metadata == null ? new byte[0] : metadata;
    }

    public Embedding(float[] vector) {
        this(vector, 1.0f, 0L, new byte[0]);
    }

    public int dimension() {
        return vector.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Embedding e && Arrays.equals(vector, e.vector) && Float.compare(confidence, e.confidence) == 0
                && timestamp == e.timestamp && Arrays.equals(metadata, e.metadata);
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(vector), confidence, timestamp, Arrays.hashCode(metadata));
    }

    @Override
    public String toString() {
        return "Embedding[dim=" + vector.length + ", confidence=" + confidence + ", timestamp=" + timestamp
                + ", metadata=" + metadata.length + " bytes]";
    }
}
