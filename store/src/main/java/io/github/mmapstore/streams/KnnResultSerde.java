package io.github.mmapstore.streams;

import io.github.mmapstore.vector.EmbeddingFormat;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;

/**
 * Serde for {@link KnnResult}, e.g. for the output of a similarity join ({@link EmbeddingJoins}) or an
 * application's own transport of fan-out answers ({@link KnnFanOut.RemoteKnn}). Little-endian:
 *
 * <pre>
 * version u8 (=1) | similarity u8 (ordinal) | match count i32 |
 *   per match: key length i32 | key | score f32 | embedding length i32 (-1: none) | embedding ({@link EmbeddingSerde} format)
 * </pre>
 */
public final class KnnResultSerde implements Serde<KnnResult> {
    private static final byte VERSION = 1;
    private static final Similarity[] SIMILARITIES = Similarity.values();

    @Override
    public Serializer<KnnResult> serializer() {
        return (topic, r) -> r == null ? null : encode(r);
    }

    @Override
    public Deserializer<KnnResult> deserializer() {
        return (topic, bytes) -> bytes == null ? null : decode(bytes);
    }

    static byte[] encode(KnnResult r) {
        int size = 1 + 1 + 4;
        List<byte[]> embeddings = new ArrayList<>(r.matches().size());
        for (KnnResult.Match m : r.matches()) {
            Embedding e = m.embedding();
            byte[] eb = e == null ? null : EmbeddingFormat.encode(e.vector(), e.confidence(), e.timestamp(), e.metadata());
            embeddings.add(eb);
            size += 4 + m.key().get().length + 4 + 4 + (eb == null ? 0 : eb.length);
        }
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.put(VERSION).put((byte) r.similarity().ordinal()).putInt(r.matches().size());
        for (int i = 0; i < r.matches().size(); i++) {
            KnnResult.Match m = r.matches().get(i);
            byte[] k = m.key().get();
            b.putInt(k.length).put(k).putFloat(m.score());
            byte[] eb = embeddings.get(i);
            if (eb == null) {
                b.putInt(-1);
            } else {
                b.putInt(eb.length).put(eb);
            }
        }
        return b.array();
    }

    static KnnResult decode(byte[] bytes) {
        try {
            ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            byte version = b.get();
            if (version != VERSION) {
                throw new SerializationException("KnnResult has format version " + version + ", expected " + VERSION);
            }
            int sim = b.get();
            if (sim < 0 || sim >= SIMILARITIES.length) {
                throw new SerializationException("KnnResult names an unknown similarity " + sim);
            }
            int n = b.getInt();
            if (n < 0 || n > b.remaining() / 12) {
                throw new SerializationException("KnnResult has a bad match count " + n);
            }
            List<KnnResult.Match> matches = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                byte[] k = new byte[checkLength(b.getInt(), b)];
                b.get(k);
                float score = b.getFloat();
                int el = b.getInt();
                Embedding e = null;
                if (el != -1) {
                    byte[] eb = new byte[checkLength(el, b)];
                    b.get(eb);
                    e = EmbeddingSerde.decode(eb);
                }
                matches.add(new KnnResult.Match(Bytes.wrap(k), score, e));
            }
            if (b.hasRemaining()) {
                throw new SerializationException("KnnResult has " + b.remaining() + " trailing bytes");
            }
            return new KnnResult(SIMILARITIES[sim], matches);
        } catch (BufferUnderflowException e) {
            throw new SerializationException("KnnResult is truncated (" + bytes.length + " bytes)", e);
        }
    }

    private static int checkLength(int len, ByteBuffer b) {
        if (len < 0 || len > b.remaining()) {
            throw new SerializationException("KnnResult has a bad length " + len + " with " + b.remaining() + " bytes left");
        }
        return len;
    }
}
