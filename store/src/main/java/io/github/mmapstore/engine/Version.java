package io.github.mmapstore.engine;

import java.util.List;

/**
 * What a reader sees: one memtable and the segments below it, newest first. Reference-counted: the
 * engine holds one reference while it is current, every reader one while it reads; the segments'
 * mappings stay open until the last version naming them is released.
 */
final class Version {
    final Memtable memtable;
    /**
     * The sequence number of the last commit when this version was published: a committed read sees the
     * memtables' versions up to it and skips segments holding writes after it (see {@link Segment#maxSeq()}).
     * A commit publishes a new version over the same memtable and segments.
     */
    final long committedSeq;
    /** A full memtable being written out in the background, or null; between the memtable and the segments. */
    final Memtable frozen;
    final List<Segment> segments;
    private final RefCount refs = new RefCount(1);

    /** Takes a new reference to each segment. */
    Version(Memtable memtable, Memtable frozen, List<Segment> segments, long committedSeq) {
        this.memtable = memtable;
        this.committedSeq = committedSeq;
        this.frozen = frozen;
        this.segments = List.copyOf(segments);
        List<Segment> present = new java.util.ArrayList<>(this.segments.size());
        for (Segment s : this.segments) {
            s.acquire();
            if (s.droppedAt() == 0) {
                present.add(s);
            }
        }
        this.live = present.size() == this.segments.size() ? this.segments : List.copyOf(present);
    }

    /** The segments a latest read sees (all of {@link #segments} but dropped partitions' files awaiting the commit). */
    final List<Segment> live;

    /**
     * Whether a read at {@code isolation} sees {@code s}. A latest read sees every file still in the store;
     * a committed read sees the store as of the last commit: not files holding writes after it, and the files
     * of partitions dropped after it (a drop is a write too).
     */
    boolean visible(Segment s, ReadIsolation isolation) {
        long dropped = s.droppedAt();
        if (isolation == ReadIsolation.LATEST) {
            return dropped == 0;
        }
        return s.maxSeq() <= committedSeq && (dropped == 0 || dropped > committedSeq);
    }

    /** The snapshot sequence number of a read at {@code isolation}, given the newest write it may see. */
    long snapshot(ReadIsolation isolation, long latest) {
        return isolation == ReadIsolation.LATEST ? latest : Math.min(latest, committedSeq);
    }

    boolean tryAcquire() {
        return refs.tryAcquire();
    }

    void release() {
        if (refs.release("version")) {
            for (Segment s : segments) {
                s.release();
            }
        }
    }
}
