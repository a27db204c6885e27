package io.github.mmapstore.engine;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * One merge of adjacent segments into one, done in bounded steps so that it can run from a
 * punctuation or a commit without stalling the stream thread.
 *
 * <p>Two passes over the same merged rows: the first sizes every column (so the writer can stream each
 * column straight to its place in one file), the second writes. Inputs are immutable and held by
 * reference, so the passes may be spread over many steps while reads and writes go on. The output is
 * verified in full (every page checksum, row count, first and last key) before it replaces the inputs.
 */
final class Compaction {
    private static final int MAX_RUN = 10;
    /**
     * The clock is read after this many merged rows or {@link #BYTES_PER_CLOCK_CHECK} value bytes,
     * whichever comes first, and after this many pages checksummed or verified: a step overruns its
     * deadline by at most that much work (tens of microseconds), whatever the row size (a clock read every few microseconds of work costs under 1%).
     */
    private static final int ROWS_PER_CLOCK_CHECK = 16;
    private static final long BYTES_PER_CLOCK_CHECK = 16 * 1024;
    private static final int PAGES_PER_CLOCK_CHECK = 4;

    private enum Phase { SIZING, WRITING, SEALING, VERIFYING, DONE }

    /** Output files written and verified but not yet installed (their sync still running) at most. */
    private static final int MAX_QUEUED = 1;

    /** An output file written and verified, waiting for its sync to finish before it is installed. */
    private record Written(Segment segment, Future<Void> sync, byte[] lastKey, boolean last) {
    }

    private final Path dir;
    private final LongSupplier numbers;
    private final List<Segment> inputs;
    /** Inputs this merge still holds (not yet replaced by installed output files), newest first. */
    private final List<Segment> remaining;
    /** Output files installed so far, in key order. */
    private final List<Segment> installed = new ArrayList<>();
    /** Output files written, in key order, whose install waits for their sync. */
    private final ArrayDeque<Written> queued = new ArrayDeque<>();
    private final boolean bottom;
    private final long fileBytes;
    private final FaultInjector faults;
    private final ColumnExtension columns;
    private SegmentWriter.Sizes sizes;
    private Phase phase = Phase.SIZING;
    /** The sizing pass: runs once over all merged rows, stopping at each file boundary. */
    private MergeCursor sizing;
    /** Last key of the file written before the current one, or null. */
    private byte[] previousLast;
    /**
     * The rest of the merge fits in the current file: it is sized again from the previous file's end
     * with every tombstone dropped (bottom merges), since all inputs go when it is installed.
     */
    private boolean lastFile;
    /** The writing pass over the current file's key range. */
    private MergeCursor cursor;
    private SegmentWriter writer;
    private long number;
    /** First and last key of the current output file (sizing pass), and what the writing pass wrote. */
    private byte[] fileFirst;
    private byte[] fileLast;
    private byte[] firstKey;
    private byte[] lastKey;
    private boolean sizingEnded;
    private boolean fsync = true;
    /** The current output file once renamed and opened for verification, and its sync in flight. */
    private Segment out;
    private Future<Void> syncing;
    private long verifiedPages;
    private long bytesWritten;
    /** The file {@link #takeOutput()} handed out last, which {@link #releasable()} is about. */
    private Written taken;
    private boolean takenAny;

    /**
     * Chooses which segments to merge, or null. Segments are newest first. Takes the newest segment and
     * each older one while it is no larger than twice what is taken so far: sizes then grow
     * geometrically, so a store holds O(log n) segments and each byte is rewritten O(log n) times.
     */
    static List<Segment> pick(List<Segment> segments, int trigger) {
        return pick(segments, trigger, false);
    }

