package io.github.mmapstore.engine;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one store's compaction: time-boxed steps of the merge the policy chooses among the committed
 * segments ({@link CompactionPolicy}), the small merges above a large one, merges of pending segments,
 * the install of each output file by one manifest replacement, and the figures the pacing reads
 * (debt, space estimate). Called with the engine's monitor held, except the estimate, which readers of
 * the gauges call. With {@link #runInBackground} the merges run in slices on a background thread, which
 * holds the monitor to choose and to install, not while it merges.
 */
final class Compactor {
    private static final Logger LOG = LoggerFactory.getLogger(Compactor.class);

    private final StoreEngine engine;
    private final Path dir;
    private final EngineConfig config;
    private final VersionSet vs;
    private final CommitPath commitPath;

    private Compaction compaction;
    /** A small merge running above {@link #compaction} (see {@link #startMinor}), or null. */
    private Compaction minor;
    /** Whether {@link #compaction} is a full merge started for the space bound. */
    private volatile boolean spaceMergeRunning;
    /** The committed list {@link #planned} was chosen for (lists are replaced, never changed, on install). */
    private List<Segment> plannedFor;
    private CompactionPolicy.Plan planned;
    /** Sampled live rows per segment, shared by the policy and the estimate (thread-safe). */
    private final LiveSamples liveSamples = new LiveSamples();
    /** A segment list (a version's, never changed) and the live-byte estimate of its segments. */
    private volatile Object[] estimateCache = {null, CompactionPolicy.Estimate.EMPTY};

    private long compactions;
    private long compactedBytes;
    private long compactionSteps;
    private long stepNanosTotal;
    private long stepNanosMax;
    private long stepNanosLast;
    private long compactionBytesRead;

    Compactor(StoreEngine engine, Path dir, EngineConfig config, VersionSet vs, CommitPath commitPath) {
        this.engine = engine;
        this.dir = dir;
        this.config = config;
        this.vs = vs;
        this.commitPath = commitPath;
    }

    // =============================================================================================
    // Steps
    // =============================================================================================

    /** See {@link StoreEngine#compact(long)}. */
    boolean compact(long budgetNanos) {
        // segments of a flush that was in flight at the last commit join the manifest here when nothing
        // was written since (an idle store gets no more commits), so that they can be merged
        commitPath.poll();
        commitPath.checkpointIfCommitted();
        if (background != null) {
            // the merges run on the background threads: the caller's step only makes sure one is on its way
            wake();
            return scheduled;
        }
        long now = System.nanoTime();
        long deadline = now + budgetNanos;
        if (budgetNanos > 0 && deadline < now) {
            // A huge budget (Long.MAX_VALUE = "no limit") overflowed into a deadline in the past, which
            // made every call stop after the first few hundred rows: saturate instead.
            deadline = Long.MAX_VALUE;
        }
        boolean worked = false;
        try {
            while (true) {
                if (compaction == null && !startPlannedMerge()) {
                    return false;
                }
                worked = true;
                if (minor == null) {
                    minor = startMinor();
                }
                if (minor != null) {
                    if (!minor.step(deadline)) {
                        return true;
                    }
                    installStep(minor);
                    if (minor.finished()) {
                        minor = null;
                    }
                    if (System.nanoTime() >= deadline) {
                        return true; // the large merge goes on at the next step
                    }
                    continue;
                }
                if (!compaction.step(deadline)) {
                    return true;
                }
                installStep(compaction);
                if (compaction.finished()) {
                    compaction = null;
                    spaceMergeRunning = false;
                    if (System.nanoTime() >= deadline) {
                        return plan() != null;
                    }
                } else if (System.nanoTime() >= deadline) {
                    return true;
                }
            }
        } catch (IOException e) {
            abort();
            throw engine.fail(new EngineIOException("compaction failed in " + dir, e));
        } catch (CorruptionException e) {
            abort();
            engine.corrupted(e);
            throw e;
        } finally {
            if (worked) {
                long took = System.nanoTime() - now;
                compactionSteps++;
                stepNanosTotal += took;
                stepNanosLast = took;
                stepNanosMax = Math.max(stepNanosMax, took);
            }
        }
    }

    /** Starts the merge the policy chooses; false when there is none (or a partition drop awaits its checkpoint). */
    private boolean startPlannedMerge() {
        if (!vs.droppedCommitted.isEmpty()) {
            return false; // the manifest must keep naming the dropped files until the drop is checkpointed
        }
        CompactionPolicy.Plan plan = plan();
        if (plan == null) {
            return false;
        }
        compaction = new Compaction(dir, config.columns(), vs.fileNumbers::getAndIncrement, plan.run(),
                plan.bottom(), fileBytes(), config.faults()).fsync(config.fsync());
        spaceMergeRunning = plan.reason() == CompactionPolicy.Reason.SPACE;
        LOG.debug("MmapStore at {}: {} merge of {} segments, {} bytes", dir,
                plan.reason() == CompactionPolicy.Reason.SPACE ? "space" : "size-tiered", plan.run().size(),
                plan.inputBytes());
        return true;
    }

    /**
     * A size-tiered merge among the segments newer than the merge in progress, when they alone reach the
     * read-amplification bound, or null. A merge of a whole large partition takes many steps while
     * flushes keep adding segments above it; without this the segments a lookup may touch grew with
     * every flush until the large merge installed (119 in the compaction benchmark). The two runs are
     * disjoint and each adjacent, so each installs by replacing its own run; the small one never
     * reaches the bottom (the large one's inputs lie below it), so it keeps its tombstones.
     */
    private Compaction startMinor() {
        if (compaction == null || !vs.droppedCommitted.isEmpty()) {
            return null;
        }
        List<Segment> committed = vs.committed;
        int first = 0;
        while (first < committed.size() && !compaction.occupies(committed.get(first))) {
            first++;
        }
        if (first < config.compactionTrigger()) {
            return null;
        }
        List<Segment> above = new ArrayList<>(committed.subList(0, first));
        List<Segment> run = config.partitioned() ? Compaction.pick(above, config.compactionTrigger(), true)
                : CompactionPolicy.pickRuns(CompactionPolicy.sortedRuns(above), config.compactionTrigger());
        if (run == null) {
            return null;
        }
        return new Compaction(dir, config.columns(), vs.fileNumbers::getAndIncrement, run, false, fileBytes(), config.faults())
                .fsync(config.fsync());
    }

    /** The policy's next merge among the committed segments (cached while they do not change), or null. */
    private CompactionPolicy.Plan plan() {
        if (plannedFor != vs.committed) {
            plannedFor = vs.committed;
            planned = CompactionPolicy.choose(vs.committed, config.compactionTrigger(), config.maxSpaceAmplification(),
                    config.partitioned(), liveSamples, reservedBytes());
        }
        return planned;
    }

    /**
     * Merges every segment into one sorted run now (tests, tools, and before a benchmark's read phase):
     * one file, or files of {@link EngineConfig#compactionFileBytes()} with disjoint key ranges.
     */
    void compactFully() {
        awaitBackgroundSlice();
        commitPath.awaitFlush();
        commitPath.checkpointIfCommitted();
        abort();
        List<Segment> committed = vs.committed;
        if (committed.isEmpty() || (committed.size() < 2 && committed.get(0).tombstones() == 0)
                || !vs.droppedCommitted.isEmpty()) {
            return;
        }
        try {
            if (config.partitioned()) {
                List<Segment> run;
                while ((run = Compaction.pick(vs.committed, 2, true)) != null) {
                    compaction = new Compaction(dir, config.columns(), vs.fileNumbers::getAndIncrement, run,
                            Compaction.reachesBottom(run, vs.committed, List.of(), true), Long.MAX_VALUE, config.faults())
                            .fsync(config.fsync());
                    runToEnd(compaction);
                    compaction = null;
                }
                return;
            }
            compaction = new Compaction(dir, config.columns(), vs.fileNumbers::getAndIncrement, new ArrayList<>(committed), true,
                    fileBytes(), config.faults()).fsync(config.fsync());
            runToEnd(compaction);
            compaction = null;
        } catch (IOException e) {
            abort();
            throw engine.fail(new EngineIOException("compaction failed in " + dir, e));
        }
    }

    private void runToEnd(Compaction c) throws IOException {
        while (!c.finished()) {
            c.step(Long.MAX_VALUE);
            installStep(c);
        }
    }

    private static String numbers(List<Segment> segments) {
        StringBuilder b = new StringBuilder("[");
        for (Segment s : segments) {
            b.append(b.length() > 1 ? " " : "").append(s.number());
        }
        return b.append(']').toString();
    }

    /** How large a merge's output files get: one file per merge in a partitioned engine. */
    private long fileBytes() {
        return config.partitioned() ? Long.MAX_VALUE : config.compactionFileBytes();
    }

    /**
     * Bytes set aside under the space bound for files other than segments: the log (at most a memtable's
     * worth before it rotates, or the memtable a checkpoint writes out) and the output files of a merge
     * not yet installed.
     */
    private long reservedBytes() {
        // the log, and a merge's output file being written next to one waiting for its sync
        return config.partitioned() ? 0 : config.memtableBytes() + 2 * config.compactionFileBytes();
    }

    /**
     * Installs what a merge has ready: its next output file, with the inputs it replaces entirely gone
     * (see {@link Compaction#releasable()}), in one manifest replacement, so a crash before it is durable
     * leaves the store as it was and a crash after it leaves this part of the merge done. The output takes
     * the place of the merge's block in the newest-first list, ahead of the inputs still partly unmerged:
     * for its key range it holds the newest version among all of them. The inputs' files are deleted once
     * that manifest is durable and their last reader is gone.
     */
    private void installStep(Compaction c) throws IOException {
        Segment out = c.takeOutput();
        List<Segment> released = c.releasable();
        if (out == null && released.isEmpty()) {
            c.installedStep(null, released);
            return;
        }
        List<Segment> committed = vs.committed;
        List<Segment> next = new ArrayList<>(committed.size() + 1);
        boolean placed = false;
        for (Segment seg : committed) {
            if (!c.occupies(seg)) {
                next.add(seg);
            } else if (!placed) {
                placed = true;
                next.addAll(c.installed());
                if (out != null) {
                    next.add(out);
                }
                for (Segment r : c.remaining()) {
                    if (!released.contains(r) && committed.contains(r)) {
                        next.add(r);
                    }
                }
            }
        }
        if (!placed && out != null) {
            out.markObsolete();
            out.release();
            throw new IllegalStateException("merge inputs vanished from the store while the merge ran in " + dir + " ("
                    + (c == minor ? "the merge above the large one" : c == compaction ? "the policy's merge" : "a full merge")
                    + "; its inputs left " + numbers(c.remaining()) + ", installed " + numbers(c.installed())
                    + "; the store's committed segments " + numbers(committed) + ", pending " + numbers(vs.pending) + ")");
        }
        vs.replaceManifest(vs.withSegments(next), VersionSet.retireWhenDurable(released));
        vs.committed = next;
        vs.install(vs.current().memtable);
        if (out != null) {
            out.release(); // the new version holds it
        }
        c.installedStep(out, released);
        long written = out == null ? 0 : out.fileSize();
        compactedBytes += written;
        compactionBytesRead += written; // verification reads every output page
        if (c.finished()) {
            compactions++;
            // Two passes over the inputs (sizing, writing).
            compactionBytesRead += 2 * c.inputBytes();
        }
        config.faults().at(c.finished() ? FaultInjector.Point.COMPACTION_AFTER_INSTALL
                : FaultInjector.Point.COMPACTION_AFTER_PARTIAL_INSTALL);
    }

    /** Drops the merges in progress, their output files included (a clean close, or a failure). */
    void abort() {
        awaitBackgroundSlice();
        if (minor != null) {
            minor.abort();
            minor = null;
        }
        if (compaction != null) {
            compaction.abort();
            compaction = null;
        }
        spaceMergeRunning = false;
    }

    /** Leaves the merges' files as a crash would (the next open deletes what no manifest names). */
    void abandon() {
        awaitBackgroundSlice();
        if (minor != null) {
            minor.abandon();
            minor = null;
        }
        if (compaction != null) {
            compaction.abandon();
            compaction = null;
        }
    }

    // =============================================================================================
    // Merges on background threads
    // =============================================================================================

    /**
     * How long a background slice merges before it gives the thread to the next store's: long enough
     * that taking the monitor twice per slice costs nothing, short enough that a writer waiting for the
     * slice (a close, a full compaction) does not notice.
     */
    static final long BACKGROUND_SLICE_NANOS = 20_000_000L;

    /** Where merges run when not on the caller's thread ({@link #runInBackground}); null: only in {@link #compact} steps. */
    private java.util.concurrent.Executor background;
    /** A background slice of this store is queued or running. Monitor. */
    private boolean scheduled;
    /** The merge a background slice is stepping outside the monitor, or null. Monitor. */
    private Compaction busy;

    /**
     * From now on merges run in slices on {@code executor}, off the writer's thread: a slice takes the
     * engine's monitor to choose and start a merge, merges outside it (inputs are immutable and held by
     * the merge, its output files its own), then takes the monitor again to install what it finished.
     * Writes, commits and reads go on meanwhile; what must not overlap a merge step (a close, a full
     * compaction, an abort) waits for the slice in flight. Monitor held.
     */
    void runInBackground(java.util.concurrent.Executor executor) {
        this.background = java.util.Objects.requireNonNull(executor, "executor");
        wake();
    }

    /** Whether merges run on background threads. */
    boolean inBackground() {
        return background != null;
    }

    /** Queues a background slice unless one is queued or running. Monitor held. */
    void wake() {
        if (background == null || scheduled || engine.isClosed() || engine.failed()) {
            return;
        }
        scheduled = true;
        background.execute(this::backgroundSlice);
    }

    /** Waits up to {@code nanos} for the next end of a background slice, if one is queued or running. Monitor held. */
    void awaitSlice(long nanos) {
        if (!scheduled || nanos <= 0) {
            return;
        }
        try {
            engine.wait(Math.max(1, nanos / 1_000_000)); // every slice ends with notifyAll
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits until no background slice is merging outside the monitor. Monitor held. */
    private void awaitBackgroundSlice() {
        boolean interrupted = false;
        while (busy != null) {
            try {
                engine.wait();
            } catch (InterruptedException e) {
                interrupted = true; // the slice ends within its time box: finish waiting, keep the flag
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** One background slice: choose (monitor), merge (no monitor), install (monitor), queue the next. */
    private void backgroundSlice() {
        Compaction c;
        synchronized (engine) {
            c = backgroundMerge();
            if (c == null) {
                scheduled = false;
                return;
            }
            busy = c;
        }
        long start = System.nanoTime();
        boolean ready = false;
        Throwable failed = null;
        try {
            ready = c.step(start + BACKGROUND_SLICE_NANOS);
        } catch (IOException | RuntimeException | Error e) {
            failed = e;
        }
        synchronized (engine) {
            busy = null;
            engine.notifyAll();
            long took = System.nanoTime() - start;
            compactionSteps++;
            stepNanosTotal += took;
            stepNanosLast = took;
            stepNanosMax = Math.max(stepNanosMax, took);
            if (engine.isClosed() || engine.failed()) {
                scheduled = false; // the close (or the failure's close) drops the merge
                return;
            }
            try {
                if (failed instanceof IOException io) {
                    throw io;
                }
                if (failed instanceof RuntimeException re) {
                    throw re;
                }
                if (failed instanceof Error err) {
                    throw err;
                }
                if (ready) {
                    installStep(c);
                    if (c == minor) {
                        if (minor.finished()) {
                            minor = null;
                        }
                    } else if (c.finished()) {
                        compaction = null;
                        spaceMergeRunning = false;
                    }
                }
            } catch (IOException e) {
                scheduled = false;
                abort();
                engine.fail(new EngineIOException("compaction failed in " + dir, e));
                LOG.error("MmapStore at {}: background compaction failed; the store refuses further use", dir, e);
                return;
            } catch (CorruptionException e) {
                scheduled = false;
                abort();
                engine.corrupted(e); // the writer's next call fails with it, as a read's damage would
                return;
            } catch (RuntimeException | Error e) {
                scheduled = false;
                abort();
                engine.fail(new EngineIOException("compaction failed in " + dir, new IOException(e)));
                LOG.error("MmapStore at {}: background compaction failed; the store refuses further use", dir, e);
                return;
            }
            background.execute(this::backgroundSlice); // still scheduled: other stores' slices go first
        }
    }

    /** The merge the next background slice steps (a small merge above a large one first), or null. Monitor held. */
    private Compaction backgroundMerge() {
        if (engine.isClosed() || engine.failed()) {
            return null;
        }
        if (compaction == null && !startPlannedMerge()) {
            return null;
        }
        if (minor == null) {
            minor = startMinor();
        }
        return minor != null ? minor : compaction;
    }

    // =============================================================================================
    // Merges of pending segments
    // =============================================================================================

    /** After a flush landed: merges the pending segments among themselves once there are many. */
    void afterFlush() {
        if (Compaction.pick(vs.pending, 2 * config.compactionTrigger(), config.partitioned()) != null) {
            try {
                compactPending();
            } catch (IOException e) {
                throw engine.fail(new EngineIOException("merging flushed segments failed in " + dir, e));
            }
        }
    }

    /**
     * Merges flushed-but-uncommitted segments among themselves. A long stretch without commits (a restore,
     * a long punctuation, exactly-once on a Kafka that does not commit running stores) would otherwise grow
     * the pending list, and the read cost, with every flush. The result stays pending: no manifest changes,
     * and a crash forgets it like any uncommitted flush. A run mixes no segment a committed read sees with
     * one it does not: its output gets the newest write of its inputs, and would hide older committed rows.
     */
    private void compactPending() throws IOException {
        List<Segment> run = Compaction.pick(vs.pending, config.compactionTrigger(), config.partitioned());
        if (run == null) {
            return;
        }
        boolean someCommitted = false;
        boolean someNot = false;
        long maxSeq = 0;
        for (Segment s : run) {
            if (s.maxSeq() <= vs.commitSeq) {
                someCommitted = true;
            } else {
                someNot = true;
            }
            maxSeq = Math.max(maxSeq, s.maxSeq());
        }
        if (someCommitted && someNot) {
            return;
        }
        boolean bottom = Compaction.reachesBottom(run, vs.pending, vs.committed, config.partitioned());
        // Cut into key-range files like any merge (a later merge of them releases them as it passes
        // them), all installed at once: pending segments are never in a manifest.
        Compaction c = new Compaction(dir, config.columns(), vs.fileNumbers::getAndIncrement, run, bottom, fileBytes(),
                config.faults()).fsync(commitPath.wal() == null && config.fsync());
        List<Segment> outs = new ArrayList<>();
        try {
            while (!c.finished()) {
                c.step(Long.MAX_VALUE);
                Segment out = c.takeOutput();
                List<Segment> released = c.releasable();
                if (out != null) {
                    out.maxSeq(maxSeq);
                    outs.add(out);
                    if (commitPath.wal() != null) {
                        commitPath.wal().syncBeforeNextCommit(out.path()); // synced by the commit that names it
                    }
                }
                // The inputs stay in the store (the current version holds them) until the outputs replace
                // them; marked obsolete first, so that the last release deletes their files.
                for (Segment in : released) {
                    in.markObsolete();
                }
                c.installedStep(out, released);
            }
        } catch (IOException | RuntimeException e) {
            c.abort();
            for (Segment o : outs) {
                o.markObsolete();
                o.release();
            }
            throw e;
        }
        vs.pending = replaceRun(vs.pending, run, outs);
        vs.install(vs.current().memtable);
        for (Segment o : outs) {
            o.release(); // the new version holds them
            compactedBytes += o.fileSize();
        }
        compactions++;
        compactionBytesRead += 2 * c.inputBytes() + c.bytesWritten();
    }

    /** {@code segments} with the adjacent {@code run} replaced by {@code outs} (or removed when empty). */
    private static List<Segment> replaceRun(List<Segment> segments, List<Segment> run, List<Segment> outs) {
        List<Segment> next = new ArrayList<>(segments.size());
        boolean placed = false;
        for (Segment seg : segments) {
            if (run.contains(seg)) {
                if (!placed) {
                    next.addAll(outs);
                }
                placed = true;
            } else {
                next.add(seg);
            }
        }
        return next;
    }

    // =============================================================================================
    // Figures for pacing and gauges
    // =============================================================================================

    /** See {@link StoreEngine#compactionDebt()}. */
    double debt(List<Segment> segments) {
        CompactionPolicy.Estimate e = estimate(segments);
        double debt = e.debt();
        // Read amplification twice its bound is debt too: the size-tiered merges that keep it down
        // also fold a hot key's many versions into one, slowing the growth of garbage.
        int trigger = config.compactionTrigger();
        if (e.maxRunsPerPartition() >= 2 * trigger) {
            debt = Math.max(debt, (double) (e.maxRunsPerPartition() - 2 * trigger) / (2 * trigger));
        }
        // a full merge under way is not left to starve when its first files bring the estimate down
        return spaceMergeRunning ? Math.max(0, debt) : debt;
    }

    /**
     * Whether compaction is behind its bounds: the segments take more than the space bound over the live
     * bytes, or a partition has four times the read-amplification bound of sorted runs. For a store so small
     * that the room set aside for the log and a merge's outputs (a memtable and two output files) is more
     * than the bound leaves, the limit is that room over what the live rows need as merged files (plus the
     * policy's least room for garbage): on a 100 MB store the plain bound (150 MB) is crossed by every
     * memtable of overwrites, and slowing down there throttled a write loop with a commit every 100 writes
     * to 1.3x RocksDB's speed, for less disk than one memtable. Not the debt either, which reaches 1 at the
     * bound minus that room.
     */
    boolean overBounds(List<Segment> segments) {
        CompactionPolicy.Estimate e = estimate(segments);
        double limit = Math.max(config.maxSpaceAmplification() * e.liveBytes(),
                (1 + CompactionPolicy.MIN_ROOM) * e.floorBytes() + reservedBytes());
        return e.segmentBytes() > limit || e.maxRunsPerPartition() >= 4 * config.compactionTrigger();
    }

    /** The sampled live-byte estimate of a version's segments, computed once per segment list. */
    CompactionPolicy.Estimate estimate(List<Segment> segments) {
        Object[] cache = estimateCache;
        if (cache[0] != segments) {
            liveSamples.retain(segments);
            try {
                cache = new Object[] {segments, CompactionPolicy.estimate(segments, config.partitioned(), liveSamples,
                        config.maxSpaceAmplification(), reservedBytes())};
            } catch (CorruptionException e) {
                engine.corrupted(e); // sampling reads rows: damage found here stops the store like any read's
                throw e;
            }
            estimateCache = cache;
        }
        return (CompactionPolicy.Estimate) cache[1];
    }

    /** Input bytes of the merge in progress, or of the one the policy would start next (0: both bounds hold). */
    long pendingWork() {
        return minor != null ? minor.inputBytes() + compaction.inputBytes()
                : compaction != null ? compaction.inputBytes()
                : vs.droppedCommitted.isEmpty() && plan() != null ? plan().inputBytes() : 0;
    }

    long compactions() {
        return compactions;
    }

    long compactedBytes() {
        return compactedBytes;
    }

    EngineStats.Compaction figures(CompactionPolicy.Estimate e, long flushBytesWritten, long logBytesWritten, long diskBytes) {
        return new EngineStats.Compaction(compactionSteps, stepNanosTotal, stepNanosMax, stepNanosLast,
                compactionBytesRead, compactedBytes, flushBytesWritten, logBytesWritten, e.liveBytes(), diskBytes,
                e.maxRunsPerPartition(), pendingWork());
    }
}
