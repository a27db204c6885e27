package io.github.mmapstore.engine;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;

/**
 * The rules that decide, from the logs a manifest still needs, where a store's last commit is and whether
 * the logs lost committed records. Recovery ({@link StoreEngine#open}), the read-only
 * {@link StoreSnapshot} and the {@link StoreVerifier} all apply them through this class, so that what the
 * tools report is what an open would do.
 *
 * <p>The rules:
 * <ul>
 * <li>The last COMMIT record in the needed logs (oldest first) is the commit point.</li>
 * <li>A log <em>ends early</em> when it ends torn (see {@link LogScanner}), or when it is not the last
 *     needed log and its last frame is not the END frame naming the next needed log: a rotated log that
 *     lost its tail at a frame boundary. That is harmless when no later log holds a commit (the commit
 *     that would have synced it never happened), and corruption when one does (that commit claims the
 *     lost records).</li>
 * <li>A manifest whose checkpoint ends in its first log ({@link Manifest#commitEnd()} &gt; 0) needs a commit
 *     at or beyond that position: without one, the records between the log's start and that COMMIT record
 *     are gone while the manifest's metadata claims them.</li>
 * </ul>
 *
 * <p>Damage inside a log (a checksum mismatch, a bad record length) ends {@link #read} with its
 * {@link CorruptionException}, as it ends an open. The verifier, which lists every problem, scans each log
 * with {@link #check} instead (damage there ends the scan, marked {@linkplain LogScan#damaged() damaged},
 * not the caller) and applies the rules to what the scans found with {@link #judge}.
 */
final class LogChain {
    /** Where a COMMIT record ends, and what it committed. */
    record CommitPoint(long logNumber, long end, long seq, byte[] metadata) {
    }

    /**
     * What one scan of a log found.
     *
     * @param validEnd   where its last intact frame ends (where the damage is, for a damaged scan)
     * @param lastCommit the last COMMIT record in it, or null
     * @param endsWith   the log number the END frame names when that is its last frame, else -1
     * @param damaged    the scan stopped at damage (verifier only; strict callers never see such a scan)
     * @param recordsBeforeLastCommit PUT and DELETE records before {@code lastCommit} (0 without one)
     */
    record LogScan(long number, Path file, long fileSize, long validEnd, long puts, long deletes, long commits,
                   long partitionDrops, CommitPoint lastCommit, long endsWith, boolean damaged,
                   long recordsBeforeLastCommit) {
        /** A log whose header this build cannot read (another format version): damaged from its start. */
        static LogScan unreadable(long number, Path file, long fileSize) {
            return new LogScan(number, file, fileSize, 0, 0, 0, 0, 0, null, -1, true, 0);
        }

        boolean torn() {
            return !damaged && validEnd < fileSize;
        }
    }

    /**
     * A needed log that ends early: torn, or cut short of the END frame naming its successor.
     *
     * @param torn         it ends in a torn frame ({@code log.fileSize() - log.validEnd()} bytes), else
     *                     it ends at a frame boundary but lacks its END frame
     * @param beforeCommit a later log holds a commit: the lost records were committed (corruption)
     */
    record EarlyEnd(LogScan log, boolean torn, boolean beforeCommit) {
        long at() {
            return log.validEnd();
        }
    }

    private final List<LogScan> scans;
    private final CommitPoint commit;
    private final List<EarlyEnd> earlyEnds;
    private final CorruptionException commitShort;

    private LogChain(List<LogScan> scans, CommitPoint commit, List<EarlyEnd> earlyEnds, CorruptionException commitShort) {
        this.scans = List.copyOf(scans);
        this.commit = commit;
        this.earlyEnds = List.copyOf(earlyEnds);
        this.commitShort = commitShort;
    }

    /**
     * Scans the logs {@code m} still needs (numbers from its log start on) and applies the rules.
     *
     * @throws CorruptionException damage inside a log, or a broken rule (as {@link #requireIntact()})
     */
    static LogChain read(Path dir, Manifest m, SortedMap<Long, Path> logs) throws IOException {
        List<LogScan> scans = new ArrayList<>();
        for (var e : logs.tailMap(m.logStart()).entrySet()) {
            scans.add(scan(e.getValue(), e.getKey()));
        }
        LogChain chain = judge(dir, m.logStart(), m.commitEnd(), scans);
        chain.requireIntact();
        return chain;
    }

    /**
     * Scans one log file, checking every frame's checksum and every COMMIT and END record's length.
     *
     * @throws CorruptionException at the first damage
     */
    private static LogScan scan(Path p, long number) throws IOException {
        Frames frames = new Frames(p, number, null);
        LogScanner.Result r = LogScanner.scan(p, number, frames);
        return frames.scan(r.fileSize(), r.validEnd(), false);
    }

