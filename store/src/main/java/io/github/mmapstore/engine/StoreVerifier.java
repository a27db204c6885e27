package io.github.mmapstore.engine;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/**
 * Reads every byte of a store directory and checks every checksum and structure rule that
 * {@link StoreEngine#open} and reads rely on: the manifest, every page, the checksum table, footer and
 * trailer of each segment (plus key order, the prefix index, the bloom filter and the footer's key range
 * and counts), and every log frame. Read-only: no lock, no truncation, no quarantine.
 *
 * <p>Log tails follow {@link LogScanner}'s rules: a partial frame, a frame that runs past the end of the
 * file, or zeros to the end are a torn tail, which recovery cuts off ({@link Severity#RECOVERABLE}) as long
 * as no later log file holds a commit; any other mismatch is damage, wherever it lies, because recovery
 * treats it as such. Which logs end early (torn, or a rotated log cut short of its END record) and whether
 * the logs still reach the commit the manifest records are decided by {@link LogChain}, the code recovery
 * runs.
 *
 * <p>On a store that a running engine is changing, a file the manifest named may vanish when a newer
 * manifest replaces it; then the verification starts again from the newer manifest.
 */
public final class StoreVerifier {
    /** How bad a finding is. */
    public enum Severity {
        /** Recovery would move the store aside and start empty (or refuses it): data is lost or unreadable. */
        DAMAGE,
        /** A torn log tail after the last commit: the next open cuts it off and loses nothing committed. */
        RECOVERABLE,
        /** Worth knowing, harmless: leftovers, obsolete files, uncommitted writes, quarantine folders. */
        NOTE
    }

    /** One finding: which file, where in it, and what. */
    public record Finding(Severity severity, Path file, long offset, String what) {
    }

    /**
     * The outcome of one verification.
     *
     * @param bytesRead    bytes read and checked
     * @param segmentFiles segment files checked (named by the manifest or not)
     * @param logFiles     log files checked
     */
    public record Report(Path dir, List<Finding> findings, long bytesRead, int segmentFiles, int logFiles) {
        public Report {
            findings = List.copyOf(findings);
        }

        public boolean damaged() {
            return findings.stream().anyMatch(f -> f.severity() == Severity.DAMAGE);
        }
    }

    private static final int ATTEMPTS = 10;
    /** Damaged pages listed per file; more are summarised in one line. */
    private static final int MAX_PAGES_LISTED = 20;

    private final Path dir;
    private final List<Finding> findings = new ArrayList<>();
    private long bytesRead;
    private int segmentFiles;
    private int logFiles;

    private StoreVerifier(Path dir) {
        this.dir = dir;
    }

    /** Verifies the store in {@code dir}. */
    public static Report verify(Path dir) {
        for (int attempt = 1; ; attempt++) {
            byte[] before = manifestOrNull(dir);
            StoreVerifier v = new StoreVerifier(dir);
            try {
                v.run(before);
            } catch (IOException e) {
                throw new EngineIOException("cannot read store " + dir, e);
            }
            byte[] after = manifestOrNull(dir);
            boolean changed = !Arrays.equals(before, after);
            if (changed && v.damaged() && attempt < ATTEMPTS) {
                continue; // a running engine replaced the manifest: what went missing may be its doing
            }
            if (changed) {
                v.add(Severity.NOTE, dir.resolve(FileNames.MANIFEST), 0,
                        "the manifest changed during verification (a running engine); the findings are of the manifest read first");
            }
            return new Report(dir, v.findings, v.bytesRead, v.segmentFiles, v.logFiles);
        }
    }

    private static byte[] manifestOrNull(Path dir) {
        try {
            return Files.readAllBytes(dir.resolve(FileNames.MANIFEST));
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new EngineIOException("cannot read the manifest of " + dir, e);
        }
    }

    private boolean damaged() {
        return findings.stream().anyMatch(f -> f.severity() == Severity.DAMAGE);
    }

    private void add(Severity severity, Path file, long offset, String what) {
        findings.add(new Finding(severity, file, offset, what));
    }

