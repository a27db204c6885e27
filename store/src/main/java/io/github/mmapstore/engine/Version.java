package io.github.mmapstore.engine;

import java.util.List;

/**
 * What a reader sees: one memtable and the segments below it, newest first. Reference-counted: the
 * engine holds one reference while it is current, every reader one while it reads; the segments'
 * mappings stay open until the last version naming them is released.
 */
final class Version {
    final Memtable memtable;
    /** A full memtable being written out in the background, or null; between the memtable and the segments. */
    final Memtable frozen;
    final List<Segment> segments;
    private final RefCount refs = new RefCount(1);

    /** Takes a new reference to each segment. */
    Version(Memtable memtable, List<Segment> segments) {
        this(memtable, null, segments);
    }

    Version(Memtable memtable, Memtable frozen, List<Segment> segments) {
        this.memtable = memtable;
        this.frozen = frozen;
        this.segments = List.copyOf(segments);
        for (Segment s : this.segments) {
            s.acquire();
        }
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
