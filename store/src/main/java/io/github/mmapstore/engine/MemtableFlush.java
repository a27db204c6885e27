package io.github.mmapstore.engine;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Writes one version of each key of a memtable as sorted segment files: one file, or one per partition in
 * a partitioned engine. Which version is the caller's choice ({@link Selection}): a memtable frozen in
 * the middle of a transaction is written twice, its state as of the last commit and, above it, what was
 * written since, so that a committed read never sees the second file before the next commit.
 */
final class MemtableFlush {
    /** Rows between a row's {@link Memtable#touch} and its {@link Memtable#emit}: enough to overlap their misses. */
    private static final int LOOK_AHEAD = 16;
    /** Where the touched bytes go, so that the loads are not optimised away. */
    static volatile long sunk;

    private MemtableFlush() {
    }

    /** Which version of a key a flush writes ({@link Memtable#NONE}: leave the key out). */
    @FunctionalInterface
    interface Selection {
        long pick(Memtable mem, int id);
    }

    /** The state as of sequence number {@code seq} (every key with a version at or before it). */
    static Selection visibleAt(long seq) {
        return (mem, id) -> mem.visible(id, seq);
    }

    /** The newest version of every key written after {@code seq}. */
    static Selection newerThan(long seq) {
        return (mem, id) -> {
            long head = mem.head(id);
            return mem.seq(head) > seq ? head : Memtable.NONE;
        };
    }

    /** The newest version of every key. */
    static Selection newest() {
        return Memtable::head;
    }

    /**
     * Writes the selected versions of {@code mem} and opens the files; the caller owns one reference to
     * each. A partition's tombstones are left out when none of {@code below} holds rows of it (nothing
     * older for them to hide). Returns no segment when no row remains.
     *
     * @param numbers file numbers for new segments
     * @param fsync   sync each file before it is renamed into place
     */
    static List<Segment> write(Path dir, LongSupplier numbers, Memtable mem, Selection selection, List<Segment> below,
                               boolean partitioned, ColumnExtension columns, boolean fsync) throws IOException {
        // One pass picks the rows and counts the sizes of each partition's file from the lengths in the
        // memtable's records (no copies, no objects per row); the writing pass then copies each row out once,
        // straight into the writer.
        int[] order = mem.idsInOrder();
        int n = 0;
        int[] rows = new int[order.length];
        long[] versions = new long[order.length];
        List<int[]> ranges = new ArrayList<>();          // [from, to) of each partition's rows
        List<SegmentWriter.Sizes> sizes = new ArrayList<>();
        long part = 0;
        boolean bottom = false;
        SegmentWriter.Sizes current = null;
        if (!partitioned && columns == null) {
            // One file: its sizes are sums over the rows, so the rows are picked and measured in insertion
            // order, which streams through the key pages and the slabs (ids are dense and records were
            // appended in that order) instead of missing the cache twice a row as a pass in key order does;
            // the pass in key order then only lists the picked rows.
            bottom = isBottom(below, false, 0);
            current = new SegmentWriter.Sizes(null);
            sizes.add(current);
            long[] picked = new long[order.length];
            for (int id = 0; id < picked.length; id++) {
                long v = selection.pick(mem, id);
                if (v == Memtable.NONE) {
                    continue;
                }
                int valueLength = mem.valueLength(v);
                if (valueLength < 0 && bottom) {
                    continue; // a tombstone with nothing older to hide
                }
                picked[id] = v;
                current.addLengths(mem.keyLength(id), valueLength);
            }
            for (int id : order) {
                if (picked[id] != Memtable.NONE) {
                    rows[n] = id;
                    versions[n] = picked[id];
                    n++;
                }
            }
            ranges.add(new int[] {0, n});
            current = null;
        } else {
            for (int id : order) {
                long picked = selection.pick(mem, id);
                if (picked == Memtable.NONE) {
                    continue;
                }
                long p = partitioned ? mem.prefix(id, 0) : 0;
                if (current == null || p != part) {
                    if (current != null) {
                        ranges.get(ranges.size() - 1)[1] = n;
                    }
                    part = p;
                    // A partition's tombstones hide nothing when no older segment holds rows of it.
                    bottom = isBottom(below, partitioned, part);
                    current = new SegmentWriter.Sizes(columns);
                    sizes.add(current);
                    ranges.add(new int[] {n, n});
                }
                int valueLength = mem.valueLength(picked);
                if (valueLength < 0 && bottom) {
                    continue;
                }
                rows[n] = id;
                versions[n] = picked;
                if (columns == null) {
                    current.addLengths(mem.keyLength(id), valueLength);
                } else {
                    current.add(mem.key(id), mem.value(picked));
                }
                n++;
            }
        }
        if (current != null) {
            ranges.get(ranges.size() - 1)[1] = n;
        }
        List<Segment> out = new ArrayList<>();
        SegmentWriter w = null;
        try {
            for (int r = 0; r < ranges.size(); r++) {
                SegmentWriter.Sizes sz = sizes.get(r);
                if (sz.rows == 0) {
                    continue;
                }
                w = new SegmentWriter(dir, numbers.getAsLong(), sz);
                int from = ranges.get(r)[0];
                int to = ranges.get(r)[1];
                if (columns == null) {
                    copyRows(mem, rows, versions, from, to, w);
                } else {
                    for (int i = from; i < to; i++) {
                        int id = rows[i];
                        w.add(mem.key(id), mem.value(versions[i]), mem.hash(id));
                    }
                }
                out.add(Segment.open(w.finish(fsync), w.number(), columns));
                w = null;
            }
        } catch (IOException | RuntimeException e) {
            if (w != null) {
                w.close();
            }
            for (Segment s : out) {
                s.markObsolete();
                s.release();
            }
            throw e;
        }
        return out;
    }

    /**
     * Copies rows {@code [from, to)} from the slabs into {@code w}. The records of the next group of
     * {@link #LOOK_AHEAD} rows are loaded together before this group is copied, so that their cache misses
     * overlap instead of coming one after the other.
     */
    private static void copyRows(Memtable mem, int[] rows, long[] versions, int from, int to, SegmentWriter w)
            throws IOException {
        Memtable.RowSink sink = w::add;
        int touched = 0;
        for (int j = from; j < Math.min(from + LOOK_AHEAD, to); j++) {
            touched += mem.touch(rows[j], versions[j]);
        }
        for (int g = from; g < to; g += LOOK_AHEAD) {
            int end = Math.min(g + LOOK_AHEAD, to);
            for (int j = end, last = Math.min(end + LOOK_AHEAD, to); j < last; j++) {
                touched += mem.touch(rows[j], versions[j]);
            }
            for (int i = g; i < end; i++) {
                mem.emit(rows[i], versions[i], sink);
            }
        }
        sunk += touched;
    }

    /** Whether no segment of {@code below} holds rows of {@code partition} (always the one partition 0 unpartitioned). */
    private static boolean isBottom(List<Segment> below, boolean partitioned, long partition) {
        for (Segment s : below) {
            if (!partitioned || s.partition() == partition) {
                return false;
            }
        }
        return true;
    }
}
