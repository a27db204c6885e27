package io.github.mmapstore.engine;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Replaces one store's manifest off the writer's thread, in the order the writer composed the manifests.
 *
 * <p>Why: a manifest replacement is a write, an fsync, a rename and a directory fsync, tens to hundreds
 * of milliseconds on a busy device. Checkpoints and every installed merge output replace it; on the
 * stream thread that was the commit's and the slices' worst latency. The writer composes each manifest
 * (an immutable value, under its lock, so the order of compositions is the order of the changes) and
 * hands it here; the writer's own view (readers, the compaction policy) moves on at once.
 *
 * <p>What makes that safe is {@code afterDurable}: whatever a manifest stops naming (merge inputs, logs
 * before the new log start, the files of dropped partitions) is deleted only once that manifest, or a
 * later one, is on disk. Until then a crash opens the older manifest and finds every file it names.
 * Files a manifest newly names (segments, merge outputs) are synced before they are handed to it.
 *
 * <p>Manifests queued behind each other are coalesced: the newest composed one is written, and the
 * {@code afterDurable} actions of all of them run after it (it contains every change they made). One
 * store's writes run one at a time, on a small pool shared by every engine in the JVM.
 *
 * <p>A failed write (I/O error, or a fault a test injected) stops the writer: nothing queued after it
 * runs, and the writer's thread gets the failure at its next call of {@link #rethrowFailure()}.
 */
final class ManifestWriter {
    private static final AtomicInteger THREADS = new AtomicInteger();
    /** Manifest writes of every store: short, latency-bound tasks, kept apart from flushes and syncs. */
    private static final ExecutorService POOL = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "mmapstore-manifest-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    private record Queued(long generation, Manifest manifest, Runnable afterDurable) {
    }

    private final Path dir;
    private final boolean fsync;
    private final FaultInjector faults;

    // guarded by this
    private final ArrayDeque<Queued> queue = new ArrayDeque<>();
    private boolean draining;
    private boolean abandoned;
    private long composed;
    /**
     * The newest generation that is on disk and whose {@code afterDurable} actions (and those of every
     * earlier one) have run. It moves after those actions, not with {@link #durable}: see
     * {@link #awaitDurable()}.
     */
    private long settledGeneration;
    private Manifest durable;
    private Throwable failure;
    /** Set with {@link #failure}: the writer's per-call check reads this without the lock. */
    private volatile boolean failed;

    /** {@code onDisk}: the manifest the directory holds now (as recovery left it). */
    ManifestWriter(Path dir, boolean fsync, FaultInjector faults, Manifest onDisk) {
        this.dir = dir;
        this.fsync = fsync;
        this.faults = faults;
        this.durable = onDisk;
    }

    /**
     * Queues {@code m} to replace the manifest; {@code afterDurable} (may be null) runs once it, or a
     * later manifest, is on disk. Called by the writer, in the order of its changes.
     */
    synchronized void submit(Manifest m, Runnable afterDurable) {
        if (abandoned) {
            return;
        }
        queue.add(new Queued(++composed, m, afterDurable));
        if (!draining && failure == null) {
            draining = true;
            POOL.execute(this::drain);
        }
    }

    private void drain() {
        while (true) {
            List<Queued> batch;
            synchronized (this) {
                if (queue.isEmpty() || abandoned || failure != null) {
                    draining = false;
                    notifyAll();
                    return;
                }
                batch = new ArrayList<>(queue);
                queue.clear();
            }
            Queued newest = batch.get(batch.size() - 1);
            try {
                newest.manifest().write(dir, fsync, faults);
            } catch (IOException | RuntimeException | Error e) {
                synchronized (this) {
                    failure = e;
                    failed = true;
                    draining = false;
                    notifyAll();
                }
                return;
            }
            synchronized (this) {
                durable = newest.manifest();
            }
            for (Queued q : batch) {
                if (q.afterDurable() != null) {
                    try {
                        q.afterDurable().run();
                    } catch (RuntimeException e) {
                        // deleting a file no manifest names: the next open deletes it anyway
                    }
                }
            }
            synchronized (this) {
                settledGeneration = newest.generation();
                notifyAll();
            }
        }
    }

    /**
     * Waits until every manifest submitted so far is on disk and their {@code afterDurable} actions have
     * run (the files they stopped naming are deleted, or left to their last reader); throws what stopped
     * the writer, if anything.
     */
    synchronized void awaitDurable() throws IOException {
        long target = composed;
        boolean interrupted = false;
        try {
            // Waits for the afterDurable actions too, not only for the write: they run outside the lock (a
            // slow delete must not block submit), and a wait for the write alone could return while the
            // drain was still deleting a merge's inputs, so that a caller listing the directory right after
            // (StoreEngine.awaitDurable promises those deletions) found dozens of files no manifest names.
            while (settledGeneration < target && failure == null && !abandoned) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        rethrowFailure();
    }

    /** Throws the failure of a background write, if one happened. */
    void rethrowFailure() throws IOException {
        if (!failed) {
            return;
        }
        Throwable f;
        synchronized (this) {
            f = failure;
        }
        if (f == null) {
            return;
        }
        if (f instanceof IOException io) {
            throw new IOException("manifest replacement failed in " + dir + ": " + io.getMessage(), io);
        }
        if (f instanceof RuntimeException re) {
            throw re;
        }
        throw (Error) f;
    }

    /** Whether every submitted manifest is on disk and its {@code afterDurable} actions have run. */
    synchronized boolean idle() {
        return settledGeneration == composed;
    }

    /** The newest manifest on disk (written by this writer, or found at open). */
    synchronized Manifest durable() {
        return durable;
    }

    /**
     * Stops as a crash would: queued manifests are dropped (their files stay as they are), and a write in
     * progress is waited for, so that nothing writes into the directory after its owner let go of it.
     */
    synchronized void abandon() {
        abandoned = true;
        queue.clear();
        boolean interrupted = false;
        while (draining) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