    /** A scan, and the damage that stopped it (null when it read to the end). */
    record Checked(LogScan scan, CorruptionException damage) {
    }

    /**
     * As {@link #scan}, but damage ends the scan instead of the caller: the verifier lists it and goes on,
     * judging the chain with what the scan found before it.
     *
     * @param size  the file's size as the caller read it
     * @param extra further checks of each frame (the verifier's payload rules), or null
     */
    static Checked check(Path p, long number, long size, LogScanner.Visitor extra) throws IOException {
        Frames frames = new Frames(p, number, extra);
        try {
            LogScanner.Result r = LogScanner.scan(p, number, frames);
            return new Checked(frames.scan(r.fileSize(), r.validEnd(), false), null);
        } catch (CorruptionException e) {
            return new Checked(frames.scan(size, e.offset(), true), e);
        }
    }

    /** Collects what {@link LogScan} reports while the frames go by. */
    private static final class Frames implements LogScanner.Visitor {
        private final Path p;
        private final long number;
        private final LogScanner.Visitor extra;
        private final long[] counts = new long[LogFormat.END + 1];
        private CommitPoint lastCommit;
        private long recordsBeforeLastCommit;
        private long endsWith = -1;

        Frames(Path p, long number, LogScanner.Visitor extra) {
            this.p = p;
            this.number = number;
            this.extra = extra;
        }

        @Override
        public void frame(byte type, MemorySegment payload, long off, long end) throws IOException {
            if (extra != null) {
                extra.frame(type, payload, off, end);
            }
            counts[type]++;
            endsWith = -1;
            if (type == LogFormat.COMMIT) {
                lastCommit = commitPoint(number, end, payload, p, off);
                recordsBeforeLastCommit = counts[LogFormat.PUT] + counts[LogFormat.DELETE];
            } else if (type == LogFormat.END) {
                if (payload.byteSize() != 8) {
                    throw new CorruptionException(p, off, "log end record has a bad length");
                }
                endsWith = payload.get(SegmentFormat.U64, 0);
            }
        }

        LogScan scan(long fileSize, long validEnd, boolean damaged) {
            return new LogScan(number, p, fileSize, validEnd, counts[LogFormat.PUT], counts[LogFormat.DELETE],
                    counts[LogFormat.COMMIT], counts[LogFormat.DROP_BELOW], lastCommit, damaged ? -1 : endsWith, damaged,
                    recordsBeforeLastCommit);
        }
    }

    /**
     * Applies the rules to the scans of the needed logs, oldest first. A damaged scan contributes the
     * commits found before its damage; whether it ends early is not judged (the damage is the finding).
     *
     * @param commitEnd the manifest's {@link Manifest#commitEnd()} (0 when nothing is needed from the log)
     */
    static LogChain judge(Path dir, long logStart, long commitEnd, List<LogScan> scans) {
        CommitPoint cp = null;
        for (LogScan s : scans) {
            if (s.lastCommit() != null) {
                cp = s.lastCommit();
            }
        }
        List<EarlyEnd> early = new ArrayList<>();
        for (int i = 0; i < scans.size(); i++) {
            LogScan s = scans.get(i);
            if (s.damaged()) {
                continue;
            }
            // Logs rotated since the last commit are synced only by the next commit, so after a power
            // loss any of them may end torn (or lack its header). That is harmless as long as no commit
            // follows the damage: the commit that would have synced them never happened. A log that
            // has a successor but does not end with the END frame naming it lost its tail: the same.
            boolean cutShort = i + 1 < scans.size() && s.endsWith() != scans.get(i + 1).number();
            if (s.torn() || cutShort) {
                early.add(new EarlyEnd(s, s.torn(), cp != null && cp.logNumber() > s.number()));
            }
        }
        CorruptionException commitShort = null;
        if (commitEnd > 0 && (cp == null || cp.logNumber() == logStart && cp.end() < commitEnd)) {
            // the log lost records that the manifest's checkpoint holds only there
            commitShort = new CorruptionException(FileNames.log(dir, logStart), commitEnd,
                    "log ends before the commit the manifest records (its COMMIT record ends at byte " + commitEnd + ")");
        }
        return new LogChain(scans, cp, early, commitShort);
    }

    /** Throws what recovery refuses, in the order it checks: the manifest's commit first, then lost committed records. */
    void requireIntact() {
        if (commitShort != null) {
            throw commitShort;
        }
        for (EarlyEnd e : earlyEnds) {
            if (e.beforeCommit()) {
                throw new CorruptionException(e.log().file(), e.at(),
                        "log file ends early (a torn record, or cut short of its END record) but a later log file holds a commit");
            }
        }
    }

