package io.github.mmapstore.engine;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What a reader sees: one memtable and the segments below it, newest first. Reference-counted: the
 * engine holds one reference while it is current, every reader one while it reads; the segments'
 * mappings stay open until the last version naming them is released.
 */
final class Version {
    final Memtable memtable;
    final List<Segment> segments;
    private final AtomicInteger refs = new AtomicInteger(1);

    /** Takes a new reference to each segment. */
    Version(Memtable memtable, List<Segment> segments) {
        this.memtable = memtable;
        this.segments = List.copyOf(segments);
        for (Segment s : this.segments) {
            s.acquire();
        }
    }

    boolean tryAcquire() {
        while (true) {
            int r = refs.get();
            if (r <= 0) {
                return false;
            }
            if (refs.compareAndSet(r, r + 1)) {
                return true;
            }
        }
    }

    void release() {
        int r = refs.decrementAndGet();
        if (r == 0) {
            for (Segment s : segments) {
                s.release();
            }
        } else if (r < 0) {
            throw new IllegalStateException("version released more often than acquired");
        }
    }
}
