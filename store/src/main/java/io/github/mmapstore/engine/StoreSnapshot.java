package io.github.mmapstore.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;

/**
 * A read-only view of a store directory as its last commit left it: the segments the manifest names and
 * the log records up to the last COMMIT record, exactly what {@link StoreEngine#open} would recover, but
 * without taking the directory's lock, replaying into new files, truncating a torn tail or moving damaged
 * files aside. Nothing in the directory is written. For the store inspector ({@code mmapstore} tool).
 *
 * <p><b>A store held open by a running engine</b> is read consistently: the manifest is read once, then
 * the files it names. An engine changes a directory only by adding files, appending to its newest log,
 * replacing the manifest atomically and then deleting files the new manifest no longer needs. So either
 * every file this snapshot needs is still there (and, once mapped or scanned, stays readable however the
 * engine goes on), or one has gone because a newer manifest replaced the one read; then the snapshot
 * starts again from the newer manifest. The view is the last commit at the time each log was scanned:
 * writes after it (the running engine's open transaction) are not part of it.
 *
 * <p>The committed log tail is replayed into memory: a snapshot needs heap for the committed, not yet
 * flushed writes (at most about the engine's memtable size per log file).
 */
public final class StoreSnapshot implements AutoCloseable {
    /** Format versions this build reads; the inspector reports them, as every file of a readable store has them. */
    public static final int MANIFEST_FORMAT_VERSION = Manifest.FORMAT_VERSION;
    public static final int SEGMENT_FORMAT_VERSION = SegmentFormat.VERSION;
    public static final int LOG_FORMAT_VERSION = LogFormat.VERSION;
    /** Column numbers below this are the engine's own; extension columns (embedding vectors, ...) use the rest. */
    public static final int FIRST_EXTENSION_COLUMN = 100;

    private static final int ATTEMPTS = 10;

    /** One entry of a segment's column directory. */
    public record ColumnInfo(int id, long offset, long length) {
    }

    /**
     * One segment named by the manifest.
     *
     * @param dropped a committed partition drop (retention of a window or session store) removed it from
     *                the view; the engine deletes the file at its next checkpoint
     */
    public record SegmentInfo(Path file, long number, long bytes, long rows, long tombstones, byte[] firstKey,
                              byte[] lastKey, List<ColumnInfo> columns, boolean dropped) {
        public SegmentInfo {
            columns = List.copyOf(columns);
        }

        /** Columns a store kind added (embedding vectors and norms, ...), numbered 100 and up. */
        public List<ColumnInfo> extraColumns() {
            return columns.stream().filter(c -> c.id() >= FIRST_EXTENSION_COLUMN).toList();
        }
    }

    /**
     * One log file the store still needs (number at or after the manifest's log start).
     *
     * @param validEnd     where its last intact frame ends; less than {@code bytes} when it ends torn
     * @param committedEnd where the committed part ends (the last COMMIT record of the store, if it is in
     *                     this file); bytes past it are cut off by the next open
     */
    public record LogInfo(Path file, long number, long bytes, long puts, long deletes, long commits,
                          long partitionDrops, long validEnd, long committedEnd) {
        public long records() {
            return puts + deletes + commits + partitionDrops;
        }

        public boolean tornTail() {
            return validEnd < bytes;
        }

        public long uncommittedBytes() {
            return bytes - committedEnd;
        }
    }

    /** Rows and bytes (key plus value) that a read of the store would return from one source. */
    public record Live(long rows, long bytes) {
    }

    /**
     * How the live entries divide among the sources: for each segment of {@link #segments()} (same
     * order), the rows that are the newest version of their key and no tombstone; and the same for the
     * committed log tail that no segment holds yet.
     */
    public record LiveSummary(List<Live> segments, Live logTail) {
        public LiveSummary {
            segments = List.copyOf(segments);
        }

        public long rows() {
            return logTail.rows() + segments.stream().mapToLong(Live::rows).sum();
        }

        public long bytes() {
            return logTail.bytes() + segments.stream().mapToLong(Live::bytes).sum();
        }
    }

    private final Path dir;
    private final long manifestBytes;
    private final long nextFileNumber;
    private final long manifestSeq;
    private final long lastSeq;
    private final long logStart;
    private final byte[] commitMetadata;
    private final boolean metadataFromLog;
    private final List<Segment> segments;
    private final List<SegmentInfo> segmentInfos;
    private final List<LogInfo> logs;
    private final List<Path> obsoleteLogs;
    private final Memtable tail;
    private final StoreFiles files;
    private final String corruptMarker;
    private boolean closed;