    /** The scans of the needed logs, oldest first. */
    List<LogScan> scans() {
        return scans;
    }

    /** What replaying the committed records does with each one, in log order. */
    interface CommittedRecords {
        void put(byte[] key, byte[] value) throws IOException;

        void delete(byte[] key) throws IOException;

        /** Every key of a partition below {@code partition} is gone (partitioned engines). */
        void dropBelow(long partition) throws IOException;
    }

    /**
     * Replays into a memtable under consecutive sequence numbers after {@code seq}; subclasses say what
     * a partition drop does and what happens after each record (recovery flushes a full memtable).
     */
    abstract static class IntoMemtable implements CommittedRecords {
        /** The sequence number of the last record replayed. */
        long seq;

        IntoMemtable(long fromSeq) {
            this.seq = fromSeq;
        }

        /** Where the next record goes (recovery swaps in a new memtable after a flush). */
        abstract Memtable memtable();

        @Override
        public void put(byte[] key, byte[] value) throws IOException {
            memtable().put(key, value, ++seq);
            afterRecord();
        }

        @Override
        public void delete(byte[] key) throws IOException {
            memtable().put(key, null, ++seq);
            afterRecord();
        }

        void afterRecord() throws IOException {
        }
    }

    /**
     * Decodes every record of the scanned logs up to the commit point, as recovery replays them (nothing
     * when there is no commit). The caller owns sequence numbers, memtables and segments.
     */
    void replayCommitted(CommittedRecords sink) throws IOException {
        CommitPoint cp = commit();
        if (cp == null) {
            return;
        }
        for (LogScan scan : scans) {
            long number = scan.number();
            if (number > cp.logNumber()) {
                break;
            }
            Path p = scan.file();
            long limit = number == cp.logNumber() ? cp.end() : Long.MAX_VALUE;
            LogScanner.scan(p, number, limit, (type, payload, off, end) -> {
                if (type == LogFormat.PUT) {
                    int[] kl = LogScanner.readVarint(payload, p, off);
                    byte[] key = Segment.copy(payload, kl[1], kl[0]);
                    byte[] value = Segment.copy(payload, kl[1] + kl[0], payload.byteSize() - kl[1] - kl[0]);
                    sink.put(key, value);
                } else if (type == LogFormat.DELETE) {
                    sink.delete(Segment.copy(payload, 0, payload.byteSize()));
                } else if (type == LogFormat.DROP_BELOW) {
                    if (payload.byteSize() != 8) {
                        throw new CorruptionException(p, off, "partition drop record has a bad length");
                    }
                    sink.dropBelow(payload.get(SegmentFormat.U64, 0));
                }
            });
        }
    }

    /** What {@link #replayCommitted} would replay: its PUT and DELETE records and the log bytes it reads. */
    record CommittedTail(long records, long logBytes, boolean dropsPartitions) {
    }

    /** The committed records after the manifest's checkpoint (nothing when there is no commit). */
    CommittedTail committedTail() {
        CommitPoint cp = commit();
        long records = 0;
        long bytes = 0;
        boolean drops = false;
        if (cp != null) {
            for (LogScan scan : scans) {
                if (scan.number() > cp.logNumber()) {
                    break;
                }
                boolean last = scan.number() == cp.logNumber();
                records += last ? scan.recordsBeforeLastCommit() : scan.puts() + scan.deletes();
                bytes += last ? cp.end() : scan.validEnd();
                // counted over the whole file: a drop after the commit point makes this conservative only
                drops |= scan.partitionDrops() > 0;
            }
        }
        return new CommittedTail(records, bytes, drops);
    }

    /** The last commit in the needed logs, or null (the manifest's checkpoint is the last commit). */
    CommitPoint commit() {
        return commit;
    }

    /** Every needed log that ends early, oldest first. */
    List<EarlyEnd> earlyEnds() {
        return earlyEnds;
    }

    /** The first needed log that ends early: where recovery cuts off what was never committed. */
    Optional<EarlyEnd> firstEarlyEnd() {
        return earlyEnds.stream().findFirst();
    }

    /** The manifest records a commit in its first log that the log no longer reaches. */
    Optional<CorruptionException> commitShort() {
        return Optional.ofNullable(commitShort);
    }

    private static CommitPoint commitPoint(long number, long end, MemorySegment payload, Path p, long off) {
        if (payload.byteSize() < 9) {
            throw new CorruptionException(p, off, "commit record too short");
        }
        long s = payload.get(SegmentFormat.U64, 0);
        boolean has = payload.get(ValueLayout.JAVA_BYTE, 8) != 0;
        byte[] meta = has ? Segment.copy(payload, 9, payload.byteSize() - 9) : null;
        return new CommitPoint(number, end, s, meta);
    }
}
