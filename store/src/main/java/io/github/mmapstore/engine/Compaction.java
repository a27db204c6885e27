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

    private enum Phase { SIZING, WRITING, SEALING, SYNCING, VERIFYING, DONE }

    private final Path dir;
    private final long number;
    private final List<Segment> inputs;
    private final boolean bottom;
    private final FaultInjector faults;
    private final ColumnExtension columns;
    private final SegmentWriter.Sizes sizes;
    private Phase phase = Phase.SIZING;
    private MergeCursor cursor;
    private SegmentWriter writer;
    private byte[] firstKey;
    private byte[] lastKey;
    private boolean released;
    private boolean fsync = true;
    private Segment out;
    /** The output file once renamed, until it is synced and opened. */
    private Path written;
    /** The output's sync on the flusher thread, or null. */
    private Future<Void> syncing;
    private long verifiedPages;

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

    Compaction(Path dir, ColumnExtension columns, long number, List<Segment> inputs, boolean bottom, FaultInjector faults) {
        this.dir = dir;
        this.columns = columns;
        this.sizes = new SegmentWriter.Sizes(columns);
        this.number = number;
        this.inputs = List.copyOf(inputs);
        this.bottom = bottom;
        this.faults = faults;
        for (Segment s : this.inputs) {
            s.acquire();
        }
        this.cursor = newCursor();
    }

    private MergeCursor newCursor() {
        List<MergeCursor.Source> sources = new ArrayList<>(inputs.size());
        for (Segment s : inputs) {
            sources.add(new MergeCursor.SegmentSource(s, null, true, null, true, false));
        }
        return new MergeCursor(sources, false);
    }

    List<Segment> inputs() {
        return inputs;
    }

    /** Whether the output file is synced before it is installed (tests and benchmarks turn it off). */
    Compaction fsync(boolean v) {
        this.fsync = v;
        return this;
    }

    /**
     * Works until {@code deadline} (System.nanoTime) or completion; true when the output is written,
     * synced, mapped and verified, ready to install. Every phase, sealing and verification included,
     * yields at the deadline, so a large merge never holds the caller much past its budget; the sync of
     * the output runs on the flusher thread while steps return at once.
     */
    boolean step(long deadline) throws IOException {
        int n = 0;
        long bytes = 0;
        while (phase != Phase.DONE) {
            switch (phase) {
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
                    continue;
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
                    continue;
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
                    if (out.rows() != sizes.rows || !Arrays.equals(out.firstKey(), firstKey)
                            || !Arrays.equals(out.lastKey(), lastKey)) {
                        Path p = out.path();
                        discardOutput();
                        throw new CorruptionException(p, 0, "merged segment does not match its inputs (rows "
                                + sizes.rows + " expected)");
                    }
                    phase = Phase.DONE;
                    continue;
                }
                default -> {
                    // SIZING and WRITING below
                }
            }
            if (++n % ROWS_PER_CLOCK_CHECK == 0 || bytes >= BYTES_PER_CLOCK_CHECK) {
                bytes = 0;
                if (System.nanoTime() >= deadline) {
                    return yieldAt(phase == Phase.SIZING ? FaultInjector.Point.COMPACTION_STEP_SIZING
                            : FaultInjector.Point.COMPACTION_STEP_WRITING);
                }
            }
            if (!cursor.next()) {
                if (phase == Phase.SIZING) {
                    phase = Phase.WRITING;
                    faults.at(FaultInjector.Point.COMPACTION_MID_MERGE);
                    if (sizes.rows == 0) {
                        phase = Phase.DONE;
                        break;
                    }
                    writer = new SegmentWriter(dir, number, sizes);
                    cursor = newCursor();
                } else {
                    phase = Phase.SEALING;
                }
                continue;
            }
            byte[] value = cursor.value();
            if (value == null && bottom) {
                continue;
            }
            bytes += value == null ? 0 : value.length;
            if (phase == Phase.SIZING) {
                sizes.add(cursor.key(), value);
            } else {
                if (firstKey == null) {
                    firstKey = cursor.key();
                }
                lastKey = cursor.key();
                writer.add(cursor.key(), value);
            }
        }
        return true;
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
     * The verified output, or null when the merge removed every row (all tombstones at the bottom). The
     * caller takes over its one reference. Call after {@link #step} returned true.
     */
    Segment finish(boolean ignored) {
        if (phase != Phase.DONE) {
            throw new IllegalStateException("compaction not done");
        }
        Segment s = out;
        out = null;
        return s;
    }

    void releaseInputs() {
        if (!released) {
            released = true;
            for (Segment s : inputs) {
                s.release();
            }
        }
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
