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
        // One pass picks the rows and counts the sizes of each partition's file (chains in key order, no merge
        // or entry objects; every key and value touched once); the writing pass then copies them. A flush is
        // bound by memory stalls on rows scattered over the heap: one pass fewer over them is most of its cost.
        Memtable.Chain[] chains = mem.chainsInOrder();
        int n = 0;
        byte[][] keys = new byte[chains.length][];
        byte[][] values = new byte[chains.length][];
        long[] hashes = new long[chains.length];
        List<int[]> ranges = new ArrayList<>();          // [from, to) of each partition's rows
        List<SegmentWriter.Sizes> sizes = new ArrayList<>();
        long part = 0;
        boolean bottom = false;
        SegmentWriter.Sizes current = null;
        for (Memtable.Chain chain : chains) {
            Memtable.Version picked = selection.pick(chain);
            if (picked == null) {
                continue;
            }
            byte[] key = chain.key;
            long p = partitioned ? KeyOrder.prefix(key) : 0; // (partitioned keys are read here anyway)
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
            if (picked.value == null && bottom) {
                continue;
            }
            keys[n] = key;
            values[n] = picked.value;
            hashes[n] = chain.hash;
            if (columns == null) {
                current.addLengths(chain.keyLength, picked.length);
            } else {
                current.add(key, picked.value);
            }
            n++;
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
                for (int i = ranges.get(r)[0]; i < ranges.get(r)[1]; i++) {
                    w.add(keys[i], values[i], hashes[i]);
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
