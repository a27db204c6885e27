package io.github.mmapstore.engine;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides what compaction merges next so that two bounds hold once compaction has caught up:
 *
 * <ul>
 *   <li><b>Space amplification</b> (segment bytes over live bytes) at most {@code maxSpaceAmplification}:
 *       once a partition's segments hold more than halfway to that bound over their estimated live bytes
 *       (1.25 for a bound of 1.5), all of them are merged into one (the merge reaches the bottom, so
 *       shadowed rows and tombstones go). Starting halfway leaves the merge the other half of the
 *       headroom to finish in while writes go on.</li>
 *   <li><b>Read amplification</b> (segments a point lookup may touch, per partition) below
 *       {@code readAmplification}: otherwise a size-tiered run of the newest segments is merged.</li>
 * </ul>
 *
 * <p>Live bytes are estimated, not counted: a fixed number of evenly spaced rows of each segment is
 * looked up in every newer segment of the same partition (bloom filter first; {@link LiveSamples}
 * remembers the answers). A sampled row is live
 * when it is not a tombstone and no newer segment holds its key; a segment's live bytes are its file
 * size times its live fraction. Unlike the "bottom segment is the live data" rule of universal
 * compaction, this does not mistake new keys for garbage (an insert-only store never triggers a full
 * merge) and it sees garbage inside the newer segments too (a hot key rewritten in every flush).
 */
final class CompactionPolicy {
    enum Reason { SPACE, READ }

    /** A run of adjacent segments (newest first) to merge, and whether it reaches the bottom of its partition. */
    record Plan(List<Segment> run, boolean bottom, Reason reason) {
        long inputBytes() {
            long n = 0;
            for (Segment s : run) {
                n += s.fileSize();
            }
            return n;
        }
    }

    /** Segment bytes and their estimated live bytes. */
    record Estimate(long segmentBytes, long liveBytes, int maxSegmentsPerPartition) {
        static final Estimate EMPTY = new Estimate(0, 0, 0);

        /** Segment bytes over live bytes; 1.0 for an empty store. */
        double spaceAmplification() {
            return liveBytes <= 0 ? (segmentBytes == 0 ? 1.0 : segmentBytes) : (double) segmentBytes / liveBytes;
        }
    }

    private CompactionPolicy() {
    }

    /** What to merge next among {@code newestFirst}, or null when both bounds hold. */
    static Plan choose(List<Segment> newestFirst, int readAmplification, double maxSpaceAmplification, boolean partitioned,
                       LiveSamples samples) {
        Map<Long, List<Segment>> groups = byPartition(newestFirst, partitioned);
        for (List<Segment> group : groups.values()) {
            if (group.size() < 2) {
                continue;
            }
            Estimate e = estimateGroup(group, samples);
            if (e.segmentBytes() > startAt(maxSpaceAmplification) * e.liveBytes()) {
                return new Plan(group, true, Reason.SPACE);
            }
        }
        for (List<Segment> group : groups.values()) {
            List<Segment> run = Compaction.pick(group, readAmplification, false);
            if (run != null) {
                boolean bottom = run.get(run.size() - 1) == group.get(group.size() - 1);
                return new Plan(run, bottom, Reason.READ);
            }
        }
        return null;
    }

    /** The space amplification at which a full merge of a partition starts: halfway to the bound. */
    static double startAt(double maxSpaceAmplification) {
        return 1 + (maxSpaceAmplification - 1) / 2;
    }

    /** Estimated live bytes of all of {@code newestFirst} (see the class comment). */
    static Estimate estimate(List<Segment> newestFirst, boolean partitioned, LiveSamples samples) {
        long bytes = 0;
        long live = 0;
        int max = 0;
        for (List<Segment> group : byPartition(newestFirst, partitioned).values()) {
            Estimate e = estimateGroup(group, samples);
            bytes += e.segmentBytes();
            live += e.liveBytes();
            max = Math.max(max, group.size());
        }
        return new Estimate(bytes, live, max);
    }

    private static Estimate estimateGroup(List<Segment> group, LiveSamples samples) {
        long bytes = 0;
        double live = 0;
        for (int i = 0; i < group.size(); i++) {
            Segment s = group.get(i);
            bytes += s.fileSize();
            live += s.fileSize() * samples.liveFraction(s, group.subList(0, i));
        }
        return new Estimate(bytes, Math.round(live), group.size());
    }

    private static Map<Long, List<Segment>> byPartition(List<Segment> newestFirst, boolean partitioned) {
        Map<Long, List<Segment>> groups = new LinkedHashMap<>();
        for (Segment s : newestFirst) {
            groups.computeIfAbsent(partitioned ? s.partition() : 0L, k -> new ArrayList<>()).add(s);
        }
        return groups;
    }
}
