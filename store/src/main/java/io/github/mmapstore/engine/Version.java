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
        for (Segment s : this.segments) {
            s.acquire();
        }
    }

    /** Whether a read at {@code isolation} sees {@code s}: a committed read skips writes after the last commit. */
    boolean visible(Segment s, ReadIsolation isolation) {
        return isolation == ReadIsolation.LATEST || s.maxSeq() <= committedSeq;
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