    private StoreSnapshot(Path dir, long manifestBytes, Manifest m, long lastSeq, byte[] metadata, boolean metadataFromLog,
                          List<Segment> segments, List<Boolean> dropped, List<LogInfo> logs, Memtable tail,
                          StoreFiles files, String corruptMarker) {
        this.dir = dir;
        this.manifestBytes = manifestBytes;
        this.nextFileNumber = m.nextFileNumber();
        this.manifestSeq = m.lastSeq();
        this.lastSeq = lastSeq;
        this.logStart = m.logStart();
        this.commitMetadata = metadata;
        this.metadataFromLog = metadataFromLog;
        this.segments = List.copyOf(segments);
        List<SegmentInfo> infos = new ArrayList<>();
        for (int i = 0; i < segments.size(); i++) {
            Segment s = segments.get(i);
            List<ColumnInfo> cols = new ArrayList<>();
            s.columnDirectory().forEach((id, c) -> cols.add(new ColumnInfo(id, c[0], c[1])));
            infos.add(new SegmentInfo(s.path(), s.number(), s.fileSize(), s.rows(), s.tombstones(), s.firstKey().clone(),
                    s.lastKey().clone(), cols, dropped.get(i)));
        }
        this.segmentInfos = List.copyOf(infos);
        this.logs = List.copyOf(logs);
        List<Path> obsolete = new ArrayList<>(m.logged() ? files.logs().headMap(m.logStart()).values()
                : files.logs().values());
        this.obsoleteLogs = List.copyOf(obsolete);
        this.tail = tail;
        this.files = files;
        this.corruptMarker = corruptMarker;
    }

    /** Whether {@code dir} holds a store: a manifest, numbered log or segment files, or a corruption marker. */
    public static boolean isStoreDirectory(Path dir) {
        try {
            return StoreFiles.looksLikeStore(dir);
        } catch (IOException e) {
            throw new EngineIOException("cannot list " + dir, e);
        }
    }

    /**
     * Reads the store in {@code dir} as its last commit left it.
     *
     * @param columns the extension the store was written with (embedding stores), or null to read the
     *                engine's own columns only (values of extension stores then lack their extra columns)
     * @throws EngineException             no manifest (not a store, or one whose creation was interrupted)
     * @throws CorruptionException         a checksum or structure check failed; {@code mmapstore verify} lists all
     * @throws IncompatibleFormatException a file has a format version this build does not read
     */
    public static StoreSnapshot open(Path dir, ColumnExtension columns) {
        for (int attempt = 1; ; attempt++) {
            byte[] manifest = readManifest(dir);
            try {
                return read(dir, columns, manifest);
            } catch (NoSuchFileException | CorruptionException e) {
                // A running engine may have replaced the manifest and deleted what the old one named.
                if (attempt < ATTEMPTS && !Arrays.equals(manifest, readManifest(dir))) {
                    continue;
                }
                if (e instanceof CorruptionException ce) {
                    throw ce;
                }
                Path missing = Path.of(((NoSuchFileException) e).getFile());
                throw new CorruptionException(missing, 0, "file needed by the manifest is missing");
            } catch (IOException e) {
                throw new EngineIOException("cannot read store " + dir, e);
            }
        }
    }

