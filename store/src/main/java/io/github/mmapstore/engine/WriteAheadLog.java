package io.github.mmapstore.engine;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The store's own log, for a store that has no other log of record (a Kafka store without a changelog,
 * or the engine on its own): every write is appended as a CRC32C-framed record, and a commit is one
 * COMMIT record and one sync, so the store opens at exactly its last commit after a crash. The log
 * rotates to a new file whenever a memtable is frozen, so that a checkpoint can start the log where
 * the frozen memtable's records end.
 *
 * <p>Also holds what an open left to the first use: the committed records after the manifest's
 * checkpoint, replayed into the memtable only when something reads or writes (see
 * {@link StoreEngine}'s recovery notes). Called with the engine's monitor held.
 */
final class WriteAheadLog {
    private final Path dir;
    private final EngineConfig config;
    private LogWriter log;
    /**
     * Files written since the last commit without a sync (rotated logs, flushed and pending-merged
     * segments). Synced, with the directory, before the next COMMIT record: a commit that reaches the
     * device implies everything it depends on did.
     */
    private final List<Path> unsynced = new ArrayList<>();
    private long rotatedBytes;
    /** The sequence number the last commit made durable, the log it went to and where its COMMIT record ends. */
    private long commitSeq = -1;
    private long commitLog = -1;
    private long commitLogEnd = -1;
    /** Logs whose committed records are not in the memtable yet, or null (replayed already). */
    private volatile LogChain deferred;
    /** The sequence number the deferred records follow (the manifest's). */
    private final long deferredFromSeq;

    WriteAheadLog(Path dir, EngineConfig config, LogWriter log, LogChain deferred, long deferredFromSeq) {
        this.dir = dir;
        this.config = config;
        this.log = log;
        this.deferred = deferred;
        this.deferredFromSeq = deferredFromSeq;
    }

    long number() {
        return log.number();
    }

    long size() {
        return log.size();
    }

    Path path() {
        return log.path();
    }

    /** Bytes appended to log files since open. */
    long bytesWritten() {
        return rotatedBytes + log.size();
    }

    void appendPut(byte[] key, byte[] value) throws IOException {
        log.appendPut(key, value);
    }

    void appendDelete(byte[] key) throws IOException {
        log.appendDelete(key);
    }

    void appendDropBelow(long partition) throws IOException {
        log.appendDropBelow(partition);
        commitSeq = -1; // the log no longer ends with the last COMMIT record
    }

    /**
     * Appends a COMMIT record for everything up to {@code seq} and syncs: durable on return. Every file
     * written since the last commit is synced first, with the directory.
     */
    void commit(long seq, byte[] metadata, FaultInjector faults) throws IOException {
        syncDeferred();
        log.appendCommit(seq, metadata);
        faults.at(FaultInjector.Point.COMMIT_BEFORE_FSYNC);
        log.sync(config.fsync());
        faults.at(FaultInjector.Point.COMMIT_AFTER_FSYNC);
        commitSeq = seq;
        commitLog = log.number();
        commitLogEnd = log.size();
    }

    /** Whether nothing was appended since the commit of {@code seq}: the log ends with its COMMIT record. */
    boolean endsWithCommitOf(long seq) {
        return seq == commitSeq && log.number() == commitLog && log.size() == commitLogEnd;
    }

    /** A segment written since the last commit (a pending merge's output): synced by the next commit. */
    void syncBeforeNextCommit(Path file) {
        unsynced.add(file);
    }

    /**
     * Ends the current log with an END record naming {@code nextNumber} and continues in a new file; the
     * old one is synced before the next COMMIT record (the flusher usually has by then). Returns the old
     * file.
     */
    Path rotate(long nextNumber) throws IOException {
        log.appendEnd(nextNumber);
        log.drain();
        Path rotated = log.path();
        unsynced.add(rotated);
        LogWriter next = LogWriter.create(dir, nextNumber, config.logBufferBytes(), false);
        rotatedBytes += log.size();
        log.close();
        log = next;
        return rotated;
    }

    private void syncDeferred() throws IOException {
        if (unsynced.isEmpty()) {
            return;
        }
        if (config.fsync()) {
            for (Path p : unsynced) {
                try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                    ch.force(true);
                } catch (NoSuchFileException gone) {
                    // merged away (or dropped) since: nothing left to make durable
                }
            }
            Manifest.syncDirectory(dir);
        }
        unsynced.clear();
    }

    // ---- the committed tail an open left to the first use --------------------------------------

    boolean replayPending() {
        return deferred != null;
    }

    /**
     * Replays the committed records an open left in the logs into {@code mem}; returns the sequence number
     * of the last one, or -1 if there was nothing to replay. Only up to the commit point: records appended
     * since the open (COMMIT records of commits made since) are not read.
     */
    long replayDeferred(Memtable mem) throws IOException {
        LogChain chain = deferred;
        if (chain == null) {
            return -1;
        }
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
        chain.replayCommitted(replay);
        deferred = null;
        return replay.seq;
    }

    long deferredFromSeq() {
        return deferredFromSeq;
    }

    void close() throws IOException {
        log.close();
    }
}