    /**
     * As {@link #pick(List, int)}; in a partitioned engine each partition's segments form their own
     * list and a run never mixes partitions.
     */
    static List<Segment> pick(List<Segment> segments, int trigger, boolean partitioned) {
        if (!partitioned) {
            return pickRun(segments, trigger);
        }
        java.util.Map<Long, List<Segment>> byPartition = new java.util.LinkedHashMap<>();
        for (Segment s : segments) {
            byPartition.computeIfAbsent(s.partition(), k -> new ArrayList<>()).add(s);
        }
        for (List<Segment> group : byPartition.values()) {
            List<Segment> run = pickRun(group, trigger);
            if (run != null) {
                return run;
            }
        }
        return null;
    }

    private static List<Segment> pickRun(List<Segment> segments, int trigger) {
        if (segments.size() < trigger) {
            return null;
        }
        List<Segment> run = new ArrayList<>();
        long sum = 0;
        for (Segment s : segments) {
            if (run.size() == MAX_RUN || (!run.isEmpty() && s.fileSize() > 2 * sum)) {
                break;
            }
            run.add(s);
            sum += s.fileSize();
        }
        if (run.size() >= 2) {
            return run;
        }
        if (segments.size() >= 2 * trigger) {
            return List.of(segments.get(0), segments.get(1));
        }
        return null;
    }

    /**
     * Whether a run reaches the oldest data of its key space, so its tombstones can be dropped: no segment
     * older than the run's last (in {@code newestFirst}, and in {@code older}, which lies below all of
     * it) holds rows of the same partition.
     */
    static boolean reachesBottom(List<Segment> run, List<Segment> newestFirst, List<Segment> older, boolean partitioned) {
        Segment last = run.get(run.size() - 1);
        int idx = newestFirst.indexOf(last);
        for (int i = idx + 1; i < newestFirst.size(); i++) {
            if (!partitioned || newestFirst.get(i).partition() == last.partition()) {
                return false;
            }
        }
        for (Segment s : older) {
            if (!partitioned || s.partition() == last.partition()) {
                return false;
            }
        }
        return true;
    }

    /**
     * A merge of {@code inputs} (adjacent segments, newest first). Its output is cut into files of about
     * {@code fileBytes} with disjoint key ranges, each installed as soon as it is complete (see
     * {@link #releasable()}); {@code Long.MAX_VALUE} writes one file.
     */
    Compaction(Path dir, ColumnExtension columns, LongSupplier numbers, List<Segment> inputs, boolean bottom,
               long fileBytes, FaultInjector faults) {
        this.dir = dir;
        this.columns = columns;
        this.numbers = numbers;
        this.inputs = List.copyOf(inputs);
        this.remaining = new ArrayList<>(this.inputs);
        this.bottom = bottom;
        this.fileBytes = fileBytes;
        this.faults = faults;
        for (Segment s : this.inputs) {
            s.acquire();
        }
        this.sizing = cursor(null, true, null);
        this.sizes = new SegmentWriter.Sizes(columns);
    }

    private MergeCursor cursor(byte[] from, boolean fromInclusive, byte[] to) {
        List<MergeCursor.Source> sources = new ArrayList<>(inputs.size());
        for (Segment s : inputs) {
            if (s.overlaps(from, fromInclusive, to, true)) {
                sources.add(new MergeCursor.SegmentSource(s, from, fromInclusive, to, true, false));
            }
        }
        return new MergeCursor(sources, false);
    }

    /** Whether {@code s} is one of this merge's inputs not yet released or one of its installed outputs. */
    boolean occupies(Segment s) {
        return remaining.contains(s) || installed.contains(s);
    }

    /** The inputs not yet released, newest first. */
    List<Segment> remaining() {
        return remaining;
    }

    /** The outputs installed so far, in key order. */
    List<Segment> installed() {
        return installed;
    }

    /** Whether the output file is synced before it is installed (tests and benchmarks turn it off). */
    Compaction fsync(boolean v) {
        this.fsync = v;
        return this;
    }

