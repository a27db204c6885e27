package io.github.mmapstore.engine;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The commit path of one store, in both of its durability modes: what a commit does, when the memtable
 * is frozen and written out, and how a manifest comes to name what was written. Called with the engine's
 * monitor held (the writer's thread, or a thread that closes the store).
 *
 * <h2>With a log ({@link EngineConfig#log()})</h2>
 * Every write is in the log; a commit appends a COMMIT record and syncs the log once. A full memtable is
 * frozen and written out by a flusher thread; its segments wait in the pending list until the next commit
 * that finds no flush in flight, which names them in a new manifest (a checkpoint) starting the log at the
 * current file. A crash replays the logs from the manifest's log start up to the last COMMIT record.
 *
 * <h2>Without a log (the owner's changelog is the log of record)</h2>
 * Nothing is written per write and a commit writes nothing: it marks the memtable's state as of this
 * commit (its sequence number and metadata; committed readers see it at once). Durability comes from
 * checkpoints: the memtable is frozen and a flusher thread writes its state as of the last commit as
 * segments (and, when writes followed that commit, those writes as segments of their own above them, which
 * stay pending until a later commit covers them); once they are synced, one manifest replacement names
 * them, with that commit's metadata. A checkpoint is taken whenever the memtable fills and, at a commit,
 * when the last checkpoint is {@link EngineConfig#checkpointIntervalMillis()} old; also at a clean close.
 * A crash opens the last durable checkpoint: its data and the commit metadata it was taken at agree
 * exactly, and the owner replays what came after from its own log.
 *
 * <p>In both modes the manifest is replaced in the background ({@link ManifestWriter}); what it stops naming
 * is deleted once it is durable.
 */
final class CommitPath {
    private final StoreEngine engine;
    private final Path dir;
    private final EngineConfig config;
    private final VersionSet vs;
    /** The store's own log, or null without one. */
    private final WriteAheadLog wal;
    /** This store's share of a memory budget, or null: the memtable is sized by the config alone. */
    private final MemoryBudget.Account memory;
    private Compactor compactor;

    /**
     * A memtable is being written out in the background, or null. The flusher installs what it wrote itself,
     * under the engine's monitor, so that a checkpoint lands when its files are synced, not at the writer's
     * next call (an idle store's last checkpoint would wait for a write otherwise); whoever waits for it
     * waits on the monitor ({@link Object#wait()}), which lets the flusher in.
     */
    private Object flushing;
    /** What a background flush failed with, for the writer's next call; null when nothing failed. */
    private Throwable flushFailure;
    /** Set when the engine is abandoned: a flush that lands afterwards is not installed. */
    private boolean abandoned;

    /**
     * What a flush wrote: the frozen memtable's state as of {@code commitSeq} (the last commit when it
     * froze) and what was written after it, up to {@code seq}.
     */
    private record Frozen(List<Segment> asOfCommit, List<Segment> sinceCommit, long commitSeq, byte[] metadata, long seq) {
        List<Segment> all() {
            List<Segment> all = new ArrayList<>(sinceCommit);
            all.addAll(asOfCommit);
            return all;
        }
    }

    /** Without a log: the commit the last checkpoint was taken at (its sequence number and metadata), and when. */
    private long checkpointSeq;
    private byte[] checkpointMetadata;
    private long lastCheckpointNanos = System.nanoTime();
    private long checkpoints;
    private long commits;
    private long flushes;
    private long flushBytesWritten;
    private volatile long lastCommitNanos;
    /** Key and value bytes written since the last commit (the writer's; read by others approximately). */
    private long uncommittedBytes;

    CommitPath(StoreEngine engine, Path dir, EngineConfig config, VersionSet vs, WriteAheadLog wal, MemoryBudget.Account memory) {
        this.memory = memory;
        this.engine = engine;
        this.dir = dir;
        this.config = config;
        this.vs = vs;
        this.wal = wal;
        this.checkpointSeq = vs.commitSeq;
        this.checkpointMetadata = vs.lastCommitMetadata;
    }

    /**
     * Without a log: whether the last commit is not yet what the last checkpoint holds: writes since, or
     * new metadata (a commit that only moves the owner's offsets must be durable too: an owner that finds
     * its offsets gone after a restart rebuilds the whole store).
     */
    private boolean commitAheadOfCheckpoint() {
        return vs.commitSeq > checkpointSeq || !java.util.Arrays.equals(vs.lastCommitMetadata, checkpointMetadata);
    }

    void compactor(Compactor c) {
        this.compactor = c;
    }

    WriteAheadLog wal() {
        return wal;
    }

    // =============================================================================================
    // Writes and commits
    // =============================================================================================

    /**
     * After a write of {@code bytes} key and value bytes: counts them, and freezes a full memtable. A full
     * memtable holding writes of the last commit and writes after it would be written out twice over
     * (its state as of the commit, and the later writes above it); when the next commit comes within a
     * quarter memtable more, it is frozen there instead, in one piece.
     */
    void wrote(long bytes) {
        uncommittedBytes += bytes;
        Memtable m = vs.current().memtable;
        long size = m.approximateBytes();
        if (memory != null) {
            memory.active(m.heapBytes()); // what the heap holds, unused slab ends included
        }
        long cap = memtableCap();
        if (size < cap) {
            return;
        }
        if (m.holdsWritesUpTo(vs.commitSeq) && size < cap + cap / 4) {
            freezeAtCommit = true;
            return;
        }
        freeze();
    }

    /** The size at which the memtable is frozen: the configured one, or less when a memory budget is shared. */
    long memtableCap() {
        return memory == null ? config.memtableBytes() : memory.memtableCap(config.memtableBytes());
    }

    /** The memtable is full and waits for the next commit to be frozen whole (see {@link #wrote}). */
    private boolean freezeAtCommit;

    /** Writes since the last commit; constant time. */
    long uncommittedBytes() {
        return uncommittedBytes;
    }

    /**
     * Commits every write so far with {@code metadata}: durable on return with a log; without one, the
     * state a later checkpoint makes durable (or a crash before it forgets, with its metadata).
     */
    void commit(byte[] metadata) {
        long start = System.nanoTime();
        poll();
        byte[] meta = metadata == null ? null : metadata.clone();
        try {
            if (wal != null) {
                commitLogged(meta);
            } else {
                vs.lastCommitMetadata = meta;
                vs.commitSeq = vs.seq;
                vs.publishCommit();
                if (checkpointDue()) {
                    checkpointNow();
                } else {
                    checkpointIfCommitted();
                }
            }
        } catch (IOException e) {
            throw engine.fail(new EngineIOException("commit failed in " + dir, e));
        }
        commits++;
        uncommittedBytes = 0;
        if (freezeAtCommit && flushing == null) {
            // never waits here: with a flush still in flight the memtable grows on, and the write that takes
            // it past a quarter more freezes it (and waits, if the flusher is that far behind)
            freezeAtCommit = false;
            freeze();
        }
        lastCommitNanos = System.nanoTime() - start;
    }

    private void commitLogged(byte[] meta) throws IOException {
        // A flush in flight is not waited for: its memtable's records are in the log files before the
        // current one, so this COMMIT record (in the current log) commits them too, and recovery replays
        // them from the manifest's first log. Only the manifest checkpoint must wait until the flush's
        // segments are installed (it would otherwise start the log past records no segment holds yet): a
        // later commit makes it. Under a write-saturating load a commit then costs one log sync instead of
        // the rest of a 64 MiB flush.
        if (flushing != null && !vs.pending.isEmpty()) {
            // A second flush since the last checkpoint: wait for it this time. Otherwise a writer that
            // keeps the flusher busy would find a flush in flight at every commit, no checkpoint would
            // ever be made, and the logs (and what a crash replays) would grow without bound. With this,
            // a commit leaves at most the logs of the flush in flight and the current one to replay.
            awaitFlush();
        }
        wal.commit(vs.seq, meta, config.faults());
        vs.lastCommitMetadata = meta;
        vs.commitSeq = vs.seq;
        vs.publishCommit();
        if (flushing == null && (!vs.pending.isEmpty() || !vs.droppedCommitted.isEmpty())) {
            checkpointLogged();
        }
    }

    /** Without a log: whether this commit should be made durable now. */
    private boolean checkpointDue() {
        if (flushing != null) {
            return false; // the flush in flight checkpoints when it lands; the next commit looks again
        }
        if (!vs.droppedCommitted.isEmpty()) {
            return true; // the dropped partitions' files go only once a manifest without them is durable
        }
        if (!commitAheadOfCheckpoint()) {
            return false;
        }
        if (checkpointMetadata == null && vs.lastCommitMetadata != null) {
            // the first commit with metadata (a new store, or one rebuilt): durable at once, so that a crash
            // soon after opens at it instead of at nothing (and its owner need not rebuild it all)
            return true;
        }
        return System.nanoTime() - lastCheckpointNanos >= config.checkpointIntervalMillis() * 1_000_000L;
    }

    /** Without a log: a checkpoint at the last commit if one is due by the interval (an idle store's timer). */
    void checkpointIfDue() {
        if (wal != null) {
            return;
        }
        poll();
        if (checkpointDue()) {
            try {
                checkpointNow();
            } catch (IOException e) {
                throw engine.fail(new EngineIOException("checkpoint failed in " + dir, e));
            }
        }
    }

    /** Without a log: a checkpoint at the last commit now (its manifest is written in the background). */
    private void checkpointNow() throws IOException {
        if (vs.current().memtable.holdsWritesUpTo(vs.commitSeq)) {
            freeze(); // the flush checkpoints when it lands
        } else {
            checkpointAt(vs.commitSeq, vs.lastCommitMetadata);
        }
    }

    // =============================================================================================
    // Freezing the memtable
    // =============================================================================================

    /**
     * Writes the memtable out now: frozen (readers keep seeing it between the new memtable and the
     * segments) and written by a flusher thread while the writer goes on; one flush at a time per store.
     */
    void freeze() {
        freezeAtCommit = false;
        awaitFlush();
        Memtable m = vs.current().memtable;
        if (m.isEmpty()) {
            return;
        }
        Path rotated = null;
        try {
            config.faults().at(FaultInjector.Point.FLUSH_BEFORE_SEGMENT);
            if (wal != null) {
                // Nothing here is synced on this thread: until the next commit the flushed data is
                // uncommitted, and that commit syncs the old log, the new log and the segments before its
                // own COMMIT record, so the writer never waits for the device in the middle of a put. The
                // flusher thread syncs the old log and the segments as it writes them.
                rotated = wal.rotate(vs.fileNumbers.getAndIncrement());
                config.faults().at(FaultInjector.Point.FLUSH_AFTER_LOG_ROTATED);
            }
        } catch (IOException e) {
            throw engine.fail(new EngineIOException("flush failed in " + dir, e));
        }
        long c = vs.commitSeq;
        byte[] meta = vs.lastCommitMetadata;
        long at = vs.seq;
        boolean asOfCommit = m.holdsWritesUpTo(c);
        boolean sinceCommit = at > c;
        List<Segment> below = vs.present();
        vs.frozen = m;
        vs.install(new Memtable(m.keyCount()));
        if (memory != null) {
            memory.froze(m.heapBytes()); // given back when the flush lands, fails or is abandoned
        }
        FaultInjector faults = config.faults();
        Path rotatedLog = rotated;
        Object token = new Object();
        flushing = token;
        Flusher.submit(() -> {
            Frozen written;
            try {
                written = writeFrozen(rotatedLog, m, c, meta, at, asOfCommit, sinceCommit, below, faults);
            } catch (Throwable t) {
                synchronized (engine) {
                    if (memory != null) {
                        memory.flushed();
                    }
                    flushFailure = t;
                    flushing = null;
                    engine.notifyAll();
                }
                return null;
            }
            synchronized (engine) {
                flushing = null; // before the install, which may start the next checkpoint's flush
                if (memory != null) {
                    memory.flushed();
                }
                try {
                    if (abandoned) {
                        for (Segment seg : written.all()) {
                            seg.release(); // never installed: the next open deletes the file (no manifest names it)
                        }
                    } else {
                        install(written);
                    }
                } catch (Throwable t) {
                    flushFailure = t;
                } finally {
                    engine.notifyAll();
                }
            }
            return null;
        });
    }

    /** The flusher's part of a freeze: the frozen memtable's files, written and synced. */
    private Frozen writeFrozen(Path rotatedLog, Memtable m, long c, byte[] meta, long at, boolean asOfCommit,
                               boolean sinceCommit, List<Segment> below, FaultInjector faults) throws IOException {
        if (rotatedLog != null && config.fsync()) {
            // Synced here, off the writer's thread, so that the commit that depends on it finds nothing
            // left to write back (its own sync of it then costs next to nothing).
            try (FileChannel ch = FileChannel.open(rotatedLog, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
        }
        List<Segment> committedPart = asOfCommit
                ? MemtableFlush.write(dir, vs.fileNumbers::getAndIncrement, m, MemtableFlush.visibleAt(c), below,
                        config.partitioned(), config.columns(), config.fsync())
                : List.of();
        List<Segment> laterPart = List.of();
        try {
            if (sinceCommit) {
                List<Segment> under = new ArrayList<>(committedPart);
                under.addAll(below);
                laterPart = MemtableFlush.write(dir, vs.fileNumbers::getAndIncrement, m, MemtableFlush.newerThan(c),
                        under, config.partitioned(), config.columns(), config.fsync());
            }
            faults.at(FaultInjector.Point.FLUSH_AFTER_SEGMENT_WRITTEN);
        } catch (IOException | RuntimeException e) {
            for (Segment s : committedPart) {
                s.markObsolete();
                s.release();
            }
            for (Segment s : laterPart) {
                s.markObsolete();
                s.release();
            }
            throw e;
        }
        return new Frozen(committedPart, laterPart, c, meta, at);
    }

    /** Reports what failed in the background since the last call: a flush, or a manifest write. */
    void poll() {
        if (flushFailure != null) {
            rethrowFlushFailure();
        }
        try {
            vs.manifests.rethrowFailure();
        } catch (IOException e) {
            throw engine.fail(new EngineIOException("checkpoint failed in " + dir, e));
        }
    }

    /** Throws (once) what a background flush failed with; a failure there fails the engine as one here would. */
    private void rethrowFlushFailure() {
        Throwable cause = flushFailure;
        flushFailure = null;
        if (cause instanceof IOException io) {
            throw engine.fail(new EngineIOException("flush failed in " + dir, io));
        }
        if (cause instanceof RuntimeException re) {
            if (re instanceof EngineException ee) {
                engine.fail(ee);
            }
            throw re;
        }
        if (cause instanceof Error err) {
            throw err;
        }
        throw engine.fail(new EngineException("flush failed in " + dir, cause));
    }

    boolean flushing() {
        return flushing != null;
    }

    /**
     * Waits for the background flush, if any, and installs its segments: pending with a log (the next
     * commit names them), checkpointed at once without one. A failure there fails the engine, as a
     * failed flush on this thread would.
     */
    void awaitFlush() {
        waitForFlusher();
        if (flushFailure != null) {
            rethrowFlushFailure();
        }
    }

    /** Waits (on the engine's monitor, which the caller holds) until no flush is in flight. */
    private void waitForFlusher() {
        boolean interrupted = false;
        try {
            while (flushing != null) {
                try {
                    engine.wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void install(Frozen f) {
        // Tags for committed readers: the part as of the commit is committed state; the later part holds
        // writes after it and stays out of their view until a commit covers them.
        for (Segment s : f.sinceCommit()) {
            s.maxSeq(f.seq());
        }
        for (Segment s : f.asOfCommit()) {
            s.maxSeq(f.commitSeq());
        }
        List<Segment> written = f.all();
        if (wal != null) {
            for (Segment w : written) {
                wal.syncBeforeNextCommit(w.path());
            }
        }
        List<Segment> pending = new ArrayList<>(written);
        pending.addAll(vs.pending);
        vs.pending = pending;
        vs.frozen = null;
        vs.install(vs.current().memtable);
        for (Segment w : written) {
            w.release(); // the new version holds it
            flushBytesWritten += w.fileSize();
        }
        flushes++;
        if (wal == null) {
            // named before any merge of pending files: a merge of files on both sides of this checkpoint's
            // commit would carry rows it must name into a file it cannot
            try {
                checkpointAt(f.commitSeq(), f.metadata());
            } catch (IOException e) {
                throw engine.fail(new EngineIOException("checkpoint failed in " + dir, e));
            }
        }
        compactor.afterFlush();
        if (wal == null && checkpointDue()) {
            // a commit made while this flush was in flight took no checkpoint (commits never wait): if one is
            // due, it is taken now, so that the last commit does not wait for a later one to become durable
            try {
                checkpointNow();
            } catch (IOException e) {
                throw engine.fail(new EngineIOException("checkpoint failed in " + dir, e));
            }
        }
    }

    // =============================================================================================
    // Checkpoints
    // =============================================================================================

    /**
     * Without a log: a manifest naming everything committed at {@code c} (the pending segments whose
     * writes all came at or before it, a tail of the pending list) with that commit's metadata. Every
     * write at or before {@code c} is in those segments or older ones: the memtable frozen last was
     * written as of that commit, and earlier memtables before it.
     */
    private void checkpointAt(long c, byte[] metadata) throws IOException {
        List<Segment> pending = vs.pending;
        int split = pending.size();
        while (split > 0 && pending.get(split - 1).maxSeq() <= c) {
            split--;
        }
        for (int i = 0; i < split; i++) {
            if (pending.get(i).maxSeq() <= c) {
                throw new IllegalStateException("pending segments out of order in " + dir + ": " + pending.get(i).number()
                        + " holds writes up to " + pending.get(i).maxSeq() + " above later ones");
            }
        }
        List<Segment> named = pending.subList(split, pending.size());
        if (named.isEmpty() && vs.droppedCommitted.isEmpty() && c <= checkpointSeq
                && java.util.Arrays.equals(metadata, checkpointMetadata)) {
            return; // the last checkpoint holds all of it already
        }
        config.faults().at(FaultInjector.Point.CHECKPOINT_BEFORE_MANIFEST);
        List<Segment> all = new ArrayList<>(named);
        all.addAll(vs.committed);
        Manifest next = new Manifest(vs.fileNumbers.get(), c, Manifest.NO_LOG, 0, VersionSet.refs(all), metadata);
        Runnable afterDurable = deleteWhenDurable(vs.droppedCommitted, List.of());
        vs.pending = new ArrayList<>(pending.subList(0, split));
        vs.committed = all;
        vs.droppedCommitted = new ArrayList<>();
        vs.replaceManifest(next, afterDurable);
        checkpointSeq = c;
        checkpointMetadata = metadata;
        lastCheckpointNanos = System.nanoTime();
        checkpoints++;
    }

    /**
     * With a log, right after a commit: a manifest naming the pending segments (everything in them precedes
     * that commit) and starting the log at the current file; the older logs go once it is durable.
     */
    private void checkpointLogged() {
        List<Segment> all = vs.present();
        Manifest next = new Manifest(vs.fileNumbers.get(), vs.seq, wal.number(), wal.size(), VersionSet.refs(all),
                vs.lastCommitMetadata);
        List<Path> oldLogs = new ArrayList<>();
        for (long n = vs.manifest.logStart(); n < wal.number(); n++) {
            oldLogs.add(FileNames.log(dir, n));
        }
        Runnable afterDurable = deleteWhenDurable(vs.droppedCommitted, oldLogs);
        vs.committed = all;
        vs.pending = new ArrayList<>();
        vs.droppedCommitted = new ArrayList<>();
        vs.replaceManifest(next, afterDurable);
        checkpoints++;
    }

    /**
     * Deletes the files of dropped partitions' segments (no version names them any longer: their mappings
     * may still serve an old reader, and unlinking is safe) and old logs, once the manifest is durable.
     */
    private static Runnable deleteWhenDurable(List<Segment> dropped, List<Path> logs) {
        if (dropped.isEmpty() && logs.isEmpty()) {
            return null;
        }
        List<Path> files = new ArrayList<>(logs);
        for (Segment s : dropped) {
            files.add(s.path());
        }
        return () -> {
            for (Path p : files) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // not named by the durable manifest: the next open deletes it
                }
            }
        };
    }

    /**
     * A checkpoint that costs no write of data, when one is possible. With a log: the one a commit left to
     * later because a flush was in flight, made now if nothing was written since that commit and the log
     * still ends with its COMMIT record ({@link #flush()}, {@link Compactor#compactFully()} and close find
     * every segment in the manifest, as they did when commits waited for the flush). Without one: naming
     * the segments spilled before the last commit, when the memtable holds none of its writes.
     */
    void checkpointIfCommitted() {
        if (flushing != null) {
            return;
        }
        if (wal != null) {
            if (wal.endsWithCommitOf(vs.seq) && (!vs.pending.isEmpty() || !vs.droppedCommitted.isEmpty())) {
                checkpointLogged();
            }
            return;
        }
        // Without a log: segments flushed before the last commit (and partition drops) can be named at it
        // for free, when the memtable holds nothing of that commit (nothing to freeze first).
        boolean pendingCommitted = !vs.pending.isEmpty() && vs.pending.get(vs.pending.size() - 1).maxSeq() <= vs.commitSeq;
        if ((pendingCommitted || !vs.droppedCommitted.isEmpty()) && !vs.current().memtable.holdsWritesUpTo(vs.commitSeq)) {
            try {
                checkpointAt(vs.commitSeq, vs.lastCommitMetadata);
            } catch (IOException e) {
                throw engine.fail(new EngineIOException("checkpoint failed in " + dir, e));
            }
        }
    }

    /**
     * Without a log: a checkpoint at the last commit now, if it is not durable yet (written in the
     * background; a flush in flight checkpoints when it lands). With a log every commit is durable already.
     */
    void requestCheckpoint() {
        if (wal != null) {
            return;
        }
        poll();
        if (flushing != null || !(commitAheadOfCheckpoint() || !vs.droppedCommitted.isEmpty())) {
            return;
        }
        try {
            checkpointNow();
        } catch (IOException e) {
            throw engine.fail(new EngineIOException("checkpoint failed in " + dir, e));
        }
    }

    /** Writes the memtable out now and waits for it (a checkpoint without a log; durable at the next commit with one). */
    void flush() {
        freeze();
        awaitFlush();
        checkpointIfCommitted();
    }

    /**
     * A clean close: the last commit made durable if it is not yet (without a log: one last checkpoint at
     * it, writes after it left out), and every manifest on disk.
     */
    void closeClean() throws IOException {
        awaitFlush();
        if (wal != null) {
            checkpointIfCommitted();
        } else if (commitAheadOfCheckpoint() || !vs.droppedCommitted.isEmpty()
                || (!vs.pending.isEmpty() && vs.pending.get(vs.pending.size() - 1).maxSeq() <= vs.commitSeq)) {
            checkpointNow();
            awaitFlush();
        }
        vs.manifests.awaitDurable();
    }

    /**
     * Stops as a crash would: a flush in flight is waited for but not installed (the next open deletes its
     * files), queued manifests are dropped. Nothing writes into the directory after this returns.
     */
    void abandon() {
        abandoned = true;
        waitForFlusher(); // the flusher sees `abandoned` and lets its files go
        flushFailure = null;
        vs.manifests.abandon();
    }

    // ---- figures --------------------------------------------------------------------------------

    long commits() {
        return commits;
    }

    long flushes() {
        return flushes;
    }

    long checkpoints() {
        return checkpoints;
    }

    long flushBytesWritten() {
        return flushBytesWritten;
    }

    long lastCommitNanos() {
        return lastCommitNanos;
    }

    /** Without a log: the commit the last checkpoint was taken at (with a log, every commit is durable). */
    long checkpointSeq() {
        return wal != null ? vs.commitSeq : checkpointSeq;
    }
}
