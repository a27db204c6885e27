package io.github.mmapstore.engine;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
        List<Long> parts = new ArrayList<>();
        List<SegmentWriter.Sizes> sizes = new ArrayList<>();
        List<Boolean> bottoms = new ArrayList<>();
        var it = mem.entries(null, true, null, true, false);
        while (it.hasNext()) {
            Map.Entry<byte[], Memtable.Chain> e = it.next();
            Memtable.Version picked = selection.pick(e.getValue());
            if (picked == null) {
                continue;
            }
            long part = partitioned ? KeyOrder.prefix(e.getKey()) : 0;
            if (parts.isEmpty() || parts.get(parts.size() - 1) != part) {
                parts.add(part);
                sizes.add(new SegmentWriter.Sizes(columns));
                bottoms.add(isBottom(below, partitioned, part));
            }
            if (picked.value != null || !bottoms.get(bottoms.size() - 1)) {
                sizes.get(sizes.size() - 1).add(e.getKey(), picked.value);
            }
        }
        List<Segment> out = new ArrayList<>();
        SegmentWriter w = null;
        try {
            int idx = -1;
            long current = 0;
            it = mem.entries(null, true, null, true, false);
            while (it.hasNext()) {
                Map.Entry<byte[], Memtable.Chain> e = it.next();
                Memtable.Version picked = selection.pick(e.getValue());
                if (picked == null) {
                    continue;
                }
                long part = partitioned ? KeyOrder.prefix(e.getKey()) : 0;
                if (idx < 0 || part != current) {
                    if (w != null) {
                        out.add(Segment.open(w.finish(fsync), w.number(), columns));
                        w = null;
                    }
                    idx++;
                    current = part;
                    if (sizes.get(idx).rows > 0) {
                        w = new SegmentWriter(dir, numbers.getAsLong(), sizes.get(idx));
                    }
                }
                if (w != null && (picked.value != null || !bottoms.get(idx))) {
                    w.add(e.getKey(), picked.value);
                }
            }
            if (w != null) {
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
