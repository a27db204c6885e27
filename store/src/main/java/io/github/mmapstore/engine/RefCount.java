package io.github.mmapstore.engine;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A reference count that, once it has dropped to zero, refuses new references: whatever it guards
 * (a mapping, a version of the store) has been closed and must not be handed out again.
 */
final class RefCount {
    private final AtomicInteger refs;

    RefCount(int initial) {
        this.refs = new AtomicInteger(initial);
    }

    /** Takes a reference unless the count already reached zero. */
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

    /** Gives a reference back; true when it was the last one. */
    boolean release(Object owner) {
        int r = refs.decrementAndGet();
        if (r < 0) {
            throw new IllegalStateException(owner + " released more often than acquired");
        }
        return r == 0;
    }

    void set(int value) {
        refs.set(value);
    }
}