    /**
     * Works until {@code deadline} (System.nanoTime) or until something is ready to install: the next
     * output file (written, verified and synced), or the end of the merge; true then: call
     * {@link #takeOutput()}, install it with {@link #releasable()} gone, and report it with
     * {@link #installedStep}. Every phase, sealing and verification included, yields at the deadline, so
     * a large merge never holds the caller much past its budget. An output's sync runs on a thread of
     * its own while the merge goes on with the next file (at most {@value #MAX_QUEUED} waits), so the
     * device writing one file does not idle the merge; when there is nothing else to do, the step waits
     * for the sync within its budget.
     */
    boolean step(long deadline) throws IOException {
        int n = 0;
        long bytes = 0;
        while (true) {
            Written head = queued.peekFirst();
            if (head != null && (head.sync() == null || head.sync().isDone())) {
                await(head.sync(), head.segment().path());
                faults.at(FaultInjector.Point.COMPACTION_AFTER_SEGMENT_WRITTEN);
                return true;
            }
            if (phase == Phase.DONE || queued.size() >= MAX_QUEUED) {
                if (head == null) {
                    return true; // the end of the merge: the remaining inputs go
                }
                if (deadline != Long.MAX_VALUE) {
                    // Nothing else to do but wait for the device: wait within the budget (the device is
                    // what compaction is short of then, and the step keeps its share of the thread).
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || !doneWithin(head.sync(), left)) {
                        return yieldAt(FaultInjector.Point.COMPACTION_STEP_SYNCING);
                    }
                    continue;
                }
                await(head.sync(), head.segment().path()); // a caller without a deadline waits
                continue;
            }
            switch (phase) {
                case SEALING -> {
                    if (!writer.seal(deadline)) {
                        return yieldAt(FaultInjector.Point.COMPACTION_STEP_SEALING);
                    }
                    // Renamed unsynced: a segment file no manifest names is deleted at the next open, so a
                    // crash before the sync leaves nothing behind.
                    Path written = writer.complete(false);
                    writer = null;
                    faults.at(FaultInjector.Point.COMPACTION_STEP_SYNCING); // renamed, not yet synced
                    if (fsync) {
                        syncing = Flusher.submitSync(() -> {
                            try (FileChannel ch = FileChannel.open(written, StandardOpenOption.WRITE)) {
                                ch.force(true);
                            }
                            return null;
                        });
                    }
                    // Verified while the device writes it: reading back through the mapping needs no sync.
                    try {
                        out = Segment.open(written, number, columns);
                    } catch (IOException | RuntimeException e) {
                        Files.deleteIfExists(written);
                        throw e;
                    }
                    phase = Phase.VERIFYING;
                }
                case VERIFYING -> {
                    long pages = out.pageCount();
                    while (verifiedPages < pages) {
                        long to = Math.min(pages, verifiedPages + PAGES_PER_CLOCK_CHECK);
                        try {
                            out.verifyPages(verifiedPages, to);
                        } catch (RuntimeException e) {
                            discardOutput();
                            throw e;
                        }
                        verifiedPages = to;
                        if (System.nanoTime() >= deadline && verifiedPages < pages) {
                            return yieldAt(FaultInjector.Point.COMPACTION_STEP_VERIFYING);
                        }
                    }
                    if (out.rows() != sizes.rows || !Arrays.equals(out.firstKey(), fileFirst)
                            || !Arrays.equals(out.lastKey(), fileLast) || !Arrays.equals(firstKey, fileFirst)
                            || !Arrays.equals(lastKey, fileLast)) {
                        Path p = out.path();
                        discardOutput();
                        throw new CorruptionException(p, 0, "merged segment does not match its inputs (rows "
                                + sizes.rows + " expected)");
                    }
                    bytesWritten += out.fileSize();
                    queued.addLast(new Written(out, syncing, fileLast, sizingEnded));
                    out = null;
                    syncing = null;
                    previousLast = fileLast;
                    verifiedPages = 0;
                    fileFirst = null;
                    fileLast = null;
                    sizes = new SegmentWriter.Sizes(columns);
                    phase = sizingEnded ? Phase.DONE : Phase.SIZING;
                }
                case SIZING, WRITING -> {
                    if (++n % ROWS_PER_CLOCK_CHECK == 0 || bytes >= BYTES_PER_CLOCK_CHECK) {
                        bytes = 0;
                        if (System.nanoTime() >= deadline) {
                            return yieldAt(phase == Phase.SIZING ? FaultInjector.Point.COMPACTION_STEP_SIZING
                                    : FaultInjector.Point.COMPACTION_STEP_WRITING);
                        }
                    }
                    MergeCursor c = phase == Phase.SIZING ? sizing : cursor;
                    // Sizing needs value lengths only: without extension columns it reads them from the
                    // winning row's offsets instead of copying every value.
                    boolean lengthsOnly = phase == Phase.SIZING && columns == null;
                    if (!(lengthsOnly ? c.nextRaw() : c.next())) {
                        if (phase == Phase.SIZING) {
                            if (bottom && fileBytes != Long.MAX_VALUE && !lastFile) {
                                // The rest fits in this file, installed with every remaining input gone:
                                // size it again with all tombstones dropped.
                                lastFile = true;
                                sizes = new SegmentWriter.Sizes(columns);
                                fileFirst = null;
                                fileLast = null;
                                sizing = cursor(previousLast, previousLast == null, null);
                                continue;
                            }
                            sizingEnded = true;
                            if (sizes.rows == 0) {
                                faults.at(FaultInjector.Point.COMPACTION_MID_MERGE);
                                phase = Phase.DONE;
                            } else {
                                startWriting();
                            }
                        } else {
                            phase = Phase.SEALING;
                        }
                        continue;
                    }
                    byte[] value = lengthsOnly ? null : c.value();
                    long length = lengthsOnly ? c.winnerSegment().storedValueLength(c.winnerRow())
                            : value == null ? -1 : value.length;
                    if (length < 0 && dropsTombstone(c)) {
                        continue;
                    }
                    bytes += Math.max(0, length);
                    if (phase == Phase.SIZING) {
                        if (lengthsOnly) {
                            sizes.addStored(c.key(), length);
                        } else {
                            sizes.add(c.key(), value);
                        }
                        if (fileFirst == null) {
                            fileFirst = c.key();
                        }
                        fileLast = c.key();
                        if (sizes.fileBytes() >= fileBytes) {
                            startWriting();
                        }
                    } else {
                        if (firstKey == null) {
                            firstKey = c.key();
                        }
                        lastKey = c.key();
                        writer.add(c.key(), value);
                    }
                }
                default -> throw new IllegalStateException("compaction in phase " + phase);
            }
        }
    }

    /**
     * Whether a tombstone goes. Only a merge that reaches the bottom drops any. One that installs its
     * output file by file drops a tombstone only when no other input holds its key: an input that also
     * holds an older version may stay installed (below the output) after this file is, and the older
     * version would show through. Such a tombstone is the only version left of its key after this merge,
     * so the next merge that reaches the bottom drops it. The last file, installed with every input
     * gone, drops them all.
     */
    private boolean dropsTombstone(MergeCursor c) {
        return bottom && (fileBytes == Long.MAX_VALUE || lastFile || c.holders() == 1);
    }

    /** The sizing pass has the current file's rows: write them (a second pass over the same key range). */
    private void startWriting() throws IOException {
        phase = Phase.WRITING;
        faults.at(FaultInjector.Point.COMPACTION_MID_MERGE);
        number = numbers.getAsLong();
        writer = new SegmentWriter(dir, number, sizes);
        cursor = cursor(fileFirst, true, fileLast);
        firstKey = null;
        lastKey = null;
    }

    /**
     * The next output file to install (synced and verified), or null when the merge ended with nothing
     * more to write. The caller takes over its one reference. Call after {@link #step} returned true.
     */
    Segment takeOutput() {
        Written w = queued.pollFirst();
        if (w == null && phase != Phase.DONE) {
            throw new IllegalStateException("compaction has no output ready");
        }
        taken = w;
        takenAny = true;
        return w == null ? null : w.segment();
    }

    /**
     * The inputs that the output just taken (or the end of the merge) replaces entirely: every one at
     * the end or with the last file; otherwise those whose last key is at most the output's last key.
     * They leave the store in the same manifest replacement that adds the output. An input holding keys
     * past it stays, below the output: for keys up to the output's last key the output holds the same or
     * a newer version of every key of every input, so reads never see an older version over a newer one.
     */
    List<Segment> releasable() {
        if (!takenAny) {
            throw new IllegalStateException("no output taken");
        }
        if (taken == null || taken.last()) {
            return List.copyOf(remaining);
        }
        List<Segment> gone = new ArrayList<>();
        for (Segment s : remaining) {
            if (KeyOrder.compare(s.lastKey(), taken.lastKey()) <= 0) {
                gone.add(s);
            }
        }
        return gone;
    }

    /**
     * The output installed (null when the merge ended without one) and {@code released} gone from the
     * store: this merge gives back its references to them and goes on with the next file, if any.
     */
    void installedStep(Segment output, List<Segment> released) {
        if (output != null) {
            installed.add(output);
        }
        for (Segment s : released) {
            if (remaining.remove(s)) {
                s.release();
            }
        }
        taken = null;
        takenAny = false;
    }

    /** Whether every output is installed and every input released. */
    boolean finished() {
        return phase == Phase.DONE && queued.isEmpty() && remaining.isEmpty();
    }

    /** Bytes of the output files written so far. */
    long bytesWritten() {
        return bytesWritten;
    }

    /**
     * A step ends at its deadline with the merge unfinished: the crash point of that phase (a process
     * killed between two steps leaves exactly these files behind), then false.
     */
    private boolean yieldAt(FaultInjector.Point point) {
        faults.at(point);
        return false;
    }

    /** Sum of the input files' sizes. */
    long inputBytes() {
        long n = 0;
        for (Segment s : inputs) {
            n += s.fileSize();
        }
        return n;
    }

    /** Whether {@code f} completes (or fails: {@link #await} reports it) within {@code nanos}. */
    private static boolean doneWithin(Future<Void> f, long nanos) throws IOException {
        try {
            f.get(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while waiting for a merge output's sync");
        }
    }

    private static void await(Future<Void> f, Path file) throws IOException {
        if (f == null) {
            return;
        }
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while syncing " + file);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException("syncing " + file + " failed", e.getCause());
        }
    }

    private void discardOutput() throws IOException {
        Path p = out.path();
        Future<Void> s = syncing;
        syncing = null;
        try {
            await(s, p);
        } catch (IOException ignored) {
            // the file goes anyway
        }
        out.release();
        out = null;
        Files.deleteIfExists(p);
    }

    /** Gives back this merge's references to the inputs it still holds. */
    private void releaseInputs() {
        for (Segment s : remaining) {
            s.release();
        }
        remaining.clear();
    }

    /** Gives up: deletes the partial and the written but uninstalled outputs and releases the inputs. */
    void abort() {
        try {
            if (writer != null) {
                writer.close();
                writer = null;
            }
            if (out != null) {
                discardOutput();
            }
            Written w;
            while ((w = queued.pollFirst()) != null) {
                try {
                    await(w.sync(), w.segment().path());
                } catch (IOException ignoredSyncFailure) {
                    // the file goes anyway
                }
                w.segment().release();
                Files.deleteIfExists(w.segment().path());
            }
        } catch (IOException ignored) {
            // the files are removed at the next open (not in the manifest)
        }
        releaseInputs();
    }

    /**
     * For a crash in tests ({@code StoreEngine.abandon()}): releases what this merge holds and leaves
     * its files where they are, as a killed process would.
     */
    void abandon() {
        if (out != null) {
            out.release();
            out = null;
        }
        Written w;
        while ((w = queued.pollFirst()) != null) {
            w.segment().release();
        }
        releaseInputs();
    }
}
