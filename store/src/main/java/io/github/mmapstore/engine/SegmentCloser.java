package io.github.mmapstore.engine;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Unmaps and deletes segment files whose last reference is gone, on a thread of its own. Whoever drops that
 * reference (a commit publishing a version, a reader closing an iterator, an Interactive Queries thread)
 * would otherwise pay for it: closing a shared arena is a handshake with every Java thread, and unmapping
 * and unlinking a file of tens of megabytes takes milliseconds. Measured before: commits of a store whose
 * merges ran in the background took 2-8 ms now and then (every one of them the release of a merged-away
 * file), against a median of 5 µs. One daemon thread for the JVM; {@link #awaitIdle()} lets the engine's
 * {@code awaitDurable} and {@code close} keep their promise that replaced files are gone.
 */
final class SegmentCloser {
    private static final AtomicInteger PENDING = new AtomicInteger();
    private static final Object IDLE = new Object();
    private static final ExecutorService THREAD = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "mmapstore-segment-closer");
        t.setDaemon(true);
        return t;
    });

    private SegmentCloser() {
    }

    /** Closes {@code arena} (a segment's mapping) and, unless null, deletes {@code deleteOrNull}, in the background. */
    static void close(Arena arena, Path deleteOrNull) {
        PENDING.incrementAndGet();
        try {
            THREAD.execute(() -> {
                try {
                    closeNow(arena, deleteOrNull);
                } finally {
                    done();
                }
            });
        } catch (RuntimeException rejected) {
            // (the JVM is shutting down) closed here instead
            try {
                closeNow(arena, deleteOrNull);
            } finally {
                done();
            }
        }
    }

    private static void closeNow(Arena arena, Path deleteOrNull) {
        try {
            arena.close();
        } finally {
            FileLimits.releaseMapping();
        }
        if (deleteOrNull != null) {
            try {
                Files.deleteIfExists(deleteOrNull);
            } catch (IOException ignored) {
                // An undeleted obsolete segment is removed at the next open (not in the manifest).
            }
        }
    }

    private static void done() {
        if (PENDING.decrementAndGet() == 0) {
            synchronized (IDLE) {
                IDLE.notifyAll();
            }
        }
    }

    /** Waits until every close handed over so far (by any engine of the JVM) is done. */
    static void awaitIdle() {
        boolean interrupted = false;
        synchronized (IDLE) {
            while (PENDING.get() > 0) {
                try {
                    IDLE.wait(100);
                } catch (InterruptedException e) {
                    interrupted = true; // closes take milliseconds: finish waiting, keep the flag
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