    private void run(byte[] manifestBytes) throws IOException {
        StoreFiles files = StoreFiles.list(dir);
        if (files.hasCorruptMarker()) {
            Path marker = dir.resolve(FileNames.CORRUPT_MARKER);
            String text;
            try {
                text = Files.readString(marker);
            } catch (NoSuchFileException gone) {
                text = "(marker vanished while read)";
            }
            add(Severity.DAMAGE, marker, 0, "a running engine found damage and marked the store; the next open moves every file aside and starts empty: " + text);
        }
        for (Path q : files.quarantines()) {
            add(Severity.NOTE, q, 0, "files moved aside after earlier damage (kept for inspection; the store does not read them)");
        }
        for (Path t : files.temps()) {
            add(Severity.NOTE, t, 0, "temporary file of an unfinished write (a running engine's, or a crash's leftover the next open deletes)");
        }

        Path manifestFile = dir.resolve(FileNames.MANIFEST);
        Manifest m = null;
        if (manifestBytes == null) {
            if (!files.segments().isEmpty()) {
                add(Severity.DAMAGE, manifestFile, 0, "manifest missing while " + files.segments().size()
                        + " segment files exist; the next open moves the store aside and starts empty");
            } else {
                add(Severity.NOTE, manifestFile, 0, "no manifest: a store whose creation was interrupted; it opens empty");
            }
        } else {
            bytesRead += manifestBytes.length;
            try {
                m = Manifest.decode(manifestFile, manifestBytes);
            } catch (CorruptionException e) {
                add(Severity.DAMAGE, e.file(), e.offset(), e.detail());
            } catch (IncompatibleFormatException e) {
                add(Severity.DAMAGE, manifestFile, 8, e.getMessage());
            }
        }

        if (m == null) {
            // Without a readable manifest nothing says which files are live: check them all, so that every
            // damaged file is listed.
            for (Map.Entry<Long, Path> e : files.segments().entrySet()) {
                verifySegment(e.getValue(), e.getKey(), -1, -1, Severity.DAMAGE);
            }
            if (!files.logs().isEmpty()) {
                verifyLogs(files.logs(), files.logs().firstKey(), 0);
            }
            return;
        }

        for (Manifest.SegmentRef ref : m.segments()) {
            Path p = FileNames.segment(dir, ref.number());
            if (!files.segments().containsKey(ref.number())) {
                add(Severity.DAMAGE, p, 0, "segment named by the manifest is missing");
                continue;
            }
            verifySegment(p, ref.number(), ref.fileSize(), ref.rows(), Severity.DAMAGE);
        }
        for (Map.Entry<Long, Path> e : files.segments().entrySet()) {
            if (m.segments().stream().noneMatch(r -> r.number() == e.getKey())) {
                add(Severity.NOTE, e.getValue(), 0, "not named by the manifest: an uncommitted flush or merge output "
                        + "(a running engine's), or a leftover the next open deletes");
                verifySegment(e.getValue(), e.getKey(), -1, -1, Severity.NOTE);
            }
        }

        if (!m.logged()) {
            for (Path p : files.logs().values()) {
                add(Severity.NOTE, p, 0, "log of a store that keeps none (left from before it stopped keeping one): "
                        + "deleted by the next open");
            }
            return;
        }
        for (long n : files.logs().headMap(m.logStart()).keySet()) {
            add(Severity.NOTE, files.logs().get(n), 0, "log before the manifest's log start " + m.logStart()
                    + ": no longer needed, deleted by the next open or checkpoint");
        }
        SortedMap<Long, Path> needed = files.logs().tailMap(m.logStart());
        if (!needed.containsKey(m.logStart())) {
            add(Severity.DAMAGE, FileNames.log(dir, m.logStart()), 0, "log file named by the manifest is missing");
        }
        if (!needed.isEmpty()) {
            verifyLogs(needed, m.logStart(), m.commitEnd());
        }
    }

    // ---- segments -------------------------------------------------------------------------------

