package io.github.mmapstore.engine;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads that write full memtables out as segments, shared by every engine in the JVM: half the
 * cores (at least one), so that flushing overlaps with the writers without crowding them out. Daemon
 * threads: an engine always waits for its own flush before it closes.
 */
final class Flusher {
    private static final AtomicInteger THREADS = new AtomicInteger();
    private static final ExecutorService POOL = Executors.newFixedThreadPool(
            Math.max(1, Runtime.getRuntime().availableProcessors() / 2), r -> {
                Thread t = new Thread(r, "mmapstore-flush-" + THREADS.incrementAndGet());
                t.setDaemon(true);
                return t;
            });

    private Flusher() {
    }

    /**
     * Syncs of merge outputs: a thread of their own, so that a large output's sync never queues behind a
     * memtable flush (whose commit would wait) nor a flush behind it.
     */
    private static final ExecutorService SYNCS = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "mmapstore-sync-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    static <T> Future<T> submit(Callable<T> task) {
        return POOL.submit(task);
    }

    static <T> Future<T> submitSync(Callable<T> task) {
        return SYNCS.submit(task);
    }
}
