package io.github.mmapstore.vector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** {@link TopK} against sorting everything. */
class TopKTest {

    /** Scores with many ties, signed zeros, infinities and NaN. */
    @Provide
    Arbitrary<List<Float>> scores() {
        Arbitrary<Float> s = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.floats().between(-10f, 10f)),
                net.jqwik.api.Tuple.of(4, Arbitraries.of(0f, -0f, 1f, 1f, 2f, -1f)),
                net.jqwik.api.Tuple.of(1, Arbitraries.of(Float.NaN, Float.POSITIVE_INFINITY,
                        Float.NEGATIVE_INFINITY)));
        return s.list().ofMaxSize(300);
    }

    static List<TopK.Hit> bySorting(List<Float> scores, int k, TopK.Order order, long[] ordinals) {
        TopK rule = new TopK(1, order);
        List<TopK.Hit> all = new ArrayList<>();
        for (int i = 0; i < scores.size(); i++) {
            all.add(new TopK.Hit(ordinals[i], scores.get(i)));
        }
        Comparator<TopK.Hit> cmp = (x, y) -> rule.better(x.score(), x.ordinal(), y.score(), y.ordinal()) ? -1
                : rule.better(y.score(), y.ordinal(), x.score(), x.ordinal()) ? 1 : 0;
        all.sort(cmp);
        return all.subList(0, Math.min(k, all.size()));
    }

    static long[] shuffledOrdinals(int n, long seed) {
        List<Long> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add((long) i * 3 - 50);
        }
        java.util.Collections.shuffle(l, new java.util.Random(seed));
        return l.stream().mapToLong(Long::longValue).toArray();
    }

    @Property(tries = 300)
    void offerKeepsTheBestKAsSortingDoes(@ForAll("scores") List<Float> scores, @ForAll @IntRange(min = 1, max = 40) int k,
                                         @ForAll boolean higher, @ForAll long seed) {
        TopK.Order order = higher ? TopK.Order.HIGHER_IS_BETTER : TopK.Order.LOWER_IS_BETTER;
        long[] ords = shuffledOrdinals(scores.size(), seed);
        TopK top = new TopK(k, order);
        for (int i = 0; i < scores.size(); i++) {
            top.offer(scores.get(i), ords[i]);
        }
        assertThat(top.toSortedList()).isEqualTo(bySorting(scores, k, order, ords));
        assertThat(top.size()).isEqualTo(Math.min(k, scores.size()));
    }

    @Property(tries = 200)
    void offerAllAndMergeAgreeWithOffer(@ForAll("scores") List<Float> scores, @ForAll @IntRange(min = 1, max = 20) int k,
                                        @ForAll boolean higher, @ForAll @IntRange(min = 0, max = 300) int split) {
        TopK.Order order = higher ? TopK.Order.HIGHER_IS_BETTER : TopK.Order.LOWER_IS_BETTER;
        float[] arr = new float[scores.size()];
        for (int i = 0; i < arr.length; i++) {
            arr[i] = scores.get(i);
        }
        long[] ords = new long[arr.length];
        for (int i = 0; i < ords.length; i++) {
            ords[i] = 1000 + i;
        }
        int cut = Math.min(split, arr.length);
        TopK a = new TopK(k, order);
        a.offerAll(arr, 0, cut, 1000);
        TopK b = new TopK(k, order);
        b.offerAll(arr, cut, arr.length - cut, 1000 + cut);
        a.addAll(b);
        assertThat(a.toSortedList()).isEqualTo(bySorting(scores, k, order, ords));
    }

    @Property(tries = 100)
    void thresholdIsTheWorstKeptScoreOnceFull(@ForAll @Size(min = 1, max = 100) List<@net.jqwik.api.constraints.FloatRange(min = -5, max = 5) Float> scores,
                                               @ForAll @IntRange(min = 1, max = 10) int k) {
        TopK top = TopK.highest(k);
        for (int i = 0; i < scores.size(); i++) {
            top.offer(scores.get(i), i);
        }
        List<TopK.Hit> hits = top.toSortedList();
        if (top.isFull()) {
            assertThat(top.threshold()).isEqualTo(hits.get(hits.size() - 1).score());
        } else {
            assertThat(top.threshold()).isEqualTo(Float.NEGATIVE_INFINITY);
        }
    }

    @Example
    void tiesAreBrokenBySmallerOrdinalAndNanRanksLast() {
        TopK hi = TopK.highest(3);
        hi.offer(Float.NaN, 0);
        hi.offer(1f, 9);
        hi.offer(1f, 4);
        hi.offer(0.5f, 1);
        hi.offer(1f, 7);
        assertThat(hi.toSortedList()).containsExactly(new TopK.Hit(4, 1f), new TopK.Hit(7, 1f), new TopK.Hit(9, 1f));
        TopK lo = TopK.lowest(2);
        lo.offer(Float.NaN, 0);
        lo.offer(3f, 2);
        assertThat(lo.toSortedList()).containsExactly(new TopK.Hit(2, 3f), new TopK.Hit(0, Float.NaN));
        lo.offer(-0f, 5);
        lo.offer(0f, 1);
        assertThat(lo.toSortedList()).containsExactly(new TopK.Hit(1, 0f), new TopK.Hit(5, -0f));
        assertThatThrownBy(() -> hi.addAll(lo)).isInstanceOf(IllegalArgumentException.class);
    }
}