    private void verifySegment(Path p, long number, long expectedSize, long expectedRows, Severity severity) throws IOException {
        segmentFiles++;
        long size;
        try {
            size = Files.size(p);
        } catch (NoSuchFileException e) {
            add(severity, p, 0, "segment file vanished while verified");
            return;
        }
        bytesRead += size;
        if (expectedSize >= 0 && size != expectedSize) {
            add(severity, p, Math.min(size, expectedSize), "segment has " + size + " bytes, the manifest says " + expectedSize);
        }
        Segment s;
        try {
            s = Segment.open(p, number, null);
        } catch (CorruptionException e) {
            add(severity, e.file(), e.offset(), e.detail());
            return;
        } catch (IncompatibleFormatException e) {
            add(severity, p, size - SegmentFormat.TRAILER_BYTES, e.getMessage());
            return;
        } catch (NoSuchFileException e) {
            add(severity, p, 0, "segment file vanished while verified");
            return;
        }
        try {
            if (expectedRows >= 0 && s.rows() != expectedRows) {
                add(severity, p, 0, "segment has " + s.rows() + " rows, the manifest says " + expectedRows);
            }
            long bad = 0;
            for (long page = 0; page < s.pageCount(); page++) {
                try {
                    s.verifyPages(page, page + 1);
                } catch (CorruptionException e) {
                    bad++;
                    if (bad <= MAX_PAGES_LISTED) {
                        add(severity, p, e.offset(), e.detail());
                    }
                }
            }
            if (bad > MAX_PAGES_LISTED) {
                add(severity, p, 0, (bad - MAX_PAGES_LISTED) + " more damaged pages (" + bad + " in all)");
            }
            if (bad == 0) {
                checkStructure(s, severity);
            }
        } finally {
            s.release();
        }
    }

    /** Rules the checksums cannot catch (a writer bug, or damage before the checksums were taken). */
    private void checkStructure(Segment s, Severity severity) {
        Path p = s.path();
        Map<Integer, long[]> cols = s.columnDirectory();
        long trailer = s.fileSize() - SegmentFormat.TRAILER_BYTES;
        try {
            byte[] prev = null;
            byte[] first = null;
            long tombstones = 0;
            for (long row = 0; row < s.rows(); row++) {
                byte[] key = s.key(row);
                if (first == null) {
                    first = key;
                }
                if (prev != null && KeyOrder.compare(prev, key) >= 0) {
                    add(severity, p, s.keyFileOffset(row), "key of row " + row + " is not above the key before it");
                    return;
                }
                if (s.prefix(row) != KeyOrder.prefix(key)) {
                    add(severity, p, s.prefixFileOffset(row), "prefix index disagrees with the key of row " + row);
                    return;
                }
                if (!s.mightContain(key, KeyHash.hash(key))) {
                    add(severity, p, cols.get(SegmentFormat.COL_BLOOM)[0], "bloom filter lacks the key of row " + row);
                    return;
                }
                if (s.find(key) != row) {
                    add(severity, p, s.indexFileOffset(), "index lookup of the key of row " + row + " does not find it");
                    return;
                }
                if (s.isTombstone(row)) {
                    tombstones++;
                } else {
                    s.storedValue(row); // checks the value offsets
                }
                prev = key;
            }
            if (s.rows() > 0 && (!Arrays.equals(first, s.firstKey()) || !Arrays.equals(prev, s.lastKey()))) {
                add(severity, p, trailer, "footer's first or last key differs from the rows");
            }
            if (tombstones != s.tombstones()) {
                add(severity, p, trailer, "footer counts " + s.tombstones() + " tombstones, the rows hold " + tombstones);
            }
        } catch (CorruptionException e) {
            add(severity, e.file(), e.offset(), e.detail());
        }
    }

    // ---- logs -----------------------------------------------------------------------------------

