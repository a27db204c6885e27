package io.github.mmapstore.vector;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The best {@code k} (score, ordinal) pairs seen, in a fixed-capacity binary heap whose root is the
 * worst entry kept: {@code O(log k)} per accepted offer, {@code O(1)} per rejected one, no allocation
 * after construction.
 *
 * <p>Ranking is total and deterministic: by score (higher first for {@link Order#HIGHER_IS_BETTER},
 * e.g. dot product and cosine; lower first for {@link Order#LOWER_IS_BETTER}, e.g. squared L2), then by
 * ordinal, smaller first: the caller chooses ordinals so that this breaks ties as it wants (for example
 * the key order of rows). A NaN score ranks after every number in both orders; {@code -0.0f} and
 * {@code 0.0f} are equal scores. Offering the same ordinal twice keeps both entries.
 *
 * <p>Not thread-safe: one per query (per thread), merged with {@link #addAll(TopK)}.
 */
public final class TopK {
    /** Which scores are better. */
    public enum Order {
        /** Larger scores first: dot product, cosine similarity. */
        HIGHER_IS_BETTER,
        /** Smaller scores first: distances. */
        LOWER_IS_BETTER
    }

    /** One result. */
    public record Hit(long ordinal, float score) {
    }

    private final int capacity;
    private final Order order;
    private final boolean higher;
    private final float[] scores;
    private final long[] ordinals;
    private int size;

    /**
     * @throws IllegalArgumentException if {@code k < 1}
     */
    public TopK(int k, Order order) {
        this.capacity = VectorValidation.checkK(k);
        if (order == null) {
            throw new NullPointerException("order");
        }
        this.order = order;
        this.higher = order == Order.HIGHER_IS_BETTER;
        this.scores = new float[k];
        this.ordinals = new long[k];
    }

    /** Keeps the {@code k} highest scores. */
    public static TopK highest(int k) {
        return new TopK(k, Order.HIGHER_IS_BETTER);
    }

    /** Keeps the {@code k} lowest scores. */
    public static TopK lowest(int k) {
        return new TopK(k, Order.LOWER_IS_BETTER);
    }

    public int capacity() {
        return capacity;
    }

    public Order order() {
        return order;
    }

    public int size() {
        return size;
    }

    public boolean isFull() {
        return size == capacity;
    }

    public void clear() {
        size = 0;
    }

    /**
     * Whether (a, ordA) ranks strictly before (b, ordB). Exposed so callers (and tests) sort by the
     * same rule.
     */
    public boolean better(float a, long ordA, float b, long ordB) {
        boolean nanA = a != a;
        boolean nanB = b != b;
        if (nanA | nanB) {
            return nanA == nanB ? ordA < ordB : nanB;
        }
        if (a != b) {
            return higher ? a > b : a < b;
        }
        return ordA < ordB;
    }

    /**
     * The score an offer must reach to have a chance: the worst kept score once full, otherwise the
     * worst possible ({@code -Inf} or {@code +Inf}). A score strictly worse than this is rejected; an
     * equal one is decided by ordinal.
     */
    public float threshold() {
        if (size < capacity) {
            return higher ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY;
        }
        return scores[0];
    }

    /** Offers one candidate; returns whether it is (for now) among the best {@code k}. */
    public boolean offer(float score, long ordinal) {
        if (size < capacity) {
            int i = size++;
            // sift up: parents are worse-or-equal-rank roots of a "worst on top" heap
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (!better(scores[p], ordinals[p], score, ordinal)) {
                    break;
                }
                scores[i] = scores[p];
                ordinals[i] = ordinals[p];
                i = p;
            }
            scores[i] = score;
            ordinals[i] = ordinal;
            return true;
        }
        if (!better(score, ordinal, scores[0], ordinals[0])) {
            return false;
        }
        siftDown(score, ordinal);
        return true;
    }

    /** Offers {@code count} scores from {@code scores[from..]}, ordinals {@code firstOrdinal, +1, ...}. */
    public void offerAll(float[] batch, int from, int count, long firstOrdinal) {
        Objects.checkFromIndexSize(from, count, batch.length);
        for (int i = 0; i < count; i++) {
            float s = batch[from + i];
            // cheap reject before the full comparison: strictly worse than the root when full
            if (size == capacity && (higher ? s < scores[0] : s > scores[0])) {
                continue;
            }
            offer(s, firstOrdinal + i);
        }
    }

    /** Offers every entry of {@code other} (same order required), e.g. to merge per-segment results. */
    public void addAll(TopK other) {
        if (other.order != order) {
            throw new IllegalArgumentException("cannot merge a " + other.order + " top-k into a " + order + " one");
        }
        for (int i = 0; i < other.size; i++) {
            offer(other.scores[i], other.ordinals[i]);
        }
    }

    private void siftDown(float score, long ordinal) {
        int i = 0;
        int n = size;
        while (true) {
            int c = 2 * i + 1;
            if (c >= n) {
                break;
            }
            int r = c + 1;
            // pick the worse child (the one that ranks later)
            if (r < n && better(scores[c], ordinals[c], scores[r], ordinals[r])) {
                c = r;
            }
            if (!better(score, ordinal, scores[c], ordinals[c])) {
                break;
            }
            scores[i] = scores[c];
            ordinals[i] = ordinals[c];
            i = c;
        }
        scores[i] = score;
        ordinals[i] = ordinal;
    }

    /**
     * Writes the kept entries best first into the given arrays (which need {@link #size()} room) and
     * returns how many. The heap is left unchanged.
     */
    public int sorted(float[] scoresOut, long[] ordinalsOut) {
        Integer[] idx = new Integer[size];
        for (int i = 0; i < size; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (x, y) -> better(scores[x], ordinals[x], scores[y], ordinals[y]) ? -1
                : better(scores[y], ordinals[y], scores[x], ordinals[x]) ? 1 : 0);
        for (int i = 0; i < size; i++) {
            scoresOut[i] = scores[idx[i]];
            ordinalsOut[i] = ordinals[idx[i]];
        }
        return size;
    }

    /** The kept entries, best first. */
    public List<Hit> toSortedList() {
        float[] s = new float[size];
        long[] o = new long[size];
        sorted(s, o);
        List<Hit> out = new ArrayList<>(size);
        for (int i = 0; i < s.length; i++) {
            out.add(new Hit(o[i], s[i]));
        }
        return out;
    }

    @Override
    public String toString() {
        return "TopK" + toSortedList();
    }
}