    private static byte[] readManifest(Path dir) {
        Path file = dir.resolve(FileNames.MANIFEST);
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new EngineException("no " + FileNames.MANIFEST + " in " + dir
                    + ": not a store directory, or a store whose creation was interrupted (it opens empty)");
        } catch (IOException e) {
            throw new EngineIOException("cannot read " + file, e);
        }
    }

    private static StoreSnapshot read(Path dir, ColumnExtension columns, byte[] manifestBytes) throws IOException {
        Manifest m = Manifest.decode(dir.resolve(FileNames.MANIFEST), manifestBytes);
        StoreFiles files = StoreFiles.list(dir);
        String marker = null;
        if (files.hasCorruptMarker()) {
            try {
                marker = Files.readString(dir.resolve(FileNames.CORRUPT_MARKER));
            } catch (NoSuchFileException gone) {
                marker = null;
            }
        }
        List<Segment> segs = new ArrayList<>();
        try {
            for (Manifest.SegmentRef ref : m.segments()) {
                Path p = FileNames.segment(dir, ref.number());
                Segment s = Segment.open(p, ref.number(), columns);
                segs.add(s);
                if (s.fileSize() != ref.fileSize()) {
                    throw new CorruptionException(p, s.fileSize(), "segment has " + s.fileSize() + " bytes, the manifest says " + ref.fileSize());
                }
                if (s.rows() != ref.rows()) {
                    throw new CorruptionException(p, 0, "segment has " + s.rows() + " rows, the manifest says " + ref.rows());
                }
            }
            if (!m.logged()) {
                // Without a log the manifest is the committed state (logs left here are leftovers the next
                // open deletes).
                List<Boolean> none = new ArrayList<>(java.util.Collections.nCopies(segs.size(), false));
                return new StoreSnapshot(dir, manifestBytes.length, m, m.lastSeq(), m.metadata(), false, segs, none,
                        List.of(), new Memtable(), files, marker);
            }
            List<Long> needed = new ArrayList<>(files.logs().tailMap(m.logStart()).keySet());
            if (needed.isEmpty() || needed.get(0) != m.logStart()) {
                throw new NoSuchFileException(FileNames.log(dir, m.logStart()).toString());
            }

            // Pass 1: recovery's rules, recovery's code.
            LogChain chain = LogChain.read(dir, m, files.logs());
            LogChain.CommitPoint cp = chain.commit();

            // Pass 2: replay the committed records into memory.
            Memtable mem = new Memtable();
            List<Boolean> dropped = new ArrayList<>(java.util.Collections.nCopies(segs.size(), false));
            long seq = m.lastSeq();
            if (cp != null) {
                LogChain.IntoMemtable replay = new LogChain.IntoMemtable(m.lastSeq()) {
                    @Override
                    Memtable memtable() {
                        return mem;
                    }

                    @Override
                    public void dropBelow(long below) {
                        seq = mem.tombstoneBelow(Recovery.partitionKey(below), seq);
                        for (int i = 0; i < segs.size(); i++) {
                            if (Long.compareUnsigned(segs.get(i).partition(), below) < 0) {
                                dropped.set(i, true);
                            }
                        }
                    }
                };
                chain.replayCommitted(replay);
                seq = Math.max(Math.max(replay.seq, cp.seq()), m.lastSeq());
            }

            List<LogInfo> logs = new ArrayList<>();
            for (LogChain.LogScan r : chain.scans()) {
                long number = r.number();
                long committedEnd;
                if (cp != null && number < cp.logNumber()) {
                    committedEnd = r.validEnd();
                } else if (cp != null && number == cp.logNumber()) {
                    committedEnd = cp.end();
                } else {
                    committedEnd = Math.min(r.fileSize(), LogFormat.FILE_HEADER_BYTES);
                }
                logs.add(new LogInfo(r.file(), number, r.fileSize(), r.puts(), r.deletes(), r.commits(), r.partitionDrops(),
                        r.validEnd(), committedEnd));
            }
            byte[] metadata = cp != null ? cp.metadata() : m.metadata();
            return new StoreSnapshot(dir, manifestBytes.length, m, seq, metadata, cp != null, segs, dropped, logs, mem,
                    files, marker);
        } catch (IOException | RuntimeException e) {
            for (Segment s : segs) {
                s.release();
            }
            throw e;
        }
    }

    public Path directory() {
        return dir;
    }

    /** Size of the manifest file read. */
    public long manifestBytes() {
        return manifestBytes;
    }

    /**
     * The manifest's next file number. File numbers only grow and every manifest a store writes follows
     * a new file (a flushed segment, a compaction output or a log), so this also orders manifests.
     */
    public long nextFileNumber() {
        return nextFileNumber;
    }

    /** Sequence number of the last write the manifest's segments hold. */
    public long manifestSeq() {
        return manifestSeq;
    }

    /** Sequence number of the last committed write (manifest plus committed log tail). */
    public long lastSeq() {
        return lastSeq;
    }

    /** The first log file the store still needs; 0 for a store without a log. */
    /**
     * The format version of this store's manifest: 2 for a store with a log, 3 for one without (see
     * {@code Manifest}); {@link #MANIFEST_FORMAT_VERSION} is the newest this build reads.
     */
    public int manifestFormatVersion() {
        return logStart == Manifest.NO_LOG ? Manifest.FORMAT_VERSION : Manifest.LOGGED_FORMAT_VERSION;
    }

    public long logStart() {
        return logStart;
    }

    /** The metadata of the last commit (Kafka stores: changelog offsets and position), or null. */
    public byte[] commitMetadata() {
        return commitMetadata == null ? null : commitMetadata.clone();
    }

    /** Whether the last commit is a COMMIT record in the log (else the manifest's checkpoint is the last commit). */
    public boolean commitInLog() {
        return metadataFromLog;
    }

    /** The manifest's segments, newest first. */
    public List<SegmentInfo> segments() {
        return segmentInfos;
    }

    /** The log files the store still needs, oldest first. */
    public List<LogInfo> logs() {
        return logs;
    }

    /** Log files before the manifest's log start: no longer needed, deleted by the next open or checkpoint. */
    public List<Path> obsoleteLogs() {
        return obsoleteLogs;
    }

    /** Segment files in the directory that the manifest does not name (uncommitted flush or compaction outputs). */
    public List<Path> unreferencedSegments() {
        List<Path> out = new ArrayList<>();
        for (Map.Entry<Long, Path> e : files.segments().entrySet()) {
            if (segmentInfos.stream().noneMatch(s -> s.number() == e.getKey())) {
                out.add(e.getValue());
            }
        }
        return out;
    }

    /** Folders into which an earlier open moved damaged files. */
    public List<Path> quarantines() {
        return files.quarantines();
    }

    /** Leftovers of an unfinished write (deleted by the next open). */
    public List<Path> temporaryFiles() {
        return files.temps();
    }

    /**
     * The text of the corruption marker a running engine left when a read found damage, if present: the
     * next open moves every file aside and starts empty.
     */
    public Optional<String> corruptionMarker() {
        return Optional.ofNullable(corruptMarker);
    }

    /** Committed writes in the log that no segment holds yet (keys, tombstones included). */
    public long logTailKeys() {
        return tail.keyCount();
    }

    /** The value bytes of the first non-tombstone row of a segment that has extension columns, as stored (without them). */
    public Optional<byte[]> sampleStoredValue() {
        for (Segment s : segments) {
            if (s.columnDirectory().keySet().stream().noneMatch(id -> id >= FIRST_EXTENSION_COLUMN)) {
                continue;
            }
            for (long r = 0; r < s.rows(); r++) {
                if (!s.isTombstone(r)) {
                    return Optional.of(s.storedValue(r));
                }
            }
        }
        return Optional.empty();
    }

    /** Walks every live entry once and divides rows and bytes among the sources. Reads every live row. */
    public LiveSummary liveSummary() {
        checkOpen();
        Map<Segment, long[]> perSegment = new IdentityHashMap<>();
        for (Segment s : segments) {
            perSegment.put(s, new long[2]);
        }
        long[] log = new long[2];
        MergeCursor c = cursor(null, null);
        while (c.nextRaw()) {
            Segment seg = c.winnerSegment();
            if (seg != null) {
                long row = c.winnerRow();
                if (!seg.isTombstone(row)) {
                    long[] t = perSegment.get(seg);
                    t[0]++;
                    t[1] += c.key().length + seg.value(row).length;
                }
            } else if (c.value() != null) {
                log[0]++;
                log[1] += c.key().length + c.value().length;
            }
        }
        List<Live> segs = new ArrayList<>();
        for (Segment s : segments) {
            long[] t = perSegment.get(s);
            segs.add(new Live(t[0], t[1]));
        }
        return new LiveSummary(segs, new Live(log[0], log[1]));
    }

    /**
     * Live entries with keys in {@code [from, to]} (null = open) in key order, as a read of the store
     * would return them. Valid until {@link #close()}.
     */
    public Iterator<KeyValue> range(byte[] from, byte[] to) {
        checkOpen();
        if (from != null && to != null && KeyOrder.compare(from, to) > 0) {
            return java.util.Collections.emptyIterator();
        }
        MergeCursor c = cursor(from, to);
        return new Iterator<>() {
            private KeyValue next;

            @Override
            public boolean hasNext() {
                checkOpen();
                while (next == null && c.next()) {
                    if (c.value() != null) {
                        next = new KeyValue(c.key(), c.value());
                    }
                }
                return next != null;
            }

            @Override
            public KeyValue next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                KeyValue kv = next;
                next = null;
                return kv;
            }
        };
    }

    private MergeCursor cursor(byte[] from, byte[] to) {
        List<MergeCursor.Source> sources = new ArrayList<>();
        sources.add(new MergeCursor.MemtableSource(tail, Long.MAX_VALUE, from, true, to, true, false));
        for (int i = 0; i < segments.size(); i++) {
            Segment s = segments.get(i);
            if (!segmentInfos.get(i).dropped() && s.overlaps(from, true, to, true)) {
                sources.add(new MergeCursor.SegmentSource(s, from, true, to, true, false));
            }
        }
        return new MergeCursor(sources, false);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("snapshot of " + dir + " is closed");
        }
    }

    /** Unmaps the segments. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            for (Segment s : segments) {
                s.release();
            }
        }
    }
}
