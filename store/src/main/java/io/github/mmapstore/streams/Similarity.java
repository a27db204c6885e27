package io.github.mmapstore.streams;

/** How an embedding store ranks rows against a query vector. */
public enum Similarity {
    /** Cosine similarity, higher is closer; one dot product per row with norms precomputed at write time. */
    COSINE,
    /** Dot product, higher is closer. */
    DOT_PRODUCT,
    /** Euclidean distance, lower is closer (scores are distances, not squared). */
    EUCLIDEAN;

    boolean higherIsBetter() {
        return this != EUCLIDEAN;
    }
}
