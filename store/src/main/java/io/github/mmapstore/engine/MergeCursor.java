package io.github.mmapstore.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * Merges sorted sources (a memtable and segments, newest first) into one stream in key order, forward
 * or reverse, where for each key the newest source wins. Tombstones are passed through; the reader
 * decides whether to skip them (reads) or keep them (a compaction that does not reach the oldest data).
 */
final class MergeCursor {
    /** One sorted input. {@code key()} is valid while {@code valid()}. */
    abstract static class Source {
        abstract boolean valid();

        abstract byte[] key();

        /** The current value, or null for a tombstone. */
        abstract byte[] value();

        abstract void advance();
    }

    static final class MemtableSource extends Source {
        private final Memtable memtable;
        private final Memtable.Cursor cursor;
        private final long snapshot;
        private byte[] key;
        private byte[] value;
        private boolean valid;

        MemtableSource(Memtable m, long snapshot, byte[] from, boolean fromInc, byte[] to, boolean toInc, boolean reverse) {
            this.memtable = m;
            this.cursor = m.entries(from, fromInc, to, toInc, reverse);
            this.snapshot = snapshot;
            advance();
        }

        @Override
        boolean valid() {
            return valid;
        }

        @Override
        byte[] key() {
            return key;
        }

        @Override
        byte[] value() {
            return value;
        }

        @Override
        void advance() {
            while (cursor.next()) {
                int id = cursor.id();
                long v = memtable.visible(id, snapshot);
                if (v != Memtable.NONE) {
                    key = memtable.key(id);
                    value = memtable.value(v);
                    valid = true;
                    return;
                }
            }
            valid = false;
            key = null;
            value = null;
        }
    }

    static final class SegmentSource extends Source {
        Segment segment() {
            return segment;
        }

        long row() {
            return row;
        }

        private final Segment segment;
        private final boolean reverse;
        private final long lo;
        private final long hi;
        private long row;
        private byte[] key;

        SegmentSource(Segment segment, byte[] from, boolean fromInc, byte[] to, boolean toInc, boolean reverse) {
            this.segment = segment;
            this.reverse = reverse;
            this.lo = from == null ? 0 : segment.lowerBound(from, fromInc);
            this.hi = to == null ? segment.rows() : segment.lowerBound(to, !toInc);
            this.row = reverse ? hi - 1 : lo;
            load();
        }

        private void load() {
            key = valid() ? segment.key(row) : null;
        }

        @Override
        boolean valid() {
            return row >= lo && row < hi;
        }

        @Override
        byte[] key() {
            return key;
        }

        @Override
        byte[] value() {
            return segment.value(row);
        }

        @Override
        void advance() {
            row += reverse ? -1 : 1;
            load();
        }
    }

    private final List<Source> sources;
    private final boolean reverse;
    private byte[] key;
    private byte[] value;

    MergeCursor(List<Source> sources, boolean reverse) {
        this.sources = new ArrayList<>(sources);
        this.reverse = reverse;
    }

    /**
     * The sources of a read of {@code v} at {@code isolation}: its memtables at {@code snapshot}, and the
     * segments the isolation sees (a committed read skips files spilled after the last commit).
     */
    static MergeCursor over(Version v, long snapshot, ReadIsolation isolation, byte[] from, boolean fromInc, byte[] to,
                            boolean toInc, boolean reverse) {
        List<Source> s = new ArrayList<>(v.segments.size() + 1);
        s.add(new MemtableSource(v.memtable, snapshot, from, fromInc, to, toInc, reverse));
        if (v.frozen != null) {
            s.add(new MemtableSource(v.frozen, snapshot, from, fromInc, to, toInc, reverse));
        }
        for (Segment seg : v.segments) {
            // A segment whose key span misses the range is never touched: for time-partitioned stores
            // this is what keeps a fetch to the time segments that can hold it.
            if (v.visible(seg, isolation) && seg.overlaps(from, fromInc, to, toInc)) {
                s.add(new SegmentSource(seg, from, fromInc, to, toInc, reverse));
            }
        }
        return new MergeCursor(s, reverse);
    }

    private Segment winnerSegment;
    private long winnerRow;

    /**
     * Moves to the next key without reading a segment's value: afterwards either {@link #winnerSegment()}
     * names the segment and row holding the newest version (tombstone or not), or it is null and
     * {@link #value()} holds the memtable's version (null for a tombstone).
     */
    boolean nextRaw() {
        Source best = best();
        if (best == null) {
            key = null;
            value = null;
            winnerSegment = null;
            return false;
        }
        byte[] k = best.key();
        if (best instanceof SegmentSource ss) {
            winnerSegment = ss.segment();
            winnerRow = ss.row();
            value = null;
        } else {
            winnerSegment = null;
            value = best.value();
        }
        key = k;
        advancePast(best, k);
        return true;
    }

    Segment winnerSegment() {
        return winnerSegment;
    }

    long winnerRow() {
        return winnerRow;
    }

    private Source best() {
        Source best = null;
        for (Source s : sources) {
            if (!s.valid()) {
                continue;
            }
            if (best == null) {
                best = s;
            } else {
                int c = KeyOrder.compare(s.key(), best.key());
                if (reverse ? c > 0 : c < 0) {
                    best = s;
                }
            }
        }
        return best;
    }

    private void advancePast(Source best, byte[] k) {
        int n = 0;
        for (Source s : sources) {
            if (s.valid() && (s == best || KeyOrder.compare(s.key(), k) == 0)) {
                s.advance();
                n++;
            }
        }
        holders = n;
    }

    /** How many sources held the current key (1 when no older source holds a version of it). */
    private int holders;

    int holders() {
        return holders;
    }

    /** Moves to the next key; false at the end. Afterwards {@link #key()} and {@link #value()} hold it. */
    boolean next() {
        Source best = best();
        if (best == null) {
            key = null;
            value = null;
            return false;
        }
        byte[] k = best.key();
        value = best.value();
        key = k;
        advancePast(best, k);
        return true;
    }

    byte[] key() {
        return key;
    }

    /** Null for a tombstone. */
    byte[] value() {
        return value;
    }
}