    /**
     * Checks every frame of the logs (oldest first), then applies recovery's rules ({@link LogChain}) to
     * what the scans found: every log that ends early is listed, as damage when a later log holds a commit.
     *
     * @param logStart  the manifest's log start (the first key of {@code logs} without a manifest)
     * @param commitEnd the manifest's {@link Manifest#commitEnd()} (0 without a manifest)
     */
    private void verifyLogs(SortedMap<Long, Path> logs, long logStart, long commitEnd) throws IOException {
        List<LogChain.LogScan> scans = new ArrayList<>();
        for (Map.Entry<Long, Path> e : logs.entrySet()) {
            long number = e.getKey();
            Path p = e.getValue();
            logFiles++;
            long size;
            try {
                size = Files.size(p);
            } catch (NoSuchFileException gone) {
                add(Severity.DAMAGE, p, 0, "log file vanished while verified");
                continue;
            }
            bytesRead += size;
            try {
                LogChain.Checked c = LogChain.check(p, number, size,
                        (type, payload, off, end) -> checkRecord(type, payload, p, off));
                if (c.damage() != null) {
                    add(Severity.DAMAGE, c.damage().file(), c.damage().offset(), c.damage().detail());
                }
                scans.add(c.scan());
            } catch (IncompatibleFormatException ex) {
                add(Severity.DAMAGE, p, 8, ex.getMessage());
                scans.add(LogChain.LogScan.unreadable(number, p, size));
            } catch (NoSuchFileException gone) {
                add(Severity.DAMAGE, p, 0, "log file vanished while verified");
            }
        }
        LogChain chain = LogChain.judge(dir, logStart, commitEnd, scans);
        chain.commitShort().ifPresent(e -> add(Severity.DAMAGE, e.file(), e.offset(), e.detail()));
        for (LogChain.EarlyEnd early : chain.earlyEnds()) {
            LogChain.LogScan s = early.log();
            long lost = s.fileSize() - s.validEnd();
            if (early.beforeCommit()) {
                String how = early.torn() ? "in a torn record (" + lost + " bytes)"
                        : "early: its last record is not the END record naming the next log, so records were cut from its end";
                add(Severity.DAMAGE, s.file(), s.validEnd(), "log file ends " + how + " but a later log file holds a commit");
            } else if (early.torn()) {
                add(Severity.RECOVERABLE, s.file(), s.validEnd(), "torn tail (recoverable): " + lost
                        + " bytes after the last intact record were never committed; the next open cuts them off");
            }
            // A log cut short of its END record with no later commit: what was cut was never committed,
            // and the next open drops the later logs; the uncommitted-bytes note below covers them.
        }
        LogChain.CommitPoint cp = chain.commit();
        long uncommitted = 0;
        for (LogChain.LogScan s : scans) {
            if (s.damaged() || cp != null && s.number() < cp.logNumber()) {
                continue;
            }
            uncommitted += cp != null && s.number() == cp.logNumber() ? s.validEnd() - cp.end()
                    : Math.max(0, s.validEnd() - LogFormat.FILE_HEADER_BYTES);
        }
        if (uncommitted > 0) {
            Path at = cp != null ? FileNames.log(dir, cp.logNumber()) : scans.get(0).file();
            long offset = cp != null ? cp.end() : LogFormat.FILE_HEADER_BYTES;
            add(Severity.NOTE, at, offset, uncommitted + " bytes of intact records after the last commit: a running "
                    + "engine's open transaction, or writes a crash interrupted; not part of the store (the next open cuts them off)");
        }
    }

    /**
     * The payload rules recovery applies while replaying (COMMIT and END records are checked by every
     * scan of {@link LogChain}).
     */
    private static void checkRecord(byte type, MemorySegment payload, Path p, long off) {
        switch (type) {
            case LogFormat.PUT -> LogScanner.readVarint(payload, p, off);
            case LogFormat.DROP_BELOW -> {
                if (payload.byteSize() != 8) {
                    throw new CorruptionException(p, off, "partition drop record has a bad length");
                }
            }
            default -> {
                // DELETE: any key is valid; COMMIT and END: checked by the scan
            }
        }
    }
}
