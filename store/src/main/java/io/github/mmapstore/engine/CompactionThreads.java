package io.github.mmapstore.engine;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The threads that run merges in the background ({@link StoreEngine#compactInBackground}), shared by every
 * engine of the JVM however many stores it opens: a store queues one slice at a time and requeues itself
 * behind the others, so stores take turns and compaction never uses more than this many cores. Daemon
 * threads: an engine waits for its own slice before it closes.
 */
public final class CompactionThreads {
    private static final Logger LOG = LoggerFactory.getLogger(CompactionThreads.class);
    private static final AtomicInteger NAMES = new AtomicInteger();
    private static ExecutorService pool;
    private static int poolThreads;

    private CompactionThreads() {
    }

    /**
     * The JVM's pool of {@code threads} compaction threads, created by the first store that asks; a later
     * store asking for another number gets the existing pool (the number is the instance's, not a store's)
     * and a log line says so.
     */
    public static synchronized ExecutorService pool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("compaction threads must be at least 1, was " + threads);
        }
        if (pool == null) {
            pool = Executors.newFixedThreadPool(threads, r -> {
                Thread t = new Thread(r, "mmapstore-compaction-" + NAMES.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            poolThreads = threads;
        } else if (threads != poolThreads) {
            LOG.warn("MmapStore compaction threads: {} asked, the JVM's pool already has {} (the first store's "
                    + "setting applies to every store of the JVM)", threads, poolThreads);
        }
        return pool;
    }
}
