package io.github.mmapstore.engine;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The sampled rows of each segment that are still live, remembered between estimates: a segment's
 * sample is drawn once (evenly spaced rows, tombstones left out) and each sampled key is looked up in
 * each newer segment once. A new flush then costs one lookup per still-live sample and segment, not a
 * fresh sample of the whole store: the estimate runs at every commit, on the stream thread.
 *
 * <p>Merges keep this consistent: a merged output holds every key of its inputs, so a sample shadowed by
 * an input stays shadowed, and the output, a segment never checked, is looked up like any new one.
 */
final class LiveSamples {
    /** Rows sampled per segment: enough to see a garbage fraction of a few percent, cheap to probe. */
    static final int SAMPLES_PER_SEGMENT = 64;

    private static final class Entry {
        final int samples;
        final List<byte[]> live;
        final Set<Segment> checked = Collections.newSetFromMap(new IdentityHashMap<>());

        Entry(int samples, List<byte[]> live) {
            this.samples = samples;
            this.live = live;
        }
    }

    private final Map<Segment, Entry> entries = new IdentityHashMap<>();

    /** Fraction of sampled rows of {@code s} that are neither tombstones nor shadowed by {@code newer}. */
    synchronized double liveFraction(Segment s, List<Segment> newer) {
        Entry e = entries.computeIfAbsent(s, LiveSamples::sample);
        if (e.samples == 0) {
            return 0;
        }
        for (Segment n : newer) {
            if (!e.live.isEmpty() && e.checked.add(n)) {
                e.live.removeIf(key -> n.mightContain(key, KeyHash.hash(key)) && n.find(key) >= 0);
            }
        }
        return (double) e.live.size() / e.samples;
    }

    /** Forgets segments not in {@code alive} (merged away or dropped). */
    synchronized void retain(Collection<Segment> alive) {
        Set<Segment> keep = Collections.newSetFromMap(new IdentityHashMap<>());
        keep.addAll(alive);
        entries.keySet().retainAll(keep);
        for (Entry e : entries.values()) {
            e.checked.retainAll(keep);
        }
    }

    private static Entry sample(Segment s) {
        long rows = s.rows();
        int samples = (int) Math.min(rows, SAMPLES_PER_SEGMENT);
        List<byte[]> live = new ArrayList<>(samples);
        for (int i = 0; i < samples; i++) {
            // Middle of each stride: the same rows every time, so the gauges do not jitter.
            long row = (2 * i + 1) * rows / (2L * samples);
            if (!s.isTombstone(row)) {
                live.add(s.key(row));
            }
        }
        return new Entry(samples, live);
    }
}
