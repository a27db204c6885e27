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
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sorted key-value store in one directory: a CRC32C-framed log in front of immutable, columnar,
 * memory-mapped segments.
 *
 * <p><b>Writes</b> append to the log and go into the memtable; nothing is durable until
 * {@link #commit(byte[])}, which appends a COMMIT record carrying opaque metadata and syncs the log once
 * (group commit). When the memtable passes its size limit it is written out as a segment at once,
 * committed or not; the segment joins the manifest only at the next commit, so a crash before that
 * commit simply forgets it and the log (still on disk) is replayed instead.
 *
 * <p><b>Reads</b> see a snapshot: the memtable's versions up to a sequence number and a fixed list of
 * segments, held by reference counts so that no mapping is closed under a reader.
 *
 * <p><b>Recovery</b> finds the last COMMIT record in the log files named by the manifest, replays the
 * log up to it, and cuts everything after it off. A torn tail is expected and truncated; a checksum
 * mismatch anywhere else is corruption: the engine moves the files aside and opens empty, with no
 * commit metadata, and says so in {@link #openReport()}.
 *
 * <p>One writer thread at a time (writes are serialised by a lock), any number of reader threads.
 */
public final class StoreEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StoreEngine.class);

    private final Path dir;
    private final EngineConfig config;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final OpenReport openReport;

    // ---- writer state (guarded by this) ----
    private LogWriter log;
    private final java.util.concurrent.atomic.AtomicLong fileNumbers = new java.util.concurrent.atomic.AtomicLong();
    private long seq;
    private Manifest manifest;
    /** Segments in the manifest, newest first. */
    private List<Segment> committed = new ArrayList<>();
    /** Segments flushed since the last manifest, newest first; they become durable at the next commit. */
    private List<Segment> pending = new ArrayList<>();
    /**
     * Manifest segments of partitions dropped since the last manifest: out of every reader's view, but
     * kept on disk (one reference held here) until a commit makes the drop durable.
     */
    private List<Segment> droppedCommitted = new ArrayList<>();
    private byte[] lastCommitMetadata;
    private Compaction compaction;
    private long commits;
    private long flushes;
    private long compactions;
    private long compactedBytes;

    // ---- shared with readers ----
    private volatile Version current;
    private volatile long visibleSeq;
    private volatile boolean closed;
    private volatile EngineException failure;
    private volatile long lastCommitNanos;
    /**
     * Logs whose committed records are not in the memtable yet (see {@link #replayDeferred}), or null.
     * Volatile: readers on other threads check it before they read.
     */
    private volatile LogChain deferredReplay;
    /** The sequence number the deferred records follow (the manifest's). */
    private final long deferredFromSeq;

    private StoreEngine(Path dir, EngineConfig config, FileChannel lockChannel, FileLock lock, OpenReport report,
                        Recovered r) {
        this.dir = dir;
        this.config = config;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.openReport = report;
        this.log = r.log;
        this.fileNumbers.set(r.nextFileNumber);
        this.seq = r.seq;
        this.visibleSeq = r.seq;
        this.manifest = r.manifest;
        this.committed = r.segments;
        this.lastCommitMetadata = r.metadata;
        this.deferredReplay = r.deferred;
        this.deferredFromSeq = r.manifest.lastSeq();
        this.current = new Version(r.memtable, committed);
        for (Segment s : committed) {
            s.release(); // the version holds them now
        }
    }

    // =============================================================================================
    // Open and recovery
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
            try {
                lock = lockChannel.tryLock();
            } catch (OverlappingFileLockException e) {
                throw new StoreLockedException("store directory " + dir + " is already open in this process");
            }
            if (lock == null) {
                throw new StoreLockedException("store directory " + dir + " is locked by another process");
            }
            Recovered r;
            boolean rebuilt = false;
            String reason = null;
            Path quarantine = null;
            Path marker = dir.resolve(FileNames.CORRUPT_MARKER);
            if (Files.exists(marker)) {
                reason = "an earlier instance found corruption: " + Files.readString(marker, StandardCharsets.UTF_8);
                quarantine = quarantine(dir);
                rebuilt = true;
            }
            try {
                r = recover(dir, config);
            } catch (CorruptionException e) {
                reason = e.getMessage();
                quarantine = quarantine(dir);
                rebuilt = true;
                r = recover(dir, config);
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
            if (ch != null) {
                ch.close();
            }
        } catch (IOException ignored) {
            // nothing left to do
        }
    }

    /** Moves every store file into a new quarantine folder (never deletes them). */
    private static Path quarantine(Path dir) throws IOException {
        Path q = dir.resolve(FileNames.QUARANTINE_PREFIX + System.currentTimeMillis());
        int n = 0;
        while (Files.exists(q)) {
            q = dir.resolve(FileNames.QUARANTINE_PREFIX + System.currentTimeMillis() + "-" + (++n));
        }
        Files.createDirectories(q);
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (name.equals(FileNames.LOCK) || name.startsWith(FileNames.QUARANTINE_PREFIX)) {
                    continue;
                }
                Files.move(p, q.resolve(name));
            }
        }
        Manifest.syncDirectory(dir);
        return q;
    }

    /** What recovery hands to the constructor. */
    private static final class Recovered {
        boolean created;
        LogWriter log;
        long nextFileNumber;
        long seq;
        Manifest manifest;
        List<Segment> segments = new ArrayList<>();
        Memtable memtable = new Memtable();
        byte[] metadata;
        long replayed;
        /** The logs whose committed records the first read or write replays, or null (replayed already). */
        LogChain deferred;
        long discarded;
        /** Manifest segments of dropped partitions; deleted only once a new manifest is written. */
        List<Segment> droppedDuringRecovery = new ArrayList<>();
    }

    private static Recovered recover(Path dir, EngineConfig config) throws IOException {
        Recovered r = new Recovered();
        StoreFiles files = StoreFiles.list(dir);
        SortedMap<Long, Path> logs = files.logs();
        SortedMap<Long, Path> segs = files.segments();
        long maxNumber = files.maxFileNumber();
        // Leftovers of an unfinished flush, compaction or manifest write.
        for (Path t : files.temps()) {
            Files.deleteIfExists(t);
        }

        Manifest m = Manifest.read(dir);
        if (m == null) {
            if (!segs.isEmpty()) {
                throw new CorruptionException(dir.resolve(FileNames.MANIFEST), 0,
                        "manifest missing while " + segs.size() + " segment files exist");
            }
            // A new store (or one whose creation was interrupted before its manifest existed).
            for (Path p : logs.values()) {
                Files.deleteIfExists(p);
            }
            long logNumber = Math.max(maxNumber + 1, 1);
            r.created = true;
            r.log = LogWriter.create(dir, logNumber, config.logBufferBytes(), config.fsync());
            r.manifest = new Manifest(logNumber + 1, 0, logNumber, 0, List.of(), null);
            r.manifest.write(dir, config.fsync(), FaultInjector.NONE);
            r.nextFileNumber = logNumber + 1;
            return r;
        }
        r.manifest = m;
        r.nextFileNumber = Math.max(m.nextFileNumber(), maxNumber + 1);
        r.metadata = m.metadata();
        r.seq = m.lastSeq();

        try {
            for (Manifest.SegmentRef ref : m.segments()) {
                Path p = segs.get(ref.number());
                if (p == null) {
                    throw new CorruptionException(FileNames.segment(dir, ref.number()), 0, "segment named by the manifest is missing");
                }
                long size = Files.size(p);
                if (size != ref.fileSize()) {
                    throw new CorruptionException(p, size, "segment has " + size + " bytes, the manifest says " + ref.fileSize());
                }
                Segment s = Segment.open(p, ref.number(), config.columns());
                r.segments.add(s);
                if (s.rows() != ref.rows()) {
                    throw new CorruptionException(p, 0, "segment has " + s.rows() + " rows, the manifest says " + ref.rows());
                }
            }

            // Pass 1: find the last commit in the logs the manifest still needs.
            if (!logs.containsKey(m.logStart())) {
                throw new CorruptionException(FileNames.log(dir, m.logStart()), 0, "log file named by the manifest is missing");
            }
            List<Long> needed = new ArrayList<>(logs.tailMap(m.logStart()).keySet());
            LogChain chain = LogChain.read(dir, m, logs);
            LogChain.CommitPoint cp = chain.commit();

            // Pass 2: replay up to the commit point into the memtable, flushing as it fills; or, when the
            // committed tail drops no partition and is at most two memtables of log (what a running store
            // holds in memory anyway: the memtable and the one being flushed; a commit during a flush
            // leaves both in the logs), leave that to the first read or write.
            List<Segment> flushed = new ArrayList<>();
            List<Segment> droppedSegs = r.droppedDuringRecovery;
            boolean[] dropped = {false};
            LogChain.CommittedTail tail = chain.committedTail();
            if (cp != null && !tail.dropsPartitions() && tail.logBytes() <= 2 * config.memtableBytes()) {
                r.metadata = cp.metadata();
                r.seq = Math.max(cp.seq(), m.lastSeq());
                r.replayed = tail.records();
                r.deferred = tail.records() > 0 ? chain : null;
            } else if (cp != null) {
                r.metadata = cp.metadata();
                long[] count = {0};
                LogChain.IntoMemtable replay = new LogChain.IntoMemtable(m.lastSeq()) {
                    @Override
                    Memtable memtable() {
                        return r.memtable;
                    }

                    @Override
                    public void dropBelow(long below) throws IOException {
                        seq = r.memtable.tombstoneBelow(partitionKey(below), seq);
                        StoreEngine.dropBelow(r.segments, below, droppedSegs);
                        StoreEngine.dropBelow(flushed, below, null);
                        dropped[0] = true;
                        afterRecord();
                    }

                    // flushing as the memtable fills
                    @Override
                    void afterRecord() throws IOException {
                        count[0]++;
                        if (r.memtable.approximateBytes() >= config.memtableBytes()) {
                            List<Segment> below = new ArrayList<>(flushed);
                            below.addAll(r.segments);
                            flushed.addAll(0, writeMemtable(dir, () -> r.nextFileNumber++, r.memtable, below,
                                    config.partitioned(), config.columns(), config.fsync()));
                            r.memtable = new Memtable();
                        }
                    }
                };
                chain.replayCommitted(replay);
                r.seq = Math.max(Math.max(replay.seq, cp.seq()), m.lastSeq());
                r.replayed = count[0];
            }

            // Everything after the commit point was never committed: cut it off.
            long keepLog = cp == null ? m.logStart() : cp.logNumber();
            long keepEnd = cp == null ? LogFormat.FILE_HEADER_BYTES : cp.end();
            long discarded = 0;
            for (long number : needed) {
                Path p = logs.get(number);
                if (number > keepLog) {
                    discarded += Files.size(p);
                } else if (number == keepLog) {
                    discarded += Math.max(0, Files.size(p) - keepEnd);
                }
            }
            r.discarded = discarded;
            chain.firstEarlyEnd().ifPresent(torn -> LOG.info("MmapStore at {}: torn tail in log {} at byte {} cut off (never committed)",
                    dir, torn.log().number(), torn.at()));

            if (!flushed.isEmpty() || dropped[0]) {
                // Recovery wrote segments of its own or dropped partitions: checkpoint now, so that the
                // manifest names exactly the files kept and the next open replays nothing.
                List<Segment> below = new ArrayList<>(flushed);
                below.addAll(r.segments);
                flushed.addAll(0, writeMemtable(dir, () -> r.nextFileNumber++, r.memtable, below,
                        config.partitioned(), config.columns(), config.fsync()));
                r.memtable = new Memtable();
                List<Segment> all = new ArrayList<>(flushed);
                all.addAll(r.segments);
                r.segments = all;
                long newLog = r.nextFileNumber++;
                r.log = LogWriter.create(dir, newLog, config.logBufferBytes(), config.fsync());
                r.manifest = new Manifest(r.nextFileNumber, r.seq, newLog, 0, refs(all), r.metadata);
                r.manifest.write(dir, config.fsync(), FaultInjector.NONE);
                for (Segment d : droppedSegs) {
                    d.markObsolete();
                    d.release();
                }
                droppedSegs.clear();
                for (long number : logs.keySet()) {
                    Files.deleteIfExists(logs.get(number));
                }
            } else {
                for (long number : needed) {
                    if (number > keepLog) {
                        Files.deleteIfExists(logs.get(number));
                    }
                }
                r.log = LogWriter.reopen(dir, keepLog, keepEnd, config.logBufferBytes(), config.fsync());
                for (long number : logs.headMap(m.logStart()).keySet()) {
                    Files.deleteIfExists(logs.get(number));
                }
            }
            // Segment files no manifest names: outputs of flushes or compactions that never committed.
            List<Long> live = new ArrayList<>();
            for (Segment s : r.segments) {
                live.add(s.number());
            }
            for (Map.Entry<Long, Path> e : segs.entrySet()) {
                if (!live.contains(e.getKey())) {
                    Files.deleteIfExists(e.getValue());
                }
            }
            return r;
        } catch (IOException | RuntimeException e) {
            for (Segment s : r.segments) {
                s.release();
            }
            for (Segment s : r.droppedDuringRecovery) {
                s.release();
            }
            if (r.log != null) {
                r.log.close();
            }
            throw e;
        }
    }

    private static List<Manifest.SegmentRef> refs(List<Segment> segments) {
        List<Manifest.SegmentRef> out = new ArrayList<>(segments.size());
        for (Segment s : segments) {
            out.add(new Manifest.SegmentRef(s.number(), s.fileSize(), s.rows()));
        }
        return out;
    }

    /**
     * Writes a memtable's newest versions as segments (one per partition in a partitioned engine, else
     * one) and opens them; the caller owns one reference to each. A partition's tombstones are dropped
     * when none of {@code below} holds rows of it. Returns no segment when no row remains.
     */
    private static List<Segment> writeMemtable(Path dir, java.util.function.LongSupplier numbers, Memtable mem,
                                               List<Segment> below, boolean partitioned, ColumnExtension columns,
                                               boolean fsync)
            throws IOException {
        List<Long> parts = new ArrayList<>();
        List<SegmentWriter.Sizes> sizes = new ArrayList<>();
        List<Boolean> bottoms = new ArrayList<>();
        var it = mem.entries(null, true, null, true, false);
        while (it.hasNext()) {
            var e = it.next();
            long part = partitioned ? KeyOrder.prefix(e.getKey()) : 0;
            if (parts.isEmpty() || parts.get(parts.size() - 1) != part) {
                parts.add(part);
                sizes.add(new SegmentWriter.Sizes(columns));
                boolean bottom = true;
                for (Segment s : below) {
                    if (!partitioned || s.partition() == part) {
                        bottom = false;
                        break;
                    }
                }
                bottoms.add(bottom);
            }
            byte[] v = e.getValue().head.value;
            if (v != null || !bottoms.get(bottoms.size() - 1)) {
                sizes.get(sizes.size() - 1).add(e.getKey(), v);
            }
        }
        List<Segment> out = new ArrayList<>();
        SegmentWriter w = null;
        try {
            int idx = -1;
            long current = 0;
            it = mem.entries(null, true, null, true, false);
            while (it.hasNext()) {
                var e = it.next();
                long part = partitioned ? KeyOrder.prefix(e.getKey()) : 0;
                if (idx < 0 || part != current) {
                    if (w != null) {
                        out.add(Segment.open(w.finish(fsync), w.number(), columns));
                        w = null;
                    }
                    idx++;
                    current = part;
                    if (sizes.get(idx).rows > 0) {
                        w = new SegmentWriter(dir, numbers.getAsLong(), sizes.get(idx));
                    }
                }
                byte[] v = e.getValue().head.value;
                if (w != null && (v != null || !bottoms.get(idx))) {
                    w.add(e.getKey(), v);
                }
            }
            if (w != null) {
                out.add(Segment.open(w.finish(fsync), w.number(), columns));
                w = null;
            }
        } catch (IOException | RuntimeException e) {
            if (w != null) {
                w.close();
            }
            for (Segment s : out) {
                s.markObsolete();
                s.release();
            }
            throw e;
        }
        return out;
    }

    /** The smallest key of a partition. */
    static byte[] partitionKey(long partition) {
        return java.nio.ByteBuffer.allocate(8).putLong(partition).array();
    }

    /**
     * Removes from {@code segments} those of partitions below {@code partition}. With {@code removed}
     * null the caller owns a reference to each (recovery): it is released and its file deleted; else the
     * removed segments are collected for the caller.
     */
    private static void dropBelow(List<Segment> segments, long partition, List<Segment> removed) {
        for (var it = segments.iterator(); it.hasNext(); ) {
            Segment s = it.next();
            if (Long.compareUnsigned(s.partition(), partition) < 0) {
                it.remove();
                if (removed != null) {
                    removed.add(s);
                } else {
                    s.markObsolete();
                    s.release();
                }
            }
        }
    }

    // =============================================================================================
    // Writes
    // =============================================================================================

    /** Stores {@code value} under {@code key}. Not durable until the next {@link #commit}. */
    public void put(byte[] key, byte[] value) {
        checkKey(key);
        Objects.requireNonNull(value, "value must not be null (use delete)");
        if (value.length > config.maxValueBytes()) {
            throw new LimitExceededException("value of " + value.length + " bytes exceeds the maximum of "
                    + config.maxValueBytes() + " bytes (mmapstore.max.value.bytes)");
        }
        synchronized (this) {
            checkWritable();
            replayDeferred();
            pollFlush();
            try {
                log.appendPut(key, value);
            } catch (IOException e) {
                throw fail(new EngineIOException("cannot append to log " + log.path(), e));
            }
            long s = ++seq;
            current.memtable.put(key, value, s);
            visibleSeq = s;
            maybeFlush();
        }
    }

    /** Removes {@code key}. Not durable until the next {@link #commit}. */
    public void delete(byte[] key) {
        checkKey(key);
        synchronized (this) {
            checkWritable();
            replayDeferred();
            pollFlush();
            try {
                log.appendDelete(key);
            } catch (IOException e) {
                throw fail(new EngineIOException("cannot append to log " + log.path(), e));
            }
            long s = ++seq;
            current.memtable.put(key, null, s);
            visibleSeq = s;
            maybeFlush();
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
            if (kv.value() != null && kv.value().length > config.maxValueBytes()) {
                throw new LimitExceededException("value of " + kv.value().length + " bytes exceeds the maximum of "
                        + config.maxValueBytes() + " bytes (mmapstore.max.value.bytes)");
            }
        }
        synchronized (this) {
            checkWritable();
            replayDeferred();
            pollFlush();
            Memtable mem = current.memtable;
            for (KeyValue kv : batch) {
                try {
                    if (kv.value() == null) {
                        log.appendDelete(kv.key());
                    } else {
                        log.appendPut(kv.key(), kv.value());
                    }
                } catch (IOException e) {
                    throw fail(new EngineIOException("cannot append to log " + log.path(), e));
                }
                long s = ++seq;
                mem.put(kv.key(), kv.value(), s);
                if (mem.approximateBytes() >= 2 * config.memtableBytes()) {
                    // A batch larger than the memtable cannot stay invisible until its end.
                    visibleSeq = s;
                    maybeFlush();
                    mem = current.memtable;
                }
            }
            // Readers see the whole batch at once (or, for a batch larger than the memtable, in parts).
            visibleSeq = seq;
            maybeFlush();
        }
    }

    /**
     * Removes every key of the partitions below {@code partition} (unsigned order of the first 8 key
     * bytes): their segment files leave the readers' view at once and are deleted once the next commit
     * makes the drop durable; no data is rewritten. Only for partitioned engines. Logged, so that a crash
     * before the next commit forgets the drop together with the writes around it.
     */
    public void dropPartitionsBelow(long partition) {
        if (!config.partitioned()) {
            throw new IllegalStateException("dropPartitionsBelow needs a partitioned engine");
        }
        synchronized (this) {
            checkWritable();
            replayDeferred();
            awaitFlush(); // the frozen memtable may hold keys of the dropped partitions
            try {
                log.appendDropBelow(partition);
                commitSeq = -1; // the log no longer ends with the last COMMIT record
            } catch (IOException e) {
                throw fail(new EngineIOException("cannot append to log " + log.path(), e));
            }
            Memtable mem = current.memtable;
            seq = mem.tombstoneBelow(partitionKey(partition), seq);
            // Lists hold no references of their own (versions do): dropped pending files are deleted
            // when the last version naming them goes; dropped manifest files stay until the checkpoint.
            List<Segment> gone = new ArrayList<>();
            dropBelow(pending, partition, gone);
            for (Segment g : gone) {
                g.markObsolete();
            }
            dropBelow(committed, partition, droppedCommitted);
            install(mem);
            visibleSeq = seq;
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

    /**
     * Makes every write so far durable with one sync, together with {@code metadata} (may be null),
     * atomically: after a crash the store opens with all of them or, if this call did not return,
     * possibly none of them.
     */
    public synchronized void commit(byte[] metadata) {
        checkWritable();
        long start = System.nanoTime();
        // A flush in flight is not waited for: its memtable's records are in the log files before the
        // current one, so this COMMIT record (in the current log) commits them too, and recovery replays
        // them from the manifest's first log. Only the manifest checkpoint must wait until the flush's
        // segment is installed (it would otherwise start the log past records no segment holds yet): a
        // later commit makes it. Under a write-saturating load a commit then costs one log sync instead of
        // the rest of a 64 MiB flush.
        pollFlush();
        if (flushing != null && !pending.isEmpty()) {
            // A second flush since the last checkpoint: wait for it this time. Otherwise a writer that
            // keeps the flusher busy would find a flush in flight at every commit, no checkpoint would
            // ever be made, and the logs (and what a crash replays) would grow without bound. With this,
            // a commit leaves at most the logs of the flush in flight and the current one to replay.
            awaitFlush();
        }
        try {
            syncDeferred();
            log.appendCommit(seq, metadata);
            config.faults().at(FaultInjector.Point.COMMIT_BEFORE_FSYNC);
            log.sync(config.fsync());
            config.faults().at(FaultInjector.Point.COMMIT_AFTER_FSYNC);
            lastCommitMetadata = metadata == null ? null : metadata.clone();
            commitSeq = seq;
            commitLog = log.number();
            commitLogEnd = log.size();
            if (flushing == null && (!pending.isEmpty() || !droppedCommitted.isEmpty())) {
                checkpoint();
            }
        } catch (IOException e) {
            throw fail(new EngineIOException("commit failed in " + dir, e));
        }
        commits++;
        lastCommitNanos = System.nanoTime() - start;
    }

    /**
     * Files written since the last commit without a sync (rotated logs, the current log's header,
     * flushed and pending-merged segments). Synced, with the directory, before the next COMMIT record:
     * a commit that reaches the device implies everything it depends on did.
     */
    private final List<Path> unsynced = new ArrayList<>();

    private void syncDeferred() throws IOException {
        if (unsynced.isEmpty()) {
            return;
        }
        if (config.fsync()) {
            for (Path p : unsynced) {
                try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                    ch.force(true);
                } catch (java.nio.file.NoSuchFileException gone) {
                    // merged away (or dropped) since: nothing left to make durable
                }
            }
            Manifest.syncDirectory(dir);
        }
        unsynced.clear();
    }

    /** The metadata of the last completed commit (as of open, or since), or null if none. */
    public synchronized byte[] lastCommitMetadata() {
        return lastCommitMetadata == null ? null : lastCommitMetadata.clone();
    }

    /** The sequence number the last commit made durable, the log it went to and where its COMMIT record ends. */
    private long commitSeq = -1;
    private long commitLog = -1;
    private long commitLogEnd = -1;

    /**
     * A checkpoint a commit left to later because a flush was in flight, made now if nothing was written
     * since that commit and the log still ends with its COMMIT record: {@link #flush()} and
     * {@link #compactFully()} after a commit find every segment in the manifest, as they did when
     * commits waited for the flush.
     */
    private void checkpointIfCommitted() {
        if (flushing == null && seq == commitSeq && log.number() == commitLog && log.size() == commitLogEnd
                && (!pending.isEmpty() || !droppedCommitted.isEmpty())) {
            try {
                checkpoint();
            } catch (IOException e) {
                throw fail(new EngineIOException("checkpoint failed in " + dir, e));
            }
        }
    }

    /**
     * Records the flushed segments in a new manifest; the log before the current file is no longer
     * needed. Called right after a commit, so everything in those segments is committed.
     */
    private void checkpoint() throws IOException {
        List<Segment> all = new ArrayList<>(pending);
        all.addAll(committed);
        // called right after a commit's sync: the log ends with that commit's COMMIT record
        Manifest next = new Manifest(fileNumbers.get(), seq, log.number(), log.size(), refs(all), lastCommitMetadata);
        next.write(dir, config.fsync(), config.faults());
        long oldStart = manifest.logStart();
        manifest = next;
        committed = all;
        pending = new ArrayList<>();
        for (Segment s : droppedCommitted) {
            // No longer in any version (its mapping may still serve an old reader: unlinking is safe).
            Files.deleteIfExists(s.path());
        }
        droppedCommitted = new ArrayList<>();
        for (long n = oldStart; n < log.number(); n++) {
            Files.deleteIfExists(FileNames.log(dir, n));
        }
    }

    private void maybeFlush() {
        if (current.memtable.approximateBytes() >= config.memtableBytes()) {
            flushMemtable();
        }
    }

    /** Writes the memtable out as a segment now (it becomes durable at the next commit). */
    public synchronized void flush() {
        checkWritable();
        replayDeferred();
        flushMemtable();
        awaitFlush();
        checkpointIfCommitted();
    }

    private void flushMemtable() {
        awaitFlush();
        Version v = current;
        if (v.memtable.isEmpty()) {
            return;
        }
        try {
            config.faults().at(FaultInjector.Point.FLUSH_BEFORE_SEGMENT);
            // Nothing here is synced on this thread: until the next commit the flushed data is uncommitted,
            // and that commit syncs the old log, the new log and the segment before its own COMMIT record
            // (see syncDeferred), so the writer never waits for the device in the middle of a put. The
            // flusher thread syncs the old log and the segment as it writes them.
            long nextLog = fileNumbers.getAndIncrement();
            log.appendEnd(nextLog);
            log.drain();
            unsynced.add(log.path());
            LogWriter next = LogWriter.create(dir, nextLog, config.logBufferBytes(), false);
            rotatedLogBytes += log.size();
            log.close();
            log = next;
            config.faults().at(FaultInjector.Point.FLUSH_AFTER_LOG_ROTATED);
        } catch (IOException e) {
            throw fail(new EngineIOException("flush failed in " + dir, e));
        }
        // The full memtable freezes (readers keep seeing it between the new memtable and the segments)
        // and is written out on a flusher thread while this thread goes on taking writes: sorting and
        // writing a memtable is most of the cost of a put otherwise. One flush at a time per store.
        Memtable toWrite = v.memtable;
        List<Segment> below = new ArrayList<>(pending);
        below.addAll(committed);
        frozen = toWrite;
        install(new Memtable(toWrite.keyCount()));
        FaultInjector faults = config.faults();
        Path rotated = unsynced.get(unsynced.size() - 1);
        flushing = Flusher.submit(() -> {
            if (config.fsync()) {
                // Synced here, off the writer's thread, so that the commit that depends on them finds
                // nothing left to write back (its own sync of them then costs next to nothing).
                try (FileChannel ch = FileChannel.open(rotated, StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
            }
            List<Segment> written = writeMemtable(dir, fileNumbers::getAndIncrement, toWrite, below,
                    config.partitioned(), config.columns(), config.fsync());
            try {
                faults.at(FaultInjector.Point.FLUSH_AFTER_SEGMENT_WRITTEN);
            } catch (RuntimeException e) {
                for (Segment s : written) {
                    s.release();
                }
                throw e;
            }
            return written;
        });
    }

    /** Installs a finished background flush, if there is one, without waiting. */
    private void pollFlush() {
        if (flushing != null && flushing.isDone()) {
            awaitFlush();
        }
    }

    /**
     * Waits for the background flush, if any, and installs its segments as pending. A failure there
     * fails the engine, as a failed flush on this thread would.
     */
    private void awaitFlush() {
        java.util.concurrent.Future<List<Segment>> f = flushing;
        if (f == null) {
            return;
        }
        List<Segment> written;
        try {
            written = f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException("interrupted while waiting for a memtable flush in " + dir, e);
        } catch (java.util.concurrent.ExecutionException e) {
            flushing = null;
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw fail(new EngineIOException("flush failed in " + dir, io));
            }
            if (cause instanceof RuntimeException re) {
                if (re instanceof EngineException ee) {
                    fail(ee);
                }
                throw re;
            }
            throw fail(new EngineException("flush failed in " + dir, cause));
        }
        flushing = null;
        for (Segment w : written) {
            unsynced.add(w.path());
        }
        pending.addAll(0, written);
        frozen = null;
        install(current.memtable);
        for (Segment w : written) {
            w.release(); // the new version holds it
        }
        flushes++;
        for (Segment w : written) {
            flushBytesWritten += w.fileSize();
        }
        if (Compaction.pick(pending, 2 * config.compactionTrigger(), config.partitioned()) != null) {
            try {
                compactPending();
            } catch (IOException e) {
                throw fail(new EngineIOException("merging flushed segments failed in " + dir, e));
            }
        }
    }

    /** Waits for the background flush and installs it (tests that inject crashes into flushes). */
    synchronized void awaitFlushForTesting() {
        awaitFlush();
    }

    /** A memtable written out in the background, or null. */
    private java.util.concurrent.Future<List<Segment>> flushing;
    /** The memtable that {@link #flushing} writes; readers see it until its segments are installed. */
    private Memtable frozen;

    /**
     * Merges flushed-but-uncommitted segments among themselves. Commits are rare under exactly-once in
     * Kafka Streams 4.3 (a running task's stores are committed only at enforced checkpoints), so without
     * this the pending list, and the read cost, would grow with every flush until the next commit. The
     * result stays pending: no manifest changes, and a crash forgets it like any uncommitted flush.
     */
    private void compactPending() throws IOException {
        List<Segment> run = Compaction.pick(pending, config.compactionTrigger(), config.partitioned());
        if (run == null) {
            return;
        }
        boolean bottom = Compaction.reachesBottom(run, pending, committed, config.partitioned());
        // Cut into key-range files like any merge (a later merge of them releases them as it passes
        // them), all installed at once: pending segments are never in a manifest.
        Compaction c = new Compaction(dir, config.columns(), fileNumbers::getAndIncrement, run, bottom, fileBytes(),
                config.faults()).fsync(false);
        List<Segment> outs = new ArrayList<>();
        try {
            while (!c.finished()) {
                c.step(Long.MAX_VALUE);
                Segment out = c.takeOutput();
                List<Segment> released = c.releasable();
                if (out != null) {
                    outs.add(out);
                    unsynced.add(out.path()); // synced by the commit that names it
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
        pending = replaceRun(pending, run, outs);
        install(current.memtable);
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

    /**
     * After a merge's output file is installed (null: the merge ended without one) and {@code released}
     * left the store: the new version holds the output, the released inputs are deleted once the last
     * reader leaves, and the merge gives back its references to them.
     */
    private void retire(Compaction c, Segment out, List<Segment> released) {
        if (out != null) {
            out.release();
        }
        for (Segment seg : released) {
            seg.markObsolete();
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
    }

    /** Publishes a new version over the current segment lists. */
    private void install(Memtable memtable) {
        List<Segment> all = new ArrayList<>(pending.size() + committed.size());
        all.addAll(pending);
        all.addAll(committed);
        Version old = current;
        current = new Version(memtable, frozen, all);
        old.release();
    }

    // =============================================================================================
    // Compaction
    // =============================================================================================

    /**
     * Runs compaction for at most about {@code budgetNanos}: asks {@link CompactionPolicy} what to merge
     * (all of a partition's segments when their garbage nears {@link EngineConfig#maxSpaceAmplification()},
     * else a size-tiered choice of sorted runs once a partition has {@link EngineConfig#compactionTrigger()}
     * of them), merges part of it, and installs each output file as soon as it is complete. Each step is
     * crash-safe: an output is a temporary file until it is complete, and each file is installed by one
     * manifest replacement that also removes the inputs it replaces; inputs are deleted once no reader
     * holds them.
     *
     * @return true if compaction work remains (call again later)
     */
    public synchronized boolean compact(long budgetNanos) {
        checkWritable();
        // segments of a flush that was in flight at the last commit join the manifest here when nothing
        // was written since (an idle store gets no more commits), so that they can be merged
        pollFlush();
        checkpointIfCommitted();
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
                if (compaction == null) {
                    if (!droppedCommitted.isEmpty()) {
                        // The manifest must keep naming the dropped files until the drop is committed.
                        return false;
                    }
                    CompactionPolicy.Plan plan = plan();
                    if (plan == null) {
                        return false;
                    }
                    compaction = new Compaction(dir, config.columns(), fileNumbers::getAndIncrement, plan.run(),
                            plan.bottom(), fileBytes(), config.faults()).fsync(config.fsync());
                    spaceMergeRunning = plan.reason() == CompactionPolicy.Reason.SPACE;
                    LOG.debug("MmapStore at {}: {} merge of {} segments, {} bytes", dir,
                            plan.reason() == CompactionPolicy.Reason.SPACE ? "space" : "size-tiered", plan.run().size(),
                            plan.inputBytes());
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
            abortCompaction();
            throw fail(new EngineIOException("compaction failed in " + dir, e));
        } catch (CorruptionException e) {
            abortCompaction();
            corrupted(e);
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

    /**
     * A size-tiered merge among the segments newer than the merge in progress, when they alone reach the
     * read-amplification bound, or null. A merge of a whole large partition takes many steps while
     * flushes keep adding segments above it; without this the segments a lookup may touch grew with
     * every flush until the large merge installed (119 in the compaction benchmark). The two runs are
     * disjoint and each adjacent, so each installs by replacing its own run; the small one never
     * reaches the bottom (the large one's inputs lie below it), so it keeps its tombstones.
     */
    private Compaction startMinor() {
        if (compaction == null || !droppedCommitted.isEmpty()) {
            return null;
        }
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
        return new Compaction(dir, config.columns(), fileNumbers::getAndIncrement, run, false, fileBytes(), config.faults())
                .fsync(config.fsync());
    }

    /** Whether {@link #compaction} is a full merge started for the space bound. */
    private volatile boolean spaceMergeRunning;

    /** A small merge running above {@link #compaction} (see {@link #startMinor}), or null. */
    private Compaction minor;

    /** The policy's next merge among the committed segments (cached while they do not change), or null. */
    private CompactionPolicy.Plan plan() {
        if (plannedFor != committed) {
            plannedFor = committed;
            planned = CompactionPolicy.choose(committed, config.compactionTrigger(), config.maxSpaceAmplification(),
                    config.partitioned(), liveSamples, reservedBytes());
        }
        return planned;
    }

    /** The committed list {@link #planned} was chosen for (lists are replaced, never changed, on install). */
    private List<Segment> plannedFor;
    private CompactionPolicy.Plan planned;
    /** Sampled live rows per segment, shared by the policy and the estimate (thread-safe). */
    private final LiveSamples liveSamples = new LiveSamples();
    private long compactionSteps;
    private long stepNanosTotal;
    private long stepNanosMax;
    private long stepNanosLast;
    private long compactionBytesRead;
    private long flushBytesWritten;
    private long rotatedLogBytes;
    /** A segment list (a version's, never changed) and the live-byte estimate of its segments. */
    private volatile Object[] estimateCache = {null, CompactionPolicy.Estimate.EMPTY};

    /**
     * Merges every segment into one sorted run now (tests, tools, and before a benchmark's read phase):
     * one file, or files of {@link EngineConfig#compactionFileBytes()} with disjoint key ranges.
     */
    public synchronized void compactFully() {
        checkWritable();
        awaitFlush();
        checkpointIfCommitted();
        abortCompaction();
        if (committed.isEmpty() || (committed.size() < 2 && committed.get(0).tombstones() == 0)
                || !droppedCommitted.isEmpty()) {
            return;
        }
        try {
            if (config.partitioned()) {
                List<Segment> run;
                while ((run = Compaction.pick(committed, 2, true)) != null) {
                    compaction = new Compaction(dir, config.columns(), fileNumbers::getAndIncrement, run,
                            Compaction.reachesBottom(run, committed, List.of(), true), Long.MAX_VALUE, config.faults())
                            .fsync(config.fsync());
                    runToEnd(compaction);
                    compaction = null;
                }
                return;
            }
            compaction = new Compaction(dir, config.columns(), fileNumbers::getAndIncrement, new ArrayList<>(committed), true,
                    fileBytes(), config.faults()).fsync(config.fsync());
            runToEnd(compaction);
            compaction = null;
        } catch (IOException e) {
            abortCompaction();
            throw fail(new EngineIOException("compaction failed in " + dir, e));
        }
    }

    private void runToEnd(Compaction c) throws IOException {
        while (!c.finished()) {
            c.step(Long.MAX_VALUE);
            installStep(c);
        }
    }

    /** How large a merge's output files get: one file per merge in a partitioned engine. */
    private long fileBytes() {
        return config.partitioned() ? Long.MAX_VALUE : config.compactionFileBytes();
    }

    /**
     * Bytes set aside under the space bound for files other than segments: the log (at most a memtable's
     * worth before it rotates) and the output files of a merge not yet installed.
     */
    private long reservedBytes() {
        // the log, and a merge's output file being written next to one waiting for its sync
        return config.partitioned() ? 0 : config.memtableBytes() + 2 * config.compactionFileBytes();
    }

    /**
     * Installs what a merge has ready: its next output file, with the inputs it replaces entirely gone
     * (see {@link Compaction#releasable()}), in one manifest replacement, so a crash before it leaves the
     * store as it was and a crash after it leaves this part of the merge done. The output takes the place
     * of the merge's block in the newest-first list, ahead of the inputs still partly unmerged: for its
     * key range it holds the newest version among all of them.
     */
    private void installStep(Compaction c) throws IOException {
        Segment out = c.takeOutput();
        List<Segment> released = c.releasable();
        if (out == null && released.isEmpty()) {
            c.installedStep(null, released);
            return;
        }
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
            throw new IllegalStateException("merge inputs vanished from the store while the merge ran in " + dir);
        }
        Manifest m = new Manifest(fileNumbers.get(), manifest.lastSeq(), manifest.logStart(), manifest.commitEnd(),
                refs(next), manifest.metadata());
        try {
            m.write(dir, config.fsync(), config.faults());
        } catch (IOException | RuntimeException e) {
            if (out != null) {
                // Do not mark the output obsolete (delete it): the failure may have come after the rename
                // (e.g. the directory sync), so the manifest on disk may already name this file. Deleting it
                // made the next open find a missing segment and quarantine the whole store. If the manifest
                // does not name it, the next open deletes it as an unreferenced segment.
                out.release();
            }
            throw e;
        }
        manifest = m;
        committed = next;
        install(current.memtable);
        retire(c, out, released);
        config.faults().at(c.finished() ? FaultInjector.Point.COMPACTION_AFTER_INSTALL
                : FaultInjector.Point.COMPACTION_AFTER_PARTIAL_INSTALL);
    }

    private void abortCompaction() {
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

    // =============================================================================================
    // Reads
    // =============================================================================================

    /** As {@link #acquire}, once the deferred log records are in the memtable: for reads of the data. */
    private Version acquireReplayed() {
        if (deferredReplay != null) {
            replayDeferred();
        }
        return acquire();
    }

    /**
     * Replays the committed log records that {@link #open} left in the logs into the memtable. Runs once,
     * under the writer's lock, before the first read or write; commits, compaction of the segments and
     * close do not need the records and do not wait for it. Nothing is flushed here: the open deferred
     * only a tail of at most two memtables, and the next write flushes as usual. Records appended after
     * the commit point (COMMIT records of commits made since the open; nothing else can precede the
     * replay) are not read.
     */
    private synchronized void replayDeferred() {
        LogChain chain = deferredReplay;
        if (chain == null) {
            return;
        }
        checkReadable();
        long start = System.nanoTime();
        Memtable mem = current.memtable;
        LogChain.IntoMemtable replay = new LogChain.IntoMemtable(deferredFromSeq) {
            @Override
            Memtable memtable() {
                return mem;
            }

            @Override
            public void dropBelow(long partition) {
                // open replays a tail with partition drops itself: reaching one here is a bug, not damage
                throw new IllegalStateException("a deferred replay of " + dir + " met a partition drop");
            }
        };
        try {
            chain.replayCommitted(replay);
        } catch (CorruptionException e) {
            corrupted(e);
            throw e;
        } catch (IOException e) {
            throw fail(new EngineIOException("cannot replay the committed log records of " + dir, e));
        }
        seq = Math.max(seq, replay.seq);
        visibleSeq = Math.max(visibleSeq, replay.seq);
        deferredReplay = null;
        LOG.debug("MmapStore at {}: replayed {} committed log records in {} ms", dir, replay.seq - deferredFromSeq,
                (System.nanoTime() - start) / 1_000_000);
    }

    private Version acquire() {
        while (true) {
            checkReadable();
            Version v = current;
            if (v.tryAcquire()) {
                return v;
            }
        }
    }

    /** The value of {@code key}, or null. */
    public byte[] get(byte[] key) {
        Objects.requireNonNull(key, "key must not be null");
        Version v = acquireReplayed();
        try {
            long snapshot = visibleSeq;
            Memtable.Version mv = v.memtable.get(key, snapshot);
            if (mv == null && v.frozen != null) {
                mv = v.frozen.get(key, snapshot);
            }
            if (mv != null) {
                return mv.value;
            }
            List<Segment> segs = v.segments;
            if (segs.isEmpty()) {
                return null;
            }
            long hash = KeyHash.hash(key);
            for (Segment s : segs) {
                if (s.mightContain(key, hash)) {
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
        } finally {
            v.release();
        }
    }

    /**
     * Entries with keys between {@code from} and {@code to} (null = unbounded), ascending or, with
     * {@code reverse}, descending. An empty range (from after to) yields nothing.
     */
    public EngineIterator range(byte[] from, boolean fromInclusive, byte[] to, boolean toInclusive, boolean reverse) {
        Version v = acquireReplayed();
        try {
            if (from != null && to != null) {
                int c = KeyOrder.compare(from, to);
                if (c > 0 || (c == 0 && !(fromInclusive && toInclusive))) {
                    return new EngineIterator(this, v, new MergeCursor(List.of(), reverse));
                }
            }
            long snapshot = visibleSeq;
            return new EngineIterator(this, v, MergeCursor.over(v, snapshot, from, fromInclusive, to, toInclusive, reverse));
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
        Objects.requireNonNull(visitor, "visitor");
        Version v = acquireReplayed();
        try {
            long snapshot = visibleSeq;
            if (v.memtable.keyCount() == 0 && v.frozen == null && v.segments.size() == 1) {
                Segment s = v.segments.get(0);
                for (long r = 0; r < s.rows(); r += SCAN_RUN_ROWS) {
                    visitor.segmentRows(s, r, Math.min(s.rows(), r + SCAN_RUN_ROWS));
                }
                return;
            }
            MergeCursor c = MergeCursor.over(v, snapshot, null, true, null, true, false);
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
            for (Segment s : v.segments) {
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
            return estimate(v.segments).garbageAmplification();
        } finally {
            v.release();
        }
    }

    /**
     * How far the store's garbage has gone towards the space bound: below 0 while no full merge is due,
     * 0 where one starts (garbage using half the room between what the live rows need as merged files
     * and the bound), 1 at the bound, more past it; read amplification at twice its bound counts as 0
     * too, growing by 1 per further twice the bound. Compaction pacing gives a store in debt a share of
     * the thread that grows with it.
     */
    public double compactionDebt() {
        Version v = acquire();
        try {
            CompactionPolicy.Estimate e = estimate(v.segments);
            double debt = e.debt();
            // Read amplification twice its bound is debt too: the size-tiered merges that keep it down
            // also fold a hot key's many versions into one, slowing the growth of garbage.
            int trigger = config.compactionTrigger();
            if (e.maxRunsPerPartition() >= 2 * trigger) {
                debt = Math.max(debt, (double) (e.maxRunsPerPartition() - 2 * trigger) / (2 * trigger));
            }
            // a full merge under way is not left to starve when its first files bring the estimate down
            return spaceMergeRunning ? Math.max(0, debt) : debt;
        } finally {
            v.release();
        }
    }

    /**
     * The sequence number of the last write readers see: grows by one per put or delete (and per key a
     * partition drop removes from the memtable). Compaction pacing reads it to tell idle from busy.
     */
    public long lastSequence() {
        return visibleSeq;
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
            for (Segment s : v.segments) {
                rows += s.rows();
                tombs += s.tombstones();
                mapped += s.fileSize();
            }
            long logBytes;
            long c;
            long f;
            long k;
            long kb;
            EngineStats.Compaction work;
            synchronized (this) {
                logBytes = log.size();
                c = commits;
                f = flushes;
                k = compactions;
                kb = compactedBytes;
                long pendingWork = minor != null ? minor.inputBytes() + compaction.inputBytes()
                        : compaction != null ? compaction.inputBytes()
                        : droppedCommitted.isEmpty() && plan() != null ? plan().inputBytes() : 0;
                CompactionPolicy.Estimate e = estimate(v.segments);
                work = new EngineStats.Compaction(compactionSteps, stepNanosTotal, stepNanosMax, stepNanosLast,
                        compactionBytesRead, compactedBytes, flushBytesWritten, rotatedLogBytes + log.size(),
                        e.liveBytes(), diskBytes(), e.maxRunsPerPartition(), pendingWork);
            }
            return new EngineStats(v.memtable.approximateBytes(), v.memtable.keyCount(), v.segments.size(), rows, tombs,
                    mapped, logBytes, lastCommitNanos, c, f, k, kb, work);
        } finally {
            v.release();
        }
    }

    /** The sampled live-byte estimate of a version's segments, computed once per segment list. */
    private CompactionPolicy.Estimate estimate(List<Segment> segments) {
        Object[] cache = estimateCache;
        if (cache[0] != segments) {
            liveSamples.retain(segments);
            try {
                cache = new Object[] {segments, CompactionPolicy.estimate(segments, config.partitioned(), liveSamples,
                        config.maxSpaceAmplification(), reservedBytes())};
            } catch (CorruptionException e) {
                corrupted(e); // sampling reads rows: damage found here stops the store like any read's
                throw e;
            }
            estimateCache = cache;
        }
        return (CompactionPolicy.Estimate) cache[1];
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

    private EngineException fail(EngineException e) {
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
     * Closes the store. Writes after the last commit are not kept (the changelog replays them). Open
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
            // A checkpoint the last commit deferred (a flush was in flight) is made now if nothing was
            // written since, so that the next open replays no more than it did when commits waited.
            try {
                awaitFlush();
                checkpointIfCommitted();
            } catch (RuntimeException e) {
                LOG.warn("MmapStore at {}: checkpoint at close failed; the next open replays the log", dir, e);
            }
        }
        closed = true;
        if (flushing != null) {
            // Never leave a flusher writing into a directory whose lock is about to be released.
            try {
                for (Segment s : flushing.get()) {
                    s.release(); // never installed: the next open deletes the file (no manifest names it)
                }
            } catch (Exception e) {
                LOG.debug("MmapStore at {}: background flush ended with {}", dir, e.toString());
            }
            flushing = null;
        }
        if (clean) {
            abortCompaction();
        } else if (compaction != null) {
            if (minor != null) {
                minor.abandon();
                minor = null;
            }
            compaction.abandon();
            compaction = null;
        }
        try {
            log.close();
        } catch (IOException e) {
            LOG.warn("MmapStore at {}: closing log failed", dir, e);
        }
        // Segments in `pending` (flushed, not yet committed) are NOT marked obsolete here: if a checkpoint
        // failed after its manifest rename (directory sync error, or a crash point in tests), the manifest
        // on disk already names them, and deleting them made the next open quarantine the store. The next
        // open deletes every segment file that its manifest does not name.
        current.release();
        closeQuietly(lock, lockChannel);
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return "StoreEngine[" + dir + "]";
    }

}
