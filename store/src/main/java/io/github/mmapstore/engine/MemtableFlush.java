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
    private MemtableFlush() {
    }

    /** Which version of a key's chain a flush writes, or null to leave the key out. */
    @FunctionalInterface
    interface Selection {
        Memtable.Version pick(Memtable.Chain chain);
    }

    /** The state as of sequence number {@code seq} (every key with a version at or before it). */
    static Selection visibleAt(long seq) {
        return chain -> chain.visible(seq);
    }

    /** The newest version of every key written after {@code seq}. */
    static Selection newerThan(long seq) {
        return chain -> chain.head.seq > seq ? chain.head : null;
    }

    /** The newest version of every key. */
    static Selection newest() {
        return chain -> chain.head;
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
        // One pass picks the rows (chains in key order, no merge or entry objects); the sizing and writing
        // passes then run over plain arrays.
        Memtable.Chain[] chains = mem.chainsInOrder();
        int n = 0;
        byte[][] keys = new byte[chains.length][];
        byte[][] values = new byte[chains.length][];
        long[] hashes = new long[chains.length];
        for (Memtable.Chain chain : chains) {
            Memtable.Version picked = selection.pick(chain);
            if (picked != null) {
                keys[n] = chain.key;
                values[n] = picked.value;
                hashes[n] = chain.hash;
                n++;
            }
        }
        List<Segment> out = new ArrayList<>();
        SegmentWriter w = null;
        try {
            int from = 0;
            while (from < n) {
                long part = partitioned ? KeyOrder.prefix(keys[from]) : 0;
                int to = from + 1;
                while (to < n && (!partitioned || KeyOrder.prefix(keys[to]) == part)) {
                    to++;
                }
                // A partition's tombstones hide nothing when no older segment holds rows of it.
                boolean bottom = isBottom(below, partitioned, part);
                SegmentWriter.Sizes sizes = new SegmentWriter.Sizes(columns);
                for (int i = from; i < to; i++) {
                    if (values[i] != null || !bottom) {
                        sizes.add(keys[i], values[i]);
                    }
                }
                if (sizes.rows > 0) {
                    w = new SegmentWriter(dir, numbers.getAsLong(), sizes);
                    for (int i = from; i < to; i++) {
                        if (values[i] != null || !bottom) {
                            w.add(keys[i], values[i], hashes[i]);
                        }
                    }
                    out.add(Segment.open(w.finish(fsync), w.number(), columns));
                    w = null;
                }
                from = to;
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
