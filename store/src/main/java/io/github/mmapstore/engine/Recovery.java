package io.github.mmapstore.engine;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens a store directory at its last committed state (see docs/architecture.md, "Recovery"): the
 * manifest's segments, checked; with a log, the committed records after the manifest's checkpoint
 * (replayed now, or left to the first use when they are few); everything after the last commit and every
 * file no manifest names, deleted. A store written in the other durability mode is carried over: one with
 * a log that now opens without one replays its committed tail, writes it out and checkpoints, then drops
 * its logs; one without a log that now opens with one starts a new log.
 *
 * <p>Damage raises {@link CorruptionException}; the caller quarantines and opens empty.
 */
final class Recovery {
    private static final Logger LOG = LoggerFactory.getLogger(Recovery.class);

    private Recovery() {
    }

    /** What recovery hands to the engine. */
    static final class Recovered {
        boolean created;
        /** The log to append to, or null without a log. */
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

    static Recovered recover(Path dir, EngineConfig config) throws IOException {
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
            long next = Math.max(maxNumber + 1, 1);
            r.created = true;
            if (config.log()) {
                r.log = LogWriter.create(dir, next, config.logBufferBytes(), config.fsync());
                r.manifest = new Manifest(next + 1, 0, next, 0, List.of(), null);
                r.nextFileNumber = next + 1;
            } else {
                r.manifest = new Manifest(next, 0, Manifest.NO_LOG, 0, List.of(), null);
                r.nextFileNumber = next;
            }
            r.manifest.write(dir, config.fsync(), FaultInjector.NONE);
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
            if (m.logged()) {
                recoverLogged(dir, config, m, logs, r);
            } else {
                recoverUnlogged(dir, config, logs, r);
            }
            // Segment files no manifest names: outputs of flushes or compactions that never committed.
            Set<Long> live = new HashSet<>();
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

    /**
     * A store without a log: the manifest is the committed state, there is nothing to replay. Logs can
     * only be leftovers (an interrupted carry-over from a logged store deleted them last): gone. With a log
     * wanted now, a new one is started and named by a new manifest.
     */
    private static void recoverUnlogged(Path dir, EngineConfig config, SortedMap<Long, Path> logs, Recovered r)
            throws IOException {
        for (Path p : logs.values()) {
            Files.deleteIfExists(p);
        }
        if (config.log()) {
            long newLog = r.nextFileNumber++;
            r.log = LogWriter.create(dir, newLog, config.logBufferBytes(), config.fsync());
            r.manifest = new Manifest(r.nextFileNumber, r.seq, newLog, 0, r.manifest.segments(), r.metadata);
            r.manifest.write(dir, config.fsync(), FaultInjector.NONE);
            LOG.info("MmapStore at {}: opened with a log (it had none): new log {}", dir, newLog);
        }
    }

    /**
     * A store with a log: pass 1 finds the last commit in the logs the manifest still needs, pass 2
     * replays the records up to it (now, or at the first use), everything after it is cut off.
     */
    private static void recoverLogged(Path dir, EngineConfig config, Manifest m, SortedMap<Long, Path> logs,
                                      Recovered r) throws IOException {
        if (!logs.containsKey(m.logStart())) {
            throw new CorruptionException(FileNames.log(dir, m.logStart()), 0, "log file named by the manifest is missing");
        }
        List<Long> needed = new ArrayList<>(logs.tailMap(m.logStart()).keySet());
        LogChain chain = LogChain.read(dir, m, logs);
        LogChain.CommitPoint cp = chain.commit();

        // Pass 2: replay up to the commit point into the memtable, flushing as it fills; or, when the
        // committed tail drops no partition and is at most two memtables of log (what a running store
        // holds in memory anyway: the memtable and the one being flushed; a commit during a flush
        // leaves both in the logs), leave that to the first read or write. A store that no longer keeps
        // a log replays now: its logs go at the end of this open.
        List<Segment> flushed = new ArrayList<>();
        List<Segment> droppedSegs = r.droppedDuringRecovery;
        boolean[] dropped = {false};
        LogChain.CommittedTail tail = chain.committedTail();
        if (cp != null && config.log() && !tail.dropsPartitions() && tail.logBytes() <= 2 * config.memtableBytes()) {
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
                    Recovery.dropBelow(r.segments, below, droppedSegs);
                    Recovery.dropBelow(flushed, below, null);
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
                        flushed.addAll(0, MemtableFlush.write(dir, () -> r.nextFileNumber++, r.memtable, MemtableFlush.newest(),
                                below, config.partitioned(), config.columns(), config.fsync()));
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

        if (!flushed.isEmpty() || dropped[0] || !config.log()) {
            // Recovery wrote segments of its own, dropped partitions, or leaves the log behind: checkpoint
            // now, so that the manifest names exactly the files kept and the next open replays nothing.
            List<Segment> below = new ArrayList<>(flushed);
            below.addAll(r.segments);
            flushed.addAll(0, MemtableFlush.write(dir, () -> r.nextFileNumber++, r.memtable, MemtableFlush.newest(),
                    below, config.partitioned(), config.columns(), config.fsync()));
            r.memtable = new Memtable();
            List<Segment> all = new ArrayList<>(flushed);
            all.addAll(r.segments);
            r.segments = all;
            if (config.log()) {
                long newLog = r.nextFileNumber++;
                r.log = LogWriter.create(dir, newLog, config.logBufferBytes(), config.fsync());
                r.manifest = new Manifest(r.nextFileNumber, r.seq, newLog, 0, VersionSet.refs(all), r.metadata);
            } else {
                r.manifest = new Manifest(r.nextFileNumber, r.seq, Manifest.NO_LOG, 0, VersionSet.refs(all), r.metadata);
                LOG.info("MmapStore at {}: opened without a log (it had one): {} committed log records written out, logs deleted",
                        dir, r.replayed);
            }
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
    static void dropBelow(List<Segment> segments, long partition, List<Segment> removed) {
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

    /** Moves every store file into a new quarantine folder (never deletes them). */
    static Path quarantine(Path dir) throws IOException {
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
}
