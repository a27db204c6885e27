package io.github.mmapstore.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * When the space bound calls for a merge, {@link CompactionPolicy#upperIfCheaper} picks the runs above the
 * bottom instead of all of a partition exactly when that wins back more garbage per byte written.
 */
class UpperMergeChoiceTest {
    @TempDir
    Path dir;

    private final List<Segment> opened = new ArrayList<>();
    private long number = 1;

    @AfterEach
    void release() {
        opened.forEach(Segment::release);
    }

    static byte[] key(int i) {
        return ByteBuffer.allocate(8).putInt(0).putInt(i).array();
    }

    /** A segment of keys [from, to) stepping by {@code step}, each value tagged with {@code version}. */
    private Segment segment(int from, int to, int step, int version) throws IOException {
        TreeMap<byte[], byte[]> rows = new TreeMap<>(KeyOrder.COMPARATOR);
        for (int i = from; i < to; i += step) {
            rows.put(key(i), ByteBuffer.allocate(100).putInt(i).putInt(version).array());
        }
        Segment s = SegmentTest.write(dir, number++, rows);
        opened.add(s);
        return s;
    }

    /** Newest first: {@code upper} segments, then a bottom run of two key-range files over keys [0, 4000). */
    private List<Segment> group(Segment... upper) throws IOException {
        List<Segment> g = new ArrayList<>(List.of(upper));
        g.add(segment(0, 2000, 1, 0));
        g.add(segment(2000, 4000, 1, 0));
        return g;
    }

    @Test
    void hotKeysRewrittenAboveTheBottomAreMergedWithoutTheBottom() throws IOException {
        // the same 100 hot keys in both upper segments: the older one is all garbage
        Segment newest = segment(0, 4000, 40, 2);
        Segment older = segment(0, 4000, 40, 1);
        List<Segment> g = group(newest, older);

        assertThat(CompactionPolicy.upperIfCheaper(g, new LiveSamples())).containsExactly(newest, older);
    }

    @Test
    void distinctKeysAboveTheBottomLeaveTheFullMerge() throws IOException {
        // overlapping key ranges (two runs) but no key in both: nothing above the bottom is garbage
        Segment newest = segment(0, 4000, 40, 2);
        Segment older = segment(20, 4000, 40, 1);
        List<Segment> g = group(newest, older);

        assertThat(CompactionPolicy.upperIfCheaper(g, new LiveSamples())).isNull();
    }

    @Test
    void garbageMostlyInTheBottomLeavesTheFullMerge() throws IOException {
        // 2,000 bottom rows shadowed by the newer runs, which share only 10 keys among themselves
        Segment newest = segment(0, 4000, 2, 2);
        Segment older = segment(1, 4000, 4, 1);
        Segment oldest = segment(0, 400, 40, 1);
        List<Segment> g = group(newest, older, oldest);

        assertThat(CompactionPolicy.upperIfCheaper(g, new LiveSamples())).isNull();
    }

    @Test
    void oneRunAboveTheBottomHasNothingToMergeAway() throws IOException {
        Segment newest = segment(0, 4000, 40, 2);
        List<Segment> g = group(newest);

        assertThat(CompactionPolicy.upperIfCheaper(g, new LiveSamples())).isNull();
    }
}
