package io.github.mmapstore.streams;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.utils.Bytes;

/**
 * The answer to a {@link KnnQuery}: matches best first (ties broken by key, in the store's key order).
 *
 * @param similarity how the scores were computed (cosine and dot: higher is closer; Euclidean: a distance)
 * @param matches    at most k matches
 */
public record KnnResult(Similarity similarity, List<Match> matches) {
    /**
     * One match.
     *
     * @param key       the serialized key
     * @param score     similarity or distance
     * @param embedding the stored embedding, or null unless the query asked for it
     */
    public record Match(Bytes key, float score, Embedding embedding) {
        /** The key, deserialized. */
        public <K> K key(Deserializer<K> deserializer) {
            return deserializer.deserialize(null, key.get());
        }
    }

    public KnnResult {
        Objects.requireNonNull(similarity, "similarity");
        matches = List.copyOf(matches);
    }

    /** The ranking order of matches: best score first, then smaller key. */
    static Comparator<Match> order(Similarity similarity) {
        Comparator<Match> byScore = Comparator.comparingDouble(Match::score);
        if (similarity.higherIsBetter()) {
            byScore = byScore.reversed();
        }
        return byScore.thenComparing((Match m) -> m.key(), Bytes::compareTo);
    }

    /**
     * Merges the answers of several stores or instances (the partitions of one application) into the
     * overall top {@code k}.
     */
    public static KnnResult merge(Similarity similarity, int k, List<KnnResult> parts) {
        List<Match> all = new ArrayList<>();
        for (KnnResult r : parts) {
            if (r.similarity() != similarity) {
                throw new IllegalArgumentException("cannot merge " + r.similarity() + " results into " + similarity);
            }
            all.addAll(r.matches());
        }
        all.sort(order(similarity));
        return new KnnResult(similarity, all.subList(0, Math.min(k, all.size())));
    }
}
