package io.github.mmapstore.streams;

import io.github.mmapstore.vector.EmbeddingFormat;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Serde for {@link Embedding} values in the format embedding stores keep and search
 * ({@link EmbeddingFormat}). With a dimension, it refuses vectors of any other length when serializing.
 */
public final class EmbeddingSerde implements Serde<Embedding> {
    private final int dimension;

    /** A serde that accepts any dimension (the store still checks its own). */
    public EmbeddingSerde() {
        this(-1);
    }

    /** A serde that refuses vectors whose length is not {@code dimension}. */
    public EmbeddingSerde(int dimension) {
        this.dimension = dimension;
    }

    @Override
    public Serializer<Embedding> serializer() {
        return (topic, e) -> {
            if (e == null) {
                return null;
            }
            if (dimension > 0 && e.dimension() != dimension) {
                throw new SerializationException("embedding of dimension " + e.dimension() + " where " + dimension + " is required");
            }
            return EmbeddingFormat.encode(e.vector(), e.confidence(), e.timestamp(), e.metadata());
        };
    }

    @Override
    public Deserializer<Embedding> deserializer() {
        return (topic, bytes) -> bytes == null ? null : decode(bytes);
    }

    static Embedding decode(byte[] bytes) {
        try {
            EmbeddingFormat.check(bytes);
        } catch (IllegalArgumentException e) {
            throw new SerializationException(e.getMessage(), e);
        }
        return new Embedding(EmbeddingFormat.vector(bytes), EmbeddingFormat.confidence(bytes),
                EmbeddingFormat.timestamp(bytes), EmbeddingFormat.metadata(bytes));
    }
}
