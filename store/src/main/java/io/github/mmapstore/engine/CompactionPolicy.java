package io.github.mmapstore.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides what compaction merges next so that two bounds hold once compaction has caught up:
 *
 * <ul>
 *   <li><b>Space amplification</b>: the store's bytes on disk at most {@code maxSpaceAmplification}
 *       times its live bytes, where live bytes are the keys and values of the newest version of every
 *       live key (what a user wrote, not the file format's own structure). The part of the bound a merge
 *       can win back is the garbage: segment bytes above what the live rows would take in freshly
 *       merged files (the <i>floor</i>). The log of the memtable (up to {@code memtableBytes}) is set
 *       aside; of what remains between the floor and the bound, a partition's full merge starts once its
 *       garbage uses {@link #START_SHARE}, so the merge has the rest to finish in while writes go on. The merge
 *       reaches the bottom, so shadowed rows and tombstones go. When the file format alone (small
 *       values) leaves less than {@link #MIN_ROOM} of the floor under the bound, garbage gets that much
 *       room over the floor anyway.</li>
 *   <li><b>Read amplification</b> (sorted runs a point lookup may touch, per partition) below
 *       {@code readAmplification}: otherwise a size-tiered choice of the newest runs is merged. A sorted
 *       run is a stretch of adjacent segments whose key ranges are disjoint (the files of one cut-up
 *       merge output): a lookup touches at most one of them, the one whose key range covers the key.</li>
 * </ul>
 *
 * <p>Live rows are estimated, not counted: a fixed number of evenly spaced rows of each segment is
 * looked up in every newer segment of the same partition (bloom filter first; {@link LiveSamples}
 * remembers the answers). A sampled row is live
 * when it is not a tombstone and no newer segment holds its key; a segment's live share is its sampled
 * live fraction. Unlike the "bottom segment is the live data" rule of universal
 * compaction, this does not mistake new keys for garbage (an insert-only store never triggers a full
 * merge) and it sees garbage inside the newer segments too (a hot key rewritten in every flush).
 */
final class CompactionPolicy {
    enum Reason { SPACE, READ }

    /** Garbage may use at most this share of the room between the floor and the bound before a full merge. */
    static final double START_SHARE = 0.6;
    /** Least room over the floor (as a share of it) garbage gets, however tight the bound. */
    static final double MIN_ROOM = 0.1;

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

    /**
     * Segment bytes, what their live rows would take as merged files ({@code floorBytes}), the keys and
     * values of those rows ({@code liveBytes}), the most sorted runs in one partition, and how far the
     * worst partition's garbage has gone towards its bound ({@code debt}: 0 at the point where a full
     * merge starts, 1 at the bound, negative below the start).
     */
    record Estimate(long segmentBytes, long floorBytes, long liveBytes, int maxRunsPerPartition, double debt) {
        static final Estimate EMPTY = new Estimate(0, 0, 0, 0, -1);

        /**
         * Segment bytes over what their live rows would take as merged files (1.0: no garbage; 1.0 for an
         * empty store).
         */
        double garbageAmplification() {
            return floorBytes <= 0 ? (segmentBytes == 0 ? 1.0 : segmentBytes) : (double) segmentBytes / floorBytes;
        }
    }

    private CompactionPolicy() {
    }

    /**
     * What to merge next among {@code newestFirst}, or null when both bounds hold. {@code reservedBytes}
     * is set aside under the space bound for files other than segments (the log).
     */
    static Plan choose(List<Segment> newestFirst, int readAmplification, double maxSpaceAmplification, boolean partitioned,
                       LiveSamples samples, long reservedBytes) {
        Map<Long, List<Segment>> groups = byPartition(newestFirst, partitioned);
        for (List<Segment> group : groups.values()) {
            if (group.size() < 2 && group.get(0).tombstones() == 0) {
                continue;
            }
            if (sortedRuns(group).size() < 2 && !hasTombstones(group)) {
                continue; // one sorted run without tombstones holds no garbage
            }
            Estimate e = estimateGroup(group, samples, maxSpaceAmplification, reservedBytes);
            if (e.debt() >= 0) {
                List<Segment> upper = upperIfCheaper(group, samples);
                return upper != null ? new Plan(upper, false, Reason.SPACE) : new Plan(group, true, Reason.SPACE);
            }
        }
        for (List<Segment> group : groups.values()) {
            List<List<Segment>> runs = sortedRuns(group);
            List<Segment> run = pickRuns(runs, readAmplification);
            if (run != null) {
                boolean bottom = run.get(run.size() - 1) == group.get(group.size() - 1);
                return new Plan(run, bottom, Reason.READ);
            }
        }
        return null;
    }

    /**
     * Every segment above the partition's bottom sorted run, when merging them wins back at least as much
     * garbage per byte written as a full merge would; else null. Under a skewed write load the runs above
     * the bottom are where most garbage is (hot keys rewritten flush after flush) while the bottom run,
     * most of the bytes, holds little: merging them is the cheap way back under the start of the bound,
     * and the full merge waits until the bottom's own garbage (its rows shadowed by the newer runs)
     * makes it the better deal. Needs two runs above the bottom: one run alone has nothing to merge away.
     */
    static List<Segment> upperIfCheaper(List<Segment> group, LiveSamples samples) {
        List<List<Segment>> runs = sortedRuns(group);
        if (runs.size() < 3) {
            return null;
        }
        int upperCount = group.size() - runs.get(runs.size() - 1).size();
        double upperBytes = 0;
        double upperFloor = 0;
        double allBytes = 0;
        double allFloor = 0;
        for (int i = 0; i < group.size(); i++) {
            Segment s = group.get(i);
            double floor = s.fileSize() * samples.liveFraction(s, group.subList(0, i));
            if (i < upperCount) {
                upperBytes += s.fileSize();
                upperFloor += floor;
            }
            allBytes += s.fileSize();
            allFloor += floor;
        }
        double upperGarbage = upperBytes - upperFloor;
        double allGarbage = allBytes - allFloor;
        boolean cheaper = upperGarbage > 0 && upperGarbage * allFloor >= allGarbage * upperFloor;
        return cheaper ? List.copyOf(group.subList(0, upperCount)) : null;
    }

    private static boolean hasTombstones(List<Segment> group) {
        for (Segment s : group) {
            if (s.tombstones() > 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * The segments of newest sorted runs to merge for read amplification, or null: the newest run and
     * each older one while it is no larger than twice what is taken (at most 10 runs), as
     * {@link Compaction#pick} does for single segments, so sizes grow geometrically.
     */
    static List<Segment> pickRuns(List<List<Segment>> runs, int trigger) {
        if (runs.size() < trigger) {
            return null;
        }
        List<Segment> taken = new ArrayList<>();
        int count = 0;
        long sum = 0;
        for (List<Segment> run : runs) {
            long size = bytes(run);
            if (count == 10 || (count > 0 && size > 2 * sum)) {
                break;
            }
            taken.addAll(run);
            sum += size;
            count++;
        }
        if (count >= 2) {
            return taken;
        }
        if (runs.size() >= 2 * trigger) {
            List<Segment> two = new ArrayList<>(runs.get(0));
            two.addAll(runs.get(1));
            return two;
        }
        return null;
    }

    private static long bytes(List<Segment> run) {
        long n = 0;
        for (Segment s : run) {
            n += s.fileSize();
        }
        return n;
    }

    /**
     * {@code newestFirst} cut into sorted runs: stretches of adjacent segments whose key ranges are
     * pairwise disjoint. Reads are correct whatever the order of a run's files, since no key is in two.
     */
    static List<List<Segment>> sortedRuns(List<Segment> newestFirst) {
        List<List<Segment>> runs = new ArrayList<>();
        List<Segment> run = new ArrayList<>();
        for (Segment s : newestFirst) {
            boolean disjoint = true;
            for (Segment t : run) {
                if (s.overlaps(t.firstKey(), true, t.lastKey(), true)) {
                    disjoint = false;
                    break;
                }
            }
            if (!disjoint) {
                runs.add(run);
                run = new ArrayList<>();
            }
            run.add(s);
        }
        if (!run.isEmpty()) {
            runs.add(run);
        }
        return runs;
    }

    /** The most segments whose key ranges cover one key: what a point lookup may touch. */
    static int readAmplification(List<Segment> segments) {
        if (segments.isEmpty()) {
            return 0;
        }
        byte[][] starts = new byte[segments.size()][];
        byte[][] ends = new byte[segments.size()][];
        for (int i = 0; i < segments.size(); i++) {
            starts[i] = segments.get(i).firstKey();
            ends[i] = segments.get(i).lastKey();
        }
        Arrays.sort(starts, KeyOrder::compare);
        Arrays.sort(ends, KeyOrder::compare);
        int open = 0;
        int max = 0;
        int e = 0;
        for (byte[] start : starts) {
            // ranges are inclusive: one ending at this very key still covers it
            while (e < ends.length && KeyOrder.compare(ends[e], start) < 0) {
                e++;
                open--;
            }
            open++;
            max = Math.max(max, open);
        }
        return max;
    }

    /** Estimated live rows of all of {@code newestFirst} and the worst partition's debt (see the class comment). */
    static Estimate estimate(List<Segment> newestFirst, boolean partitioned, LiveSamples samples,
                             double maxSpaceAmplification, long reservedBytes) {
        long bytes = 0;
        long floor = 0;
        long live = 0;
        int max = 0;
        double debt = -1;
        for (List<Segment> group : byPartition(newestFirst, partitioned).values()) {
            Estimate e = estimateGroup(group, samples, maxSpaceAmplification, reservedBytes);
            bytes += e.segmentBytes();
            floor += e.floorBytes();
            live += e.liveBytes();
            max = Math.max(max, readAmplification(group));
            debt = Math.max(debt, e.debt());
        }
        return new Estimate(bytes, floor, live, max, debt);
    }

    private static Estimate estimateGroup(List<Segment> group, LiveSamples samples, double bound, long reservedBytes) {
        long bytes = 0;
        double floor = 0;
        double live = 0;
        for (int i = 0; i < group.size(); i++) {
            Segment s = group.get(i);
            double fraction = samples.liveFraction(s, group.subList(0, i));
            bytes += s.fileSize();
            floor += s.fileSize() * fraction;
            live += s.userBytes() * fraction;
        }
        // when the format alone (nearly) fills the bound, garbage still gets some room over the floor
        double allowed = Math.max(bound * live - reservedBytes, (1 + MIN_ROOM) * floor);
        double start = floor + START_SHARE * (allowed - floor);
        double debt = allowed <= start ? (bytes > floor ? 1 : -1) : (bytes - start) / (allowed - start);
        return new Estimate(bytes, Math.round(floor), Math.round(live), group.size(), debt);
    }

    private static Map<Long, List<Segment>> byPartition(List<Segment> newestFirst, boolean partitioned) {
        Map<Long, List<Segment>> groups = new LinkedHashMap<>();
        for (Segment s : newestFirst) {
            groups.computeIfAbsent(partitioned ? s.partition() : 0L, k -> new ArrayList<>()).add(s);
        }
        return groups;
    }
}
