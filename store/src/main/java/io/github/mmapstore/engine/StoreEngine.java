package io.github.mmapstore.engine;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sorted key-value store in one directory: a memtable in front of immutable, columnar, memory-mapped
 * segments, with a CRC32C-framed log of its own or, without one, durable checkpoints taken at commits.
 *
 * <p><b>Writes</b> go into the memtable (and the log, when there is one); nothing is durable until
 * {@link #commit(byte[])}. How a commit becomes durable is the {@link CommitPath}'s: one COMMIT record and
 * one sync with a log; a checkpoint (the memtable as of the commit written out, then a manifest naming it)
 * without one, taken when the memtable fills and every {@link EngineConfig#checkpointIntervalMillis()}.
 *
 * <p><b>Reads</b> see a snapshot: the memtable's versions up to a sequence number and a fixed list of
 * segments, held by reference counts so that no mapping is closed under a reader. A read at
 * {@link ReadIsolation#COMMITTED} sees the state as of the last commit while the writer goes on.
 *
 * <p><b>Recovery</b> ({@link Recovery}) opens the manifest's segments and, with a log, replays the log up
 * to its last COMMIT record. A torn tail is expected and truncated; a checksum mismatch anywhere else is
 * corruption: the engine moves the files aside and opens empty, with no commit metadata, and says so in
 * {@link #openReport()}.
 *
 * <p>One writer thread at a time (writes are serialised by the engine's monitor), any number of reader
 * threads, which take no lock. Compaction ({@link Compactor}) runs in time-boxed steps on the writer's thread.
 */
public final class StoreEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StoreEngine.class);

    private final Path dir;
    private final EngineConfig config;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final OpenReport openReport;
    /** The writer's state: segments, versions, sequence numbers, manifest (guarded by this). */
    private final VersionSet vs;
    /** The log, or null without one. */
    private final WriteAheadLog wal;
    private final CommitPath commitPath;
    private final Compactor compactor;
    /** This engine's share of {@link EngineConfig#memoryBudget()}, or null without one. */
    private final MemoryBudget.Account memory;

    private volatile boolean closed;
    private volatile EngineException failure;

    private StoreEngine(Path dir, EngineConfig config, FileChannel lockChannel, FileLock lock, OpenReport report,
                        Recovery.Recovered r) {
        this.dir = dir;
        this.config = config;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.openReport = report;
        this.vs = new VersionSet(r.nextFileNumber, r.seq, r.manifest,
                new ManifestWriter(dir, config.fsync(), config.faults(), r.manifest), r.segments, r.memtable, r.metadata);
        for (Segment s : r.segments) {
            s.release(); // the version holds them now
        }
        this.wal = r.log == null ? null : new WriteAheadLog(dir, config, r.log, r.deferred, r.manifest.lastSeq());
        this.memory = config.memoryBudget() == null ? null : config.memoryBudget().open(this);
        this.commitPath = new CommitPath(this, dir, config, vs, wal, memory);
        this.compactor = new Compactor(this, dir, config, vs, commitPath);
        commitPath.compactor(compactor);
    }

    // =============================================================================================
    // Open
    // =============================================================================================

    /**
     * Opens (or creates) the store in {@code dir}. Takes an exclusive lock on the directory, held until
     * {@link #close()}.
     *
     * @throws StoreLockedException        another engine holds the directory
     * @throws IncompatibleFormatException the directory was written by an unknown format version
     * @throws EngineIOException           the file system failed
     */
    public static StoreEngine open(Path dir, EngineConfig config) {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(config, "config");
        long start = System.nanoTime();
        FileChannel lockChannel = null;
        FileLock lock = null;
        try {
            Files.createDirectories(dir);
            lockChannel = FileChannel.open(dir.resolve(FileNames.LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLimits.fileOpened();
            try {
                lock = lockChannel.tryLock();
            } catch (OverlappingFileLockException e) {
                throw new StoreLockedException("store directory " + dir + " is already open in this process");
            }
            if (lock == null) {
                throw new StoreLockedException("store directory " + dir + " is locked by another process");
            }
            Recovery.Recovered r;
            boolean rebuilt = false;
            String reason = null;
            Path quarantine = null;
            Path marker = dir.resolve(FileNames.CORRUPT_MARKER);
            if (Files.exists(marker)) {
                reason = "an earlier instance found corruption: " + Files.readString(marker, StandardCharsets.UTF_8);
                quarantine = Recovery.quarantine(dir);
                rebuilt = true;
            }
            try {
                r = Recovery.recover(dir, config);
            } catch (CorruptionException e) {
                reason = e.getMessage();
                quarantine = Recovery.quarantine(dir);
                rebuilt = true;
                r = Recovery.recover(dir, config);
            }
            if (rebuilt) {
                LOG.error("MmapStore at {} was damaged ({}); damaged files moved to {}; it opens empty and must be rebuilt",
                        dir, reason, quarantine);
            }
            OpenReport report = new OpenReport(r.created, rebuilt, reason, quarantine, r.replayed, r.deferred != null,
                    r.discarded, System.nanoTime() - start);
            return new StoreEngine(dir, config, lockChannel, lock, report, r);
        } catch (IOException e) {
            closeQuietly(lock, lockChannel);
            throw new EngineIOException("cannot open store in " + dir, e);
        } catch (RuntimeException e) {
            closeQuietly(lock, lockChannel);
            throw e;
        }
    }

    private static void closeQuietly(FileLock lock, FileChannel ch) {
        try {
            if (lock != null) {
                lock.release();
            }
        } catch (IOException ignored) {
            // closing the channel releases it too
        }
        try {
            if (ch != null && ch.isOpen()) {
                FileLimits.fileClosed();
                ch.close();
            }
        } catch (IOException ignored) {
            // nothing left to do
        }
    }

    // =============================================================================================
    // Writes
    // =============================================================================================

    /** Stores {@code value} under {@code key}. Not durable until the next {@link #commit}. */
    public void put(byte[] key, byte[] value) {
        checkKey(key);
        Objects.requireNonNull(value, "value must not be null (use delete)");
        checkValue(value);
        awaitMemory();
        synchronized (this) {
            beforeWrite();
            if (wal != null) {
                try {
                    wal.appendPut(key, value);
                } catch (IOException e) {
                    throw fail(new EngineIOException("cannot append to log " + wal.path(), e));
                }
            }
            long s = ++vs.seq;
            vs.current().memtable.put(key, value, s);
            vs.visibleSeq = s;
            commitPath.wrote(key.length + value.length);
        }
    }

    /** Removes {@code key}. Not durable until the next {@link #commit}. */
    public void delete(byte[] key) {
        checkKey(key);
        awaitMemory();
        synchronized (this) {
            beforeWrite();
            if (wal != null) {
                try {
                    wal.appendDelete(key);
                } catch (IOException e) {
                    throw fail(new EngineIOException("cannot append to log " + wal.path(), e));
                }
            }
            long s = ++vs.seq;
            vs.current().memtable.put(key, null, s);
            vs.visibleSeq = s;
            commitPath.wrote(key.length);
        }
    }

    /**
     * Applies many writes under one lock acquisition (the restore path). A null value deletes. The
     * whole batch is validated before anything is written: a bad entry changes nothing. Readers see the
     * batch all at once, unless it alone outgrows twice the memtable limit.
     */
    public void write(List<KeyValue> batch) {
        for (KeyValue kv : batch) {
            checkKey(kv.key());
            if (kv.value() != null) {
                checkValue(kv.value());
            }
        }
        awaitMemory();
        synchronized (this) {
            beforeWrite();
            Memtable mem = vs.current().memtable;
            long bytes = 0;
            for (KeyValue kv : batch) {
                if (wal != null) {
                    try {
                        if (kv.value() == null) {
                            wal.appendDelete(kv.key());
                        } else {
                            wal.appendPut(kv.key(), kv.value());
                        }
                    } catch (IOException e) {
                        throw fail(new EngineIOException("cannot append to log " + wal.path(), e));
                    }
                }
                long s = ++vs.seq;
                mem.put(kv.key(), kv.value(), s);
                bytes += kv.key().length + (kv.value() == null ? 0 : kv.value().length);
                if (mem.approximateBytes() >= 2 * commitPath.memtableCap()) {
                    // A batch larger than the memtable cannot stay invisible until its end.
                    vs.visibleSeq = s;
                    commitPath.wrote(bytes);
                    bytes = 0;
                    mem = vs.current().memtable;
                }
            }
            // Readers see the whole batch at once (or, for a batch larger than the memtable, in parts).
            vs.visibleSeq = vs.seq;
            commitPath.wrote(bytes);
        }
    }

    /**
     * With a memory budget that is used up: waits, before taking this engine's lock (the budget's thread
     * may need it to freeze this very memtable), until flushes have made room.
     */
    private void awaitMemory() {
        MemoryBudget.Account m = memory;
        if (m != null && m.full()) {
            m.awaitRoom();
        }
    }

    /**
     * The memory budget's thread: freezes the memtable so that a flusher writes it out and its memory goes
     * back to the budget (as a full memtable would be). Skipped (false) while a flush is in flight, the
     * store is closed or failed, or the memtable is empty.
     */
    boolean freezeForBudget() {
        synchronized (this) {
            if (closed || failure != null || commitPath.flushing() || vs.current().memtable.isEmpty()) {
                return false;
            }
            if (wal != null && wal.replayPending()) {
                return false; // the memtable waits for the open's deferred records before anything is frozen
            }
            try {
                commitPath.freeze();
            } catch (RuntimeException e) {
                LOG.warn("MmapStore at {}: a flush to free memory failed; the store's next call reports it", dir, e);
                return false;
            }
            return true;
        }
    }

    private void beforeWrite() {
        checkWritable();
        replayDeferred();
        commitPath.poll();
    }

    /**
     * Removes every key of the partitions below {@code partition} (unsigned order of the first 8 key
     * bytes): their segment files leave the readers' view at once and are deleted once the drop is durable
     * (the next commit with a log, the next checkpoint without); no data is rewritten. Only for partitioned
     * engines. A crash before that forgets the drop together with the writes around it.
     */
    public void dropPartitionsBelow(long partition) {
        if (!config.partitioned()) {
            throw new IllegalStateException("dropPartitionsBelow needs a partitioned engine");
        }
        synchronized (this) {
            checkWritable();
            replayDeferred();
            commitPath.awaitFlush(); // the frozen memtable may hold keys of the dropped partitions
            if (wal != null) {
                try {
                    wal.appendDropBelow(partition);
                } catch (IOException e) {
                    throw fail(new EngineIOException("cannot append to log " + wal.path(), e));
                }
            }
            Memtable mem = vs.current().memtable;
            vs.seq = mem.tombstoneBelow(Recovery.partitionKey(partition), vs.seq);
            long dropSeq = ++vs.seq; // the drop is a write: committed reads see the files until it is committed
            // Lists hold no references of their own (versions do): dropped pending files are deleted
            // when the last version naming them goes; dropped manifest files stay until the checkpoint.
            List<Segment> pending = new ArrayList<>(vs.pending);
            List<Segment> gone = new ArrayList<>();
            Recovery.dropBelow(pending, partition, gone);
            for (Segment g : gone) {
                g.droppedAt(dropSeq);
                g.markObsolete();
            }
            List<Segment> committed = new ArrayList<>(vs.committed);
            List<Segment> dropped = new ArrayList<>();
            Recovery.dropBelow(committed, partition, dropped);
            for (Segment d : dropped) {
                d.droppedAt(dropSeq);
            }
            List<Segment> droppedCommitted = new ArrayList<>(vs.droppedCommitted);
            droppedCommitted.addAll(dropped);
            List<Segment> droppedPending = new ArrayList<>(vs.droppedPending);
            droppedPending.addAll(gone);
            vs.pending = pending;
            vs.committed = committed;
            vs.droppedCommitted = droppedCommitted;
            vs.droppedPending = droppedPending;
            vs.install(mem);
            vs.visibleSeq = vs.seq;
        }
    }

    private void checkKey(byte[] key) {
        Objects.requireNonNull(key, "key must not be null");
        if (config.partitioned() && key.length < 8) {
            throw new IllegalArgumentException("a partitioned store needs keys of at least 8 bytes (the partition number), got "
                    + key.length);
        }
        if (key.length > config.maxKeyBytes()) {
            throw new LimitExceededException("key of " + key.length + " bytes exceeds the maximum of "
                    + config.maxKeyBytes() + " bytes (mmapstore.max.key.bytes)");
        }
    }

    private void checkValue(byte[] value) {
        if (value.length > config.maxValueBytes()) {
            throw new LimitExceededException("value of " + value.length + " bytes exceeds the maximum of "
                    + config.maxValueBytes() + " bytes (mmapstore.max.value.bytes)");
        }
    }

    // =============================================================================================
    // Commits and flushes (the protocol is the CommitPath's)
    // =============================================================================================

    /**
     * Commits every write so far together with {@code metadata} (may be null), atomically. With a log it
     * is durable on return (one sync): after a crash the store opens with all of them or, if this call
     * did not return, possibly none of them. Without one it is durable once a checkpoint takes it (see
     * {@link #durableCommitMetadata()}); a crash before that opens the previous checkpoint, with its
     * metadata. Committed readers see the commit at once.
     */
    public synchronized void commit(byte[] metadata) {
        checkWritable();
        commitPath.commit(metadata);
    }

    /** The metadata of the last completed commit (as of open, or since), or null if none. */
    public synchronized byte[] lastCommitMetadata() {
        return vs.lastCommitMetadata == null ? null : vs.lastCommitMetadata.clone();
    }

    /**
     * The metadata of the newest commit a crash now would come back to: the last commit with a log; the
     * newest checkpoint whose manifest is on disk without one.
     */
    public synchronized byte[] durableCommitMetadata() {
        if (wal != null) {
            return lastCommitMetadata();
        }
        byte[] m = vs.manifests.durable().metadata();
        return m == null ? null : m.clone();
    }

    /**
     * Without a log: takes a checkpoint at the last commit now (unless it is durable already), written in
     * the background, instead of waiting for the memtable to fill or the checkpoint interval to pass (a
     * restore that wants to resume near where it stopped after a crash). With a log, every commit is
     * durable already and this does nothing.
     */
    public synchronized void checkpoint() {
        checkWritable();
        commitPath.requestCheckpoint();
    }

    /**
     * Without a log: takes a checkpoint at the last commit if one is due by
     * {@link EngineConfig#checkpointIntervalMillis()} (commits look by themselves; a store that gets no more
     * commits is looked at by its owner's timer). With a log it does nothing.
     */
    public synchronized void checkpointIfDue() {
        checkWritable();
        commitPath.checkpointIfDue();
    }

    /** Key and value bytes written since the last commit (constant time). */
    public long uncommittedBytes() {
        return commitPath.uncommittedBytes();
    }

    /** The memory budget this engine shares with others, or null ({@link EngineConfig#memoryBudget()}). */
    public MemoryBudget memoryBudget() {
        return config.memoryBudget();
    }

    /** Whether the store keeps a log of its own ({@link EngineConfig#log()}). */
    public boolean logged() {
        return wal != null;
    }

    /**
     * Writes the memtable out as segments now: durable at the next commit with a log; without one a
     * checkpoint at the last commit (writes after it stay out of the manifest until the next one).
     */
    public synchronized void flush() {
        checkWritable();
        replayDeferred();
        commitPath.flush();
    }

    /** Waits for the background flush and installs it (tests that inject crashes into flushes). */
    synchronized void awaitFlushForTesting() {
        commitPath.awaitFlush();
    }

    /**
     * Waits until the flush in flight and every manifest replacement are done, and throws what failed in
     * them (tests that inject crashes into background work).
     */
    synchronized void awaitBackgroundForTesting() throws IOException {
        commitPath.awaitFlush();
        vs.manifests.awaitDurable();
        SegmentCloser.awaitIdle();
    }

    /**
     * Waits until what the store has made durable so far is on disk: the memtable flush in flight and every
     * manifest replacement (checkpoints, installed merge outputs), and with them the deletion of the files
     * they replaced (a file an open iterator or snapshot still maps goes when that reader is closed).
     * Commits, checkpoints and compaction never wait for this; tools, tests and benchmarks that look at the
     * directory do.
     */
    public synchronized void awaitDurable() {
        checkReadable();
        try {
            commitPath.awaitFlush();
            vs.manifests.awaitDurable();
            SegmentCloser.awaitIdle(); // replaced files no reader holds are unmapped and deleted off-thread
        } catch (IOException e) {
            throw fail(new EngineIOException("checkpoint failed in " + dir, e));
        }
    }

    // =============================================================================================
    // Compaction (the Compactor's)
    // =============================================================================================

    /**
     * Runs compaction for at most about {@code budgetNanos}: asks {@link CompactionPolicy} what to merge
     * (all of a partition's segments when their garbage nears {@link EngineConfig#maxSpaceAmplification()},
     * else a size-tiered choice of sorted runs once a partition has {@link EngineConfig#compactionTrigger()}
     * of them), merges part of it, and installs each output file as soon as it is complete. Each step is
     * crash-safe: an output is a temporary file until it is complete, and each file is installed by one
     * manifest replacement that also removes the inputs it replaces; inputs are deleted once that manifest
     * is durable and no reader holds them.
     *
     * @return true if compaction work remains (call again later)
     */
    public synchronized boolean compact(long budgetNanos) {
        checkWritable();
        return compactor.compact(budgetNanos);
    }

    /**
     * From now on merges run in time-boxed slices on {@code executor} (e.g. {@link CompactionThreads#pool}),
     * off the writer's thread; {@link #compact} then only makes sure one is on its way. Writes, commits and
     * reads go on while a slice merges; a close or a full compaction waits for the slice in flight.
     */
    public synchronized void compactInBackground(java.util.concurrent.Executor executor) {
        checkWritable();
        compactor.runInBackground(executor);
    }

    /**
     * With merges in the background: waits up to {@code nanos} for the slice in flight to end (returns at
     * once when none is queued). A writer far past the space bound calls it to slow down until the merges
     * catch up, as RocksDB delays writes when compaction falls behind.
     */
    public synchronized void awaitCompaction(long nanos) {
        checkWritable();
        compactor.awaitSlice(nanos);
    }

    /** Whether merges run on background threads ({@link #compactInBackground}). */
    public synchronized boolean compactsInBackground() {
        return compactor.inBackground();
    }

    /**
     * Merges every segment into one sorted run now (tests, tools, and before a benchmark's read phase):
     * one file, or files of {@link EngineConfig#compactionFileBytes()} with disjoint key ranges.
     */
    public synchronized void compactFully() {
        checkWritable();
        compactor.compactFully();
    }

    // =============================================================================================
    // Reads
    // =============================================================================================

    /** As {@link #acquire}, once the deferred log records are in the memtable: for reads of the data. */
    private Version acquireReplayed() {
        if (wal != null && wal.replayPending()) {
            replayDeferred();
        }
        return acquire();
    }

    /**
     * Replays the committed log records that the open left in the logs into the memtable. Runs once,
     * under the writer's lock, before the first read or write; commits, compaction of the segments and
     * close do not need the records and do not wait for it. Nothing is flushed here: the open deferred
     * only a tail of at most two memtables, and the next write flushes as usual.
     */
    private synchronized void replayDeferred() {
        if (wal == null || !wal.replayPending()) {
            return;
        }
        checkReadable();
        long start = System.nanoTime();
        long last;
        try {
            last = wal.replayDeferred(vs.current().memtable);
        } catch (CorruptionException e) {
            corrupted(e);
            throw e;
        } catch (IOException e) {
            throw fail(new EngineIOException("cannot replay the committed log records of " + dir, e));
        }
        vs.seq = Math.max(vs.seq, last);
        vs.visibleSeq = Math.max(vs.visibleSeq, last);
        // nothing was written before the replay: every record it read is committed
        vs.commitSeq = Math.max(vs.commitSeq, last);
        vs.publishCommit();
        LOG.debug("MmapStore at {}: replayed {} committed log records in {} ms", dir, last - wal.deferredFromSeq(),
                (System.nanoTime() - start) / 1_000_000);
    }

    private Version acquire() {
        while (true) {
            checkReadable();
            Version v = vs.current();
            if (v.tryAcquire()) {
                return v;
            }
        }
    }

    /** The value of {@code key}, or null. */
    public byte[] get(byte[] key) {
        return get(key, ReadIsolation.LATEST);
    }

    /** The value of {@code key} as a read at {@code isolation} sees it, or null. */
    public byte[] get(byte[] key, ReadIsolation isolation) {
        Objects.requireNonNull(key, "key must not be null");
        Objects.requireNonNull(isolation, "isolation must not be null");
        Version v = acquireReplayed();
        try {
            return lookup(v, v.snapshot(isolation, vs.visibleSeq), isolation, key);
        } finally {
            v.release();
        }
    }

    /** The value of {@code key} in {@code v} at {@code snapshot}, or null. */
    byte[] lookup(Version v, long snapshot, ReadIsolation isolation, byte[] key) {
        try {
            Memtable m = v.memtable;
            long mv = m.get(key, snapshot);
            if (mv == Memtable.NONE && v.frozen != null) {
                m = v.frozen;
                mv = m.get(key, snapshot);
            }
            if (mv != Memtable.NONE) {
                return m.value(mv);
            }
            List<Segment> segs = v.segments;
            if (segs.isEmpty()) {
                return null;
            }
            long hash = KeyHash.hash(key);
            for (Segment s : segs) {
                if (v.visible(s, isolation) && s.mightContain(key, hash)) {
                    long row = s.find(key);
                    if (row >= 0) {
                        return s.value(row);
                    }
                }
            }
            return null;
        } catch (CorruptionException e) {
            corrupted(e);
            throw e;
        }
    }

    /**
     * Entries with keys between {@code from} and {@code to} (null = unbounded), ascending or, with
     * {@code reverse}, descending. An empty range (from after to) yields nothing.
     */
    public EngineIterator range(byte[] from, boolean fromInclusive, byte[] to, boolean toInclusive, boolean reverse) {
        return range(from, fromInclusive, to, toInclusive, reverse, ReadIsolation.LATEST);
    }

    /** As {@link #range(byte[], boolean, byte[], boolean, boolean)}, reading at {@code isolation}. */
    public EngineIterator range(byte[] from, boolean fromInclusive, byte[] to, boolean toInclusive, boolean reverse,
                                ReadIsolation isolation) {
        Objects.requireNonNull(isolation, "isolation must not be null");
        Version v = acquireReplayed();
        try {
            if (from != null && to != null) {
                int c = KeyOrder.compare(from, to);
                if (c > 0 || (c == 0 && !(fromInclusive && toInclusive))) {
                    return new EngineIterator(this, v, new MergeCursor(List.of(), reverse));
                }
            }
            long snapshot = v.snapshot(isolation, vs.visibleSeq);
            return new EngineIterator(this, v, MergeCursor.over(v, snapshot, isolation, from, fromInclusive, to, toInclusive,
                    reverse));
        } catch (RuntimeException e) {
            v.release();
            if (e instanceof CorruptionException ce) {
                corrupted(ce);
            }
            throw e;
        }
    }

    /**
     * One consistent snapshot at {@code isolation}, for reads that open several ranges over time (a window
     * fetch walking time segments): every range it opens sees the same state. Must be closed; it keeps the
     * snapshot's segments mapped until then (and each open iterator until it is closed).
     */
    public EngineSnapshot snapshot(ReadIsolation isolation) {
        Objects.requireNonNull(isolation, "isolation must not be null");
        Version v = acquireReplayed();
        return new EngineSnapshot(this, v, isolation, v.snapshot(isolation, vs.visibleSeq));
    }

    /** An iterator over {@code v} at {@code snapshot}; takes a reference of its own to {@code v}. */
    EngineIterator rangeIn(Version v, long snapshot, ReadIsolation isolation, byte[] from, boolean fromInclusive, byte[] to,
                           boolean toInclusive, boolean reverse) {
        checkReadable();
        if (!v.tryAcquire()) {
            throw new IllegalStateException("snapshot of " + dir + " used after it was closed");
        }
        try {
            if (from != null && to != null) {
                int c = KeyOrder.compare(from, to);
                if (c > 0 || (c == 0 && !(fromInclusive && toInclusive))) {
                    return new EngineIterator(this, v, new MergeCursor(List.of(), reverse));
                }
            }
            return new EngineIterator(this, v, MergeCursor.over(v, snapshot, isolation, from, fromInclusive, to, toInclusive,
                    reverse));
        } catch (RuntimeException e) {
            v.release();
            if (e instanceof CorruptionException ce) {
                corrupted(ce);
            }
            throw e;
        }
    }

    /** Rows handed to a scan visitor at once when a single segment holds everything. */
    private static final int SCAN_RUN_ROWS = 4096;

    /**
     * Visits every live entry of one consistent snapshot, each key once in its newest version, without
     * copying segment values: the visitor reads extension columns in place. When the snapshot is one
     * segment and an empty memtable (a compacted store), rows go to the visitor in long runs and no key
     * is compared; otherwise the sources are merged by key.
     */
    public void scanLive(LiveRowVisitor visitor) {
        scanLive(visitor, ReadIsolation.LATEST);
    }

    /** As {@link #scanLive(LiveRowVisitor)}, reading at {@code isolation}. */
    public void scanLive(LiveRowVisitor visitor, ReadIsolation isolation) {
        Objects.requireNonNull(visitor, "visitor");
        Objects.requireNonNull(isolation, "isolation must not be null");
        Version v = acquireReplayed();
        try {
            long snapshot = v.snapshot(isolation, vs.visibleSeq);
            if (v.memtable.keyCount() == 0 && v.frozen == null && v.segments.size() == 1
                    && v.visible(v.segments.get(0), isolation)) { // (one segment: no dropped partition beside it)
                Segment s = v.segments.get(0);
                for (long r = 0; r < s.rows(); r += SCAN_RUN_ROWS) {
                    visitor.segmentRows(s, r, Math.min(s.rows(), r + SCAN_RUN_ROWS));
                }
                return;
            }
            MergeCursor c = MergeCursor.over(v, snapshot, isolation, null, true, null, true, false);
            while (c.nextRaw()) {
                Segment seg = c.winnerSegment();
                if (seg != null) {
                    long row = c.winnerRow();
                    if (!seg.isTombstone(row)) {
                        visitor.segmentRows(seg, row, row + 1);
                    }
                } else if (c.value() != null) {
                    visitor.memtable(c.key(), c.value());
                }
            }
        } catch (CorruptionException e) {
            corrupted(e);
            throw e;
        } finally {
            v.release();
        }
    }

    /** Entries in {@code [from, to]}, ascending; null bounds are open. */
    public EngineIterator range(byte[] from, byte[] to) {
        return range(from, true, to, true, false);
    }

    /** Entries in {@code [from, to]}, descending; null bounds are open. */
    public EngineIterator reverseRange(byte[] from, byte[] to) {
        return range(from, true, to, true, true);
    }

    public EngineIterator all() {
        return range(null, true, null, true, false);
    }

    public EngineIterator reverseAll() {
        return range(null, true, null, true, true);
    }

    /** Entries whose key starts with {@code prefix}, ascending or descending. */
    public EngineIterator prefixScan(byte[] prefix, boolean reverse) {
        Objects.requireNonNull(prefix, "prefix must not be null");
        byte[] upper = KeyOrder.prefixUpperBound(prefix);
        return range(prefix, true, upper, false, reverse);
    }

    /**
     * Approximate number of live keys: exact for a memtable-only store; keys overwritten or deleted in a
     * newer segment than the one holding them count until compaction.
     */
    public long approximateNumEntries() {
        Version v = acquireReplayed();
        try {
            long n = v.memtable.liveCount() + (v.frozen == null ? 0 : v.frozen.liveCount());
            for (Segment s : v.live) {
                n += s.rows() - 2 * s.tombstones();
            }
            return Math.max(0, n);
        } finally {
            v.release();
        }
    }

    public OpenReport openReport() {
        return openReport;
    }

    /**
     * Segment bytes over their estimated live bytes (sampled, cached per segment list; see
     * {@link EngineConfig#maxSpaceAmplification()}): above the bound, compaction is behind.
     */
    public double segmentSpaceAmplification() {
        Version v = acquire();
        try {
            return compactor.estimate(v.live).garbageAmplification();
        } finally {
            v.release();
        }
    }

    /**
     * How far the store's garbage has gone towards the space bound: below 0 while no full merge is due,
     * 0 where one starts (garbage using part of the room between what the live rows need as merged files
     * and the bound), 1 at the bound, more past it; read amplification at twice its bound counts as 0
     * too, growing by 1 per further twice the bound. Compaction pacing gives a store in debt a share of
     * the thread that grows with it.
     */
    public double compactionDebt() {
        Version v = acquire();
        try {
            return compactor.debt(v.live);
        } finally {
            v.release();
        }
    }

    /**
     * Whether compaction is behind its bounds: segments over the space bound, or four times the
     * read-amplification bound of sorted runs in a partition. A writer that finds it so slows down while
     * merges run in the background ({@link #awaitCompaction}).
     */
    public boolean compactionOverBounds() {
        Version v = acquire();
        try {
            return compactor.overBounds(v.live);
        } finally {
            v.release();
        }
    }

    /**
     * The sequence number of the last write readers see: grows by one per put or delete (and per key a
     * partition drop removes from the memtable). Compaction pacing reads it to tell idle from busy.
     */
    public long lastSequence() {
        return vs.visibleSeq;
    }

    public Path directory() {
        return dir;
    }

    public EngineConfig config() {
        return config;
    }

    public EngineStats stats() {
        Version v = acquire();
        try {
            long rows = 0;
            long tombs = 0;
            long mapped = 0;
            for (Segment s : v.live) {
                rows += s.rows();
                tombs += s.tombstones();
                mapped += s.fileSize();
            }
            synchronized (this) {
                long logBytes = wal == null ? 0 : wal.size();
                CompactionPolicy.Estimate e = compactor.estimate(v.live);
                EngineStats.Compaction work = compactor.figures(e, commitPath.flushBytesWritten(),
                        wal == null ? 0 : wal.bytesWritten(), diskBytes());
                return new EngineStats(v.memtable.approximateBytes(), v.memtable.keyCount(), v.live.size(), rows, tombs,
                        mapped, logBytes, commitPath.lastCommitNanos(), commitPath.commits(), commitPath.flushes(),
                        compactor.compactions(), compactor.compactedBytes(), commitPath.checkpoints(), work);
            }
        } finally {
            v.release();
        }
    }

    /**
     * Bytes of the store's files on disk: segments (obsolete ones still mapped by a reader included),
     * logs, compaction outputs in progress, the manifest.
     */
    private long diskBytes() {
        long n = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                try {
                    if (Files.isRegularFile(p)) {
                        n += Files.size(p);
                    }
                } catch (IOException gone) {
                    // deleted while listing (a merge input whose last reader just left)
                }
            }
        } catch (IOException e) {
            LOG.debug("MmapStore at {}: cannot list the store directory for disk usage: {}", dir, e.toString());
        }
        return n;
    }

    // =============================================================================================
    // Failure, close
    // =============================================================================================

    void checkReadable() {
        if (closed) {
            throw new EngineClosedException("store " + dir + " is closed");
        }
        EngineException f = failure;
        if (f != null) {
            throw new EngineClosedException("store " + dir + " failed and must be reopened: " + f.getMessage(), f);
        }
    }

    /**
     * What stopped this engine (a checksum failure, an I/O error), or null while it works. A stopped
     * engine refuses every call until it is closed and reopened.
     */
    public EngineException failure() {
        return failure;
    }

    private void checkWritable() {
        checkReadable();
    }

    /** Records {@code e} as what stopped the engine (the first failure wins) and returns it. */
    EngineException fail(EngineException e) {
        if (failure == null) {
            failure = e;
        }
        return e;
    }

    /** A checksum failed: refuse all further use and leave a durable note for the next open. */
    void corrupted(CorruptionException e) {
        if (failure != null) {
            return;
        }
        failure = e;
        try {
            Path marker = dir.resolve(FileNames.CORRUPT_MARKER);
            Files.writeString(marker, e.getMessage(), StandardCharsets.UTF_8);
            try (FileChannel ch = FileChannel.open(marker, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Manifest.syncDirectory(dir);
        } catch (IOException io) {
            LOG.error("MmapStore at {}: could not record corruption marker", dir, io);
        }
        LOG.error("MmapStore at {}: {}; the store refuses further use and will be rebuilt when reopened", dir, e.getMessage());
    }

    /**
     * Closes the store. With a log, writes after the last commit are not kept (the log is cut there at the
     * next open); without one, the last commit is checkpointed and writes after it are left out. Open
     * iterators keep their snapshot readable until they are closed.
     */
    @Override
    public void close() {
        shutdown(true);
    }

    /**
     * Drops the engine the way a crash would: nothing more is written, temporary files stay where they
     * are. For tests of recovery.
     */
    public void abandon() {
        shutdown(false);
    }

    private synchronized void shutdown(boolean clean) {
        if (closed) {
            return;
        }
        if (clean && failure == null) {
            try {
                commitPath.closeClean();
            } catch (IOException | RuntimeException e) {
                LOG.warn("MmapStore at {}: checkpoint at close failed; the next open starts from the last durable one", dir, e);
            }
        }
        closed = true;
        // Never leave a flusher or a manifest write going in a directory whose lock is about to be released.
        commitPath.abandon();
        if (clean) {
            compactor.abort();
        } else {
            compactor.abandon();
        }
        if (wal != null) {
            try {
                wal.close();
            } catch (IOException e) {
                LOG.warn("MmapStore at {}: closing log failed", dir, e);
            }
        }
        // Segments in `pending` (flushed, not yet named) are NOT marked obsolete here: if a checkpoint
        // failed after its manifest rename (directory sync error, or a crash point in tests), the manifest
        // on disk may already name them, and deleting them made the next open quarantine the store. The
        // next open deletes every segment file that its manifest does not name.
        vs.current().release();
        if (memory != null) {
            memory.close();
        }
        SegmentCloser.awaitIdle(); // the files this close unmaps and deletes, before the lock is let go
        closeQuietly(lock, lockChannel);
    }

    /** Whether a failure stopped the engine (it refuses every call until closed and reopened). */
    boolean failed() {
        return failure != null;
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return "StoreEngine[" + dir + "]";
    }
}
