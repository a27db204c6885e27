package io.github.mmapstore.engine;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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

    private enum Phase { SIZING, WRITING, SEALING, SYNCING, VERIFYING, READY, DONE }

    /**
     * Bytes a row costs in a segment file beyond its key and value (prefix, two offsets, flag, bloom
     * bits): how a merge estimates when its output file reaches {@link #fileBytes}.
     */
    private static final long ROW_OVERHEAD_BYTES = 26;

    private final Path dir;
    private final LongSupplier numbers;
    private final List<Segment> inputs;
    /** Inputs this merge still holds (not yet replaced by installed output files), newest first. */
    private final List<Segment> remaining;
    /** Output files installed so far, in key order. */
    private final List<Segment> installed = new ArrayList<>();
    private final boolean bottom;
    private final long fileBytes;
    private final FaultInjector faults;
    private final ColumnExtension columns;
    private SegmentWriter.Sizes sizes;
    private Phase phase = Phase.SIZING;
    /** The sizing pass: runs once over all merged rows, stopping at each file boundary. */
    private MergeCursor sizing;
    /** Last key of the file installed before the current one, or null. */
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
    private Segment out;
    /** The output file once renamed, until it is synced and opened. */
    private Path written;
    /** The output's sync on the flusher thread, or null. */
    private Future<Void> syncing;
    private long verifiedPages;
    private long bytesWritten;

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

    List<Segment> inputs() {
        return inputs;
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
     * Works until {@code deadline} (System.nanoTime) or until an output file is ready to install (or the
     * merge found nothing more to write); true then: call {@link #takeOutput()}, install it with
     * {@link #releasable()} gone, and report it with {@link #installedStep}. Every phase, sealing and
     * verification included, yields at the deadline, so a large merge never holds the caller much past
     * its budget; the sync of an output runs on the flusher thread while steps return at once.
     */
    boolean step(long deadline) throws IOException {
        int n = 0;
        long bytes = 0;
        while (true) {
            switch (phase) {
                case READY, DONE -> {
                    return true;
                }
                case SEALING -> {
                    if (!writer.seal(deadline)) {
                        return yieldAt(FaultInjector.Point.COMPACTION_STEP_SEALING);
                    }
                    // Renamed unsynced: a segment file no manifest names is deleted at the next open, so a
                    // crash before the sync below leaves nothing behind.
                    written = writer.complete(false);
                    writer = null;
                    phase = Phase.SYNCING;
                    faults.at(FaultInjector.Point.COMPACTION_STEP_SYNCING); // renamed, not yet synced
                    if (fsync) {
                        Path toSync = written;
                        syncing = Flusher.submit(() -> {
                            try (FileChannel ch = FileChannel.open(toSync, StandardOpenOption.WRITE)) {
                                ch.force(true);
                            }
                            return null;
                        });
                    }
                }
                case SYNCING -> {
                    // The sync of a large output takes as long as the device needs to write it: it runs on
                    // the flusher thread, and steps only look whether it is done.
                    if (syncing != null) {
                        if (!syncing.isDone() && deadline != Long.MAX_VALUE) {
                            return yieldAt(FaultInjector.Point.COMPACTION_STEP_SYNCING);
                        }
                        awaitSync(); // done, or a caller without a deadline waits
                    }
                    faults.at(FaultInjector.Point.COMPACTION_AFTER_SEGMENT_WRITTEN);
                    out = Segment.open(written, number, columns);
                    written = null;
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
                    phase = Phase.READY;
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
                    if (!c.next()) {
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
                    byte[] value = c.value();
                    if (value == null && dropsTombstone(c)) {
                        continue;
                    }
                    bytes += value == null ? 0 : value.length;
                    if (phase == Phase.SIZING) {
                        sizes.add(c.key(), value);
                        if (fileFirst == null) {
                            fileFirst = c.key();
                        }
                        fileLast = c.key();
                        if (sizes.keyBytes + sizes.valueBytes + ROW_OVERHEAD_BYTES * sizes.rows >= fileBytes) {
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
     * The inputs that the output ready now (or the end of the merge) replaces entirely: every one when
     * the merge has no rows left; otherwise those whose last key is at most the output's last key. They
     * leave the store in the same manifest replacement that adds the output. An input holding keys past
     * it stays, below the output: for keys up to the output's last key the output holds the same or a
     * newer version of every key of every input, so reads never see an older version over a newer one.
     */
    List<Segment> releasable() {
        if (phase == Phase.DONE || (phase == Phase.READY && sizingEnded)) {
            return List.copyOf(remaining);
        }
        if (phase != Phase.READY) {
            throw new IllegalStateException("no output ready");
        }
        List<Segment> gone = new ArrayList<>();
        for (Segment s : remaining) {
            if (KeyOrder.compare(s.lastKey(), fileLast) <= 0) {
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
        if (phase == Phase.READY && !sizingEnded) {
            previousLast = fileLast;
            phase = Phase.SIZING;
            sizes = new SegmentWriter.Sizes(columns);
            fileFirst = null;
            fileLast = null;
            verifiedPages = 0;
        } else {
            phase = Phase.DONE;
        }
    }

    /** Whether every output is installed and every input released. */
    boolean finished() {
        return phase == Phase.DONE && remaining.isEmpty();
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

    private void awaitSync() throws IOException {
        Future<Void> f = syncing;
        syncing = null;
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while syncing " + written);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException("syncing " + written + " failed", e.getCause());
        }
    }

    private void discardOutput() throws IOException {
        Path p = out.path();
        out.release();
        out = null;
        Files.deleteIfExists(p);
    }

    /**
     * The verified output ready now, or null when the merge ended with no rows left to write (all
     * tombstones at the bottom). The caller takes over its one reference. Call after {@link #step}
     * returned true.
     */
    Segment takeOutput() {
        if (phase != Phase.READY && phase != Phase.DONE) {
            throw new IllegalStateException("compaction has no output ready");
        }
        Segment s = out;
        out = null;
        return s;
    }

    /** Gives back this merge's references to the inputs it still holds. */
    void releaseInputs() {
        for (Segment s : remaining) {
            s.release();
        }
        remaining.clear();
    }

    /** Gives up: deletes the partial output and releases the inputs. */
    void abort() {
        try {
            if (writer != null) {
                writer.close();
                writer = null;
            }
            if (syncing != null) {
                try {
                    awaitSync();
                } catch (IOException ignoredSyncFailure) {
                    // the file goes anyway
                }
            }
            if (written != null) {
                Files.deleteIfExists(written);
                written = null;
            }
            if (out != null) {
                discardOutput();
            }
        } catch (IOException ignored) {
            // the file is removed at the next open (not in the manifest)
        }
        releaseInputs();
    }
}
