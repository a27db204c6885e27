package io.github.mmapstore.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import net.jqwik.api.AfterFailureMode;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * Random operation sequences against an in-memory model: a TreeMap in unsigned byte order for the
 * working state, and a copy of it taken at each completed commit, which is what every crash must
 * come back to.
 *
 * <p>Keys are short strings over the alphabet {@code 0 a b F}, written as the bytes 0x00, 'a', 'b'
 * and 0xFF (so the empty key, 0x00 and 0xFF edges and prefix upper bounds of all-0xFF prefixes are
 * all hit), at most three long: 85 keys, so overwrites, deletes and prefixes collide constantly.
 * Values are derived from the index of the operation that wrote them, so a stale value is never equal
 * to the current one. Memtables are 4..16 KiB, the log buffer 4 KiB (so a 5000-byte value takes the
 * log's large-frame path), fsync off.
 *
 * <p>On failure jqwik prints the seed and the (shrunk) operation list; every operation has a
 * readable {@code toString}, and the assertion message names the index of the failing operation.
 */
class EngineModelProperties {
    private static final AtomicLong TOTAL_OPS = new AtomicLong();
    private static final AtomicLong TRIES = new AtomicLong();
    private static final Map<FaultInjector.Point, AtomicLong> CRASHES_AT = new EnumMap<>(FaultInjector.Point.class);
    private static final AtomicLong TORN_CRASHES = new AtomicLong();
    private static final AtomicLong REOPENS = new AtomicLong();
    /** Without a log: commits a crash went back past (made, not yet checkpointed). */
    private static final AtomicLong CHECKPOINT_REOPENS_BEHIND = new AtomicLong();
    private static final AtomicLong UNLOGGED_TRIES = new AtomicLong();
    private static final AtomicLong UNLOGGED_OPS = new AtomicLong();
    private static final Map<FaultInjector.Point, AtomicLong> UNLOGGED_CRASHES_AT = new EnumMap<>(FaultInjector.Point.class);
    private static final AtomicLong UNLOGGED_STEP_TRIES = new AtomicLong();

    static {
        for (FaultInjector.Point p : FaultInjector.Point.values()) {
            CRASHES_AT.put(p, new AtomicLong());
            UNLOGGED_CRASHES_AT.put(p, new AtomicLong());
        }
    }

    static final Comparator<byte[]> ORDER = Arrays::compareUnsigned;

    // =============================================================================================
    // Operations
    // =============================================================================================

    sealed interface Op permits Put, Delete, Get, Range, Prefix, Batch, Commit, Flush, Compact, Reopen, TornCrash,
            FaultCrash {
    }

    /** Put with a value of {@code valueLen} bytes derived from the operation's index. */
    record Put(String key, int valueLen) implements Op {
        @Override
        public String toString() {
            return "put(" + q(key) + ", len=" + valueLen + ")";
        }
    }

    record Delete(String key) implements Op {
        @Override
        public String toString() {
            return "delete(" + q(key) + ")";
        }
    }

    record Get(String key) implements Op {
        @Override
        public String toString() {
            return "get(" + q(key) + ")";
        }
    }

    /**
     * A range read. {@code api}: 0 = range(from, fromInc, to, toInc, reverse); 1 = the inclusive
     * range()/reverseRange() shortcuts; 2 = all()/reverseAll() (bounds ignored).
     */
    record Range(String from, boolean fromInc, String to, boolean toInc, boolean reverse, int api) implements Op {
        @Override
        public String toString() {
            return switch (api) {
                case 1 -> (reverse ? "reverseRange(" : "range(") + q(from) + ", " + q(to) + ")";
                case 2 -> reverse ? "reverseAll()" : "all()";
                default -> "range(" + (fromInc ? "[" : "(") + q(from) + ", " + q(to) + (toInc ? "]" : ")")
                        + (reverse ? ", reverse" : "") + ")";
            };
        }
    }

    record Prefix(String prefix, boolean reverse) implements Op {
        @Override
        public String toString() {
            return "prefixScan(" + q(prefix) + (reverse ? ", reverse" : "") + ")";
        }
    }

    /** One write(batch); a negative length is a delete. */
    record Batch(List<Put> entries) implements Op {
        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder("batch[");
            for (int i = 0; i < entries.size(); i++) {
                Put p = entries.get(i);
                sb.append(i == 0 ? "" : ", ").append(q(p.key)).append(p.valueLen < 0 ? "=DEL" : "=len" + p.valueLen);
            }
            return sb.append(']').toString();
        }
    }

    /** Commit with metadata: 0 = null, 1 = empty array, 2 = bytes derived from the op index. */
    record Commit(int metaKind) implements Op {
        @Override
        public String toString() {
            return "commit(" + (metaKind == 0 ? "null" : metaKind == 1 ? "empty" : "meta") + ")";
        }
    }

    record Flush() implements Op {
        @Override
        public String toString() {
            return "flush()";
        }
    }

    /**
     * mode 0 = compact(0), 1 = compact(budgetNanos), 2 = while (compact(MAX_VALUE)), 3 = compactFully(),
     * 4 = up to {@code steps} steps of compact(budgetNanos) (a merge spread over many tiny steps).
     */
    record Compact(int mode, int budgetNanos, int steps) implements Op {
        @Override
        public String toString() {
            return switch (mode) {
                case 0 -> "compact(0)";
                case 1 -> "compact(" + budgetNanos + "ns)";
                case 2 -> "compactUntilDone()";
                case 3 -> "compactFully()";
                default -> steps + " x compact(" + budgetNanos + "ns)";
            };
        }
    }

    /** close() and open(): uncommitted writes are gone. */
    record Reopen() implements Op {
        @Override
        public String toString() {
            return "reopen()";
        }
    }

    /**
     * abandon(), then tear the newest log after its last COMMIT: either truncate at
     * {@code permille}/1000 of the way between the commit's end and the file's end, or cut at a frame
     * boundary chosen the same way and append {@code zeros} zero bytes.
     */
    record TornCrash(int permille, boolean zeroFill, int zeros) implements Op {
        @Override
        public String toString() {
            return zeroFill ? "tornCrash(frameBoundary@" + permille + "‰ + " + zeros + " zeros)"
                    : "tornCrash(truncate@" + permille + "‰)";
        }
    }

    /** COMPACT_NEW_WORK: committed overwrites first (not armed), so that a merge is due, then tiny steps. */
    enum During { FLUSH, COMMIT, COMPACT_STEPS, COMPACT_FULLY, PUTS, COMPACT_NEW_WORK }

    /** Arms the fault injector at {@code point} (after {@code skip} earlier hits), runs {@code during}. */
    record FaultCrash(FaultInjector.Point point, int skip, During during) implements Op {
        @Override
        public String toString() {
            return "crashAt(" + point + (skip > 0 ? " hit#" + (skip + 1) : "") + " during " + during + ")";
        }
    }

    static String q(String k) {
        return k == null ? "null" : "\"" + k + "\"";
    }

    /** Key text over {0, a, b, F} to bytes {0x00, 'a', 'b', 0xFF}. */
    static byte[] kb(String k) {
        if (k == null) {
            return null;
        }
        byte[] b = new byte[k.length()];
        for (int i = 0; i < b.length; i++) {
            char c = k.charAt(i);
            b[i] = switch (c) {
                case '0' -> 0;
                case 'F' -> (byte) 0xFF;
                default -> (byte) c;
            };
        }
        return b;
    }

    /** A key as text: the {0 a b F} form for keys of the model's alphabet, hex for any other key. */
    static String ks(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            switch (x) {
                case 0 -> sb.append('0');
                case (byte) 0xFF -> sb.append('F');
                case 'a', 'b' -> sb.append((char) x);
                default -> {
                    return "0x" + HexFormat.of().formatHex(b);
                }
            }
        }
        return sb.toString();
    }

    static final List<String> KEY_UNIVERSE = new ArrayList<>();

    static {
        String alphabet = "0abF";
        KEY_UNIVERSE.add("");
        List<String> level = List.of("");
        for (int len = 1; len <= 3; len++) {
            List<String> next = new ArrayList<>();
            for (String s : level) {
                for (char c : alphabet.toCharArray()) {
                    next.add(s + c);
                }
            }
            KEY_UNIVERSE.addAll(next);
            level = next;
        }
    }

    // =============================================================================================
    // Generators
    // =============================================================================================

    static Arbitrary<String> keys() {
        return Arbitraries.strings().withChars('0', 'a', 'b', 'F').ofMinLength(0).ofMaxLength(3);
    }

    static Arbitrary<Integer> valueLengths() {
        return Arbitraries.frequencyOf(
                Tuple.of(5, Arbitraries.just(0)),
                Tuple.of(5, Arbitraries.integers().between(1, 3)),
                Tuple.of(170, Arbitraries.integers().between(4, 40)),
                Tuple.of(3, Arbitraries.just(5000)),     // larger than the 4 KiB log buffer
                Tuple.of(1, Arbitraries.just(70_000)));  // larger than 64 KiB (segment column buffer)
    }

    static Arbitrary<Op> ops() {
        Arbitrary<Op> put = Combinators.combine(keys(), valueLengths()).as(Put::new);
        Arbitrary<Op> delete = keys().map(Delete::new);
        Arbitrary<Op> get = keys().map(Get::new);
        Arbitrary<String> bound = keys().injectNull(0.25);
        Arbitrary<Op> range = Combinators.combine(bound, Arbitraries.of(true, false), bound, Arbitraries.of(true, false),
                Arbitraries.of(true, false), Arbitraries.integers().between(0, 4).map(i -> i <= 2 ? 0 : i - 2))
                .as((a, b, c, d, e, f) -> (Op) new Range(a, b, c, d, e, f));
        Arbitrary<Op> prefix = Combinators.combine(
                Arbitraries.strings().withChars('0', 'a', 'b', 'F').ofMinLength(0).ofMaxLength(2),
                Arbitraries.of(true, false)).as(Prefix::new);
        Arbitrary<Put> batchEntry = Combinators.combine(keys(),
                Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(-1)), Tuple.of(4, valueLengths())))
                .as(Put::new);
        Arbitrary<Op> batch = batchEntry.list().ofMinSize(0).ofMaxSize(40).map(Batch::new);
        Arbitrary<Op> commit = Arbitraries.integers().between(0, 5).map(i -> new Commit(Math.min(i, 2)));
        Arbitrary<Op> flush = Arbitraries.just(new Flush());
        Arbitrary<Op> compact = Combinators.combine(Arbitraries.integers().between(0, 4),
                Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.integers().between(0, 2_000)),
                        Tuple.of(1, Arbitraries.integers().between(2_000, 200_000))),
                Arbitraries.integers().between(1, 20)).as(Compact::new);
        Arbitrary<Op> reopen = Arbitraries.just(new Reopen());
        Arbitrary<Op> torn = Combinators.combine(Arbitraries.integers().between(0, 1000), Arbitraries.of(true, false),
                Arbitraries.integers().between(1, 300)).as(TornCrash::new);
        Arbitrary<Op> fault = Combinators.combine(Arbitraries.of(FaultInjector.Point.class),
                Arbitraries.integers().between(0, 2).map(i -> i == 2 ? 1 : 0),
                Arbitraries.of(During.class)).as(FaultCrash::new);
        return Arbitraries.frequencyOf(
                Tuple.of(40, put),
                Tuple.of(10, delete),
                Tuple.of(12, get),
                Tuple.of(6, range),
                Tuple.of(3, prefix),
                Tuple.of(4, batch),
                Tuple.of(5, commit),
                Tuple.of(2, flush),
                Tuple.of(3, compact),
                Tuple.of(1, reopen),
                Tuple.of(1, torn),
                Tuple.of(3, fault));
    }

    @Provide
    Arbitrary<List<Op>> sequences() {
        return ops().list().ofMinSize(1).ofMaxSize(500).withSizeDistribution(RandomDistribution.uniform());
    }

    /** The crash points a compaction passes, in phase order. */
    static final List<FaultInjector.Point> COMPACTION_POINTS = List.of(FaultInjector.Point.COMPACTION_STEP_SIZING,
            FaultInjector.Point.COMPACTION_MID_MERGE, FaultInjector.Point.COMPACTION_STEP_WRITING,
            FaultInjector.Point.COMPACTION_STEP_SEALING, FaultInjector.Point.COMPACTION_STEP_SYNCING,
            FaultInjector.Point.COMPACTION_AFTER_SEGMENT_WRITTEN, FaultInjector.Point.COMPACTION_STEP_VERIFYING,
            FaultInjector.Point.MANIFEST_AFTER_TEMP_WRITTEN, FaultInjector.Point.MANIFEST_AFTER_RENAME,
            FaultInjector.Point.COMPACTION_AFTER_PARTIAL_INSTALL, FaultInjector.Point.COMPACTION_AFTER_INSTALL);
    private static final Map<FaultInjector.Point, AtomicLong> STEP_CRASHES_AT = new EnumMap<>(FaultInjector.Point.class);
    private static final AtomicLong STEP_TRIES = new AtomicLong();

    static {
        for (FaultInjector.Point p : COMPACTION_POINTS) {
            STEP_CRASHES_AT.put(p, new AtomicLong());
        }
    }

    /**
     * Sequences weighted towards compaction: many writes (some large values, so a step stops in the
     * middle of sealing and verification too), frequent commits (merges work on committed segments),
     * merges spread over many steps of tiny budgets with reads in between, and kills at every point a
     * merge passes, after 0 to 5 earlier hits, so that a merge dies in each of its phases.
     */
    @Provide
    Arbitrary<List<Op>> compactionSequences() {
        Arbitrary<Op> put = Combinators.combine(keys(), Arbitraries.frequencyOf(
                Tuple.of(20, Arbitraries.integers().between(4, 40)),
                Tuple.of(2, Arbitraries.just(5000)),
                Tuple.of(1, Arbitraries.just(20_000)))).as(Put::new);
        Arbitrary<Op> delete = keys().map(Delete::new);
        Arbitrary<Op> get = keys().map(Get::new);
        Arbitrary<Op> commit = Arbitraries.integers().between(0, 2).map(Commit::new);
        Arbitrary<Op> flush = Arbitraries.just(new Flush());
        Arbitrary<Op> steps = Combinators.combine(Arbitraries.just(4), Arbitraries.integers().between(0, 3_000),
                Arbitraries.integers().between(1, 30)).as(Compact::new);
        Arbitrary<Op> kill = Combinators.combine(Arbitraries.of(COMPACTION_POINTS), Arbitraries.integers().between(0, 5),
                Arbitraries.of(During.COMPACT_STEPS, During.COMPACT_NEW_WORK)).as(FaultCrash::new);
        Arbitrary<Op> ops = Arbitraries.frequencyOf(
                Tuple.of(50, put),
                Tuple.of(10, delete),
                Tuple.of(5, get),
                Tuple.of(8, commit),
                Tuple.of(8, flush),
                Tuple.of(4, steps),
                Tuple.of(8, kill),
                Tuple.of(1, Arbitraries.just(new Reopen())));
        return ops.list().ofMinSize(50).ofMaxSize(400);
    }

    @Property(tries = 60, edgeCases = EdgeCasesMode.NONE, afterFailure = AfterFailureMode.SAMPLE_FIRST)
    void compactionStepsSurviveKillsInEveryPhase(@ForAll("compactionSequences") List<Op> ops,
                                                 @ForAll @IntRange(min = 2, max = 3) int compactionTrigger) throws IOException {
        STEP_TRIES.incrementAndGet();
        Path dir = Files.createTempDirectory("mmapstore-model-compaction");
        try (Harness h = new Harness(dir, 4096, compactionTrigger)) {
            h.crashes = STEP_CRASHES_AT;
            for (int i = 0; i < ops.size(); i++) {
                Op op = ops.get(i);
                try {
                    h.run(i, op);
                } catch (AssertionError | RuntimeException e) {
                    throw new AssertionError("operation #" + i + " " + op + " failed (compactionTrigger=" + compactionTrigger
                            + "): " + e.getMessage(), e);
                }
            }
            h.verifyAll("end of sequence");
            h.reopen();
            h.verifyAll("reopen at end of sequence");
        } finally {
            deleteRecursively(dir);
        }
    }

    // =============================================================================================
    // The property
    // =============================================================================================

    @Property(tries = 70, edgeCases = EdgeCasesMode.NONE, afterFailure = AfterFailureMode.SAMPLE_FIRST)
    void engineMatchesModel(@ForAll("sequences") List<Op> ops,
                            @ForAll @IntRange(min = 4096, max = 16384) int memtableBytes,
                            @ForAll @IntRange(min = 2, max = 4) int compactionTrigger) throws IOException {
        TRIES.incrementAndGet();
        Path dir = Files.createTempDirectory("mmapstore-model");
        try (Harness h = new Harness(dir, memtableBytes, compactionTrigger)) {
            for (int i = 0; i < ops.size(); i++) {
                Op op = ops.get(i);
                try {
                    h.run(i, op);
                } catch (AssertionError | RuntimeException e) {
                    throw new AssertionError("operation #" + i + " " + op + " failed (memtableBytes=" + memtableBytes
                            + ", compactionTrigger=" + compactionTrigger + "): " + e.getMessage(), e);
                }
                TOTAL_OPS.incrementAndGet();
            }
            h.verifyAll("end of sequence");
            h.reopen();
            h.verifyAll("reopen at end of sequence");
        } finally {
            deleteRecursively(dir);
        }
    }

    /**
     * The same sequences on an engine without a log (the changelog is the owner's log of record): a crash
     * opens the last durable checkpoint, never a state between two commits, with exactly that commit's
     * metadata, no older than the checkpoint known durable before the crash; a clean close keeps the
     * last commit. Checkpoints at every commit, or only when memtables fill, flush or close.
     */
    @Property(tries = 70, edgeCases = EdgeCasesMode.NONE, afterFailure = AfterFailureMode.SAMPLE_FIRST)
    void engineWithoutLogMatchesModel(@ForAll("sequences") List<Op> ops,
                                      @ForAll @IntRange(min = 4096, max = 16384) int memtableBytes,
                                      @ForAll @IntRange(min = 2, max = 4) int compactionTrigger,
                                      @ForAll boolean checkpointEveryCommit) throws IOException {
        UNLOGGED_TRIES.incrementAndGet();
        Path dir = Files.createTempDirectory("mmapstore-model-nolog");
        try (Harness h = new Harness(dir, memtableBytes, compactionTrigger, false, checkpointEveryCommit ? 0 : 3_600_000)) {
            h.crashes = UNLOGGED_CRASHES_AT;
            for (int i = 0; i < ops.size(); i++) {
                Op op = ops.get(i);
                try {
                    h.run(i, op);
                } catch (AssertionError | RuntimeException e) {
                    throw new AssertionError("operation #" + i + " " + op + " failed (no log, memtableBytes=" + memtableBytes
                            + ", compactionTrigger=" + compactionTrigger + ", checkpointEveryCommit=" + checkpointEveryCommit
                            + "): " + e.getMessage(), e);
                }
                UNLOGGED_OPS.incrementAndGet();
            }
            h.verifyAll("end of sequence");
            h.reopen();
            h.verifyAll("reopen at end of sequence");
        } finally {
            deleteRecursively(dir);
        }
    }

    /** The compaction-weighted sequences, without a log: kills in every phase of merges and checkpoints. */
    @Property(tries = 40, edgeCases = EdgeCasesMode.NONE, afterFailure = AfterFailureMode.SAMPLE_FIRST)
    void compactionStepsAndCheckpointsWithoutLogSurviveKills(@ForAll("compactionSequences") List<Op> ops,
                                                             @ForAll @IntRange(min = 2, max = 3) int compactionTrigger,
                                                             @ForAll boolean checkpointEveryCommit) throws IOException {
        UNLOGGED_STEP_TRIES.incrementAndGet();
        Path dir = Files.createTempDirectory("mmapstore-model-nolog-compaction");
        try (Harness h = new Harness(dir, 4096, compactionTrigger, false, checkpointEveryCommit ? 0 : 3_600_000)) {
            h.crashes = UNLOGGED_CRASHES_AT;
            for (int i = 0; i < ops.size(); i++) {
                Op op = ops.get(i);
                try {
                    h.run(i, op);
                } catch (AssertionError | RuntimeException e) {
                    throw new AssertionError("operation #" + i + " " + op + " failed (no log, compactionTrigger="
                            + compactionTrigger + ", checkpointEveryCommit=" + checkpointEveryCommit + "): " + e.getMessage(), e);
                }
            }
            h.verifyAll("end of sequence");
            h.reopen();
            h.verifyAll("reopen at end of sequence");
        } finally {
            deleteRecursively(dir);
        }
    }

    /** The points a kill hits in an engine without a log: its flushes, checkpoints and manifest writes. */
    static final List<FaultInjector.Point> CHECKPOINT_POINTS = List.of(FaultInjector.Point.FLUSH_BEFORE_SEGMENT,
            FaultInjector.Point.FLUSH_AFTER_SEGMENT_WRITTEN, FaultInjector.Point.CHECKPOINT_BEFORE_MANIFEST,
            FaultInjector.Point.MANIFEST_AFTER_TEMP_WRITTEN, FaultInjector.Point.MANIFEST_AFTER_RENAME);

    @AfterContainer
    static void report() {
        System.out.println("EngineModelProperties: " + TRIES.get() + " tries, " + TOTAL_OPS.get() + " operations, "
                + REOPENS.get() + " reopens, " + TORN_CRASHES.get() + " torn-tail crashes, injected crashes by point: "
                + CRASHES_AT);
        if (STEP_TRIES.get() > 0) {
            System.out.println("EngineModelProperties, compaction steps: " + STEP_TRIES.get()
                    + " tries, kills by compaction point: " + STEP_CRASHES_AT);
        }
        if (STEP_TRIES.get() >= 60) {
            // Steps are time-boxed, so which phase a kill lands in varies from run to run, and the rarest
            // point (verification of a large output) is missed now and then by chance. A generator that
            // drifted away from compaction misses several points: that is what fails the run.
            List<FaultInjector.Point> missed = STEP_CRASHES_AT.entrySet().stream()
                    .filter(e -> e.getValue().get() == 0).map(Map.Entry::getKey).toList();
            if (missed.size() > 1) {
                throw new AssertionError("no compaction was killed at " + missed + ": the generator no longer reaches them");
            }
        }
        if (UNLOGGED_TRIES.get() > 0 || UNLOGGED_STEP_TRIES.get() > 0) {
            System.out.println("EngineModelProperties, no log: " + UNLOGGED_TRIES.get() + " + " + UNLOGGED_STEP_TRIES.get()
                    + " tries, " + UNLOGGED_OPS.get() + " operations, commits a crash went back past (not yet checkpointed): "
                    + CHECKPOINT_REOPENS_BEHIND.get() + ", injected crashes by point: " + UNLOGGED_CRASHES_AT);
        }
        if (UNLOGGED_TRIES.get() >= 70) {
            List<FaultInjector.Point> missed = CHECKPOINT_POINTS.stream()
                    .filter(p -> UNLOGGED_CRASHES_AT.get(p).get() == 0).toList();
            if (!missed.isEmpty()) {
                throw new AssertionError("no engine without a log was killed at " + missed + ": the generator no longer reaches them");
            }
            if (CHECKPOINT_REOPENS_BEHIND.get() == 0) {
                throw new AssertionError("no crash without a log ever went back past a commit: are commits durable "
                        + "without a checkpoint, or do the sequences never crash between checkpoints?");
            }
            if (UNLOGGED_OPS.get() < 10_000) {
                throw new AssertionError("only " + UNLOGGED_OPS.get() + " operations ran without a log; at least 10,000 expected");
            }
        }
        // The suite promises at least 10,000 operations per run; fail loudly if the generator drifts.
        if (TRIES.get() >= 70 && TOTAL_OPS.get() < 10_000) {
            throw new AssertionError("only " + TOTAL_OPS.get() + " operations ran; the property should run at least 10,000");
        }
    }

    // =============================================================================================
    // Harness: engine + model
    // =============================================================================================

    static final class InjectedCrash extends RuntimeException {
        final FaultInjector.Point point;

        InjectedCrash(FaultInjector.Point point) {
            super("injected crash at " + point, null, false, false);
            this.point = point;
        }
    }

    static final class Faults implements FaultInjector {
        volatile Point armed;
        int skip;

        void arm(Point p, int skipHits) {
            skip = skipHits;
            armed = p;
        }

        void disarm() {
            armed = null;
        }

        @Override
        public void at(Point point) {
            if (point == armed) {
                if (skip-- == 0) {
                    armed = null;
                    throw new InjectedCrash(point);
                }
            }
        }
    }

    /**
     * Whether a commit that crashed at {@code p} counts as completed. The COMMIT frame is appended to
     * the log's heap buffer, then the log is synced (written and forced), then, if segments were
     * flushed, the manifest is replaced. Before the sync the frame is only in the buffer, which
     * abandon() drops: not completed. From the sync on, the frame is in the file: completed, whatever
     * happens to the manifest afterwards (the old manifest plus the log replay, or the new manifest
     * plus the log tail, both give the committed state). A memtable that filled while the commit was
     * awaited is frozen right after the sync: its flush's points come after the commit too.
     */
    static boolean commitCompletedAt(FaultInjector.Point p) {
        return switch (p) {
            case COMMIT_BEFORE_FSYNC -> false;
            case COMMIT_AFTER_FSYNC, MANIFEST_AFTER_TEMP_WRITTEN, MANIFEST_AFTER_RENAME, FLUSH_BEFORE_SEGMENT,
                 FLUSH_AFTER_SEGMENT_WRITTEN, FLUSH_AFTER_LOG_ROTATED -> true;
            case CHECKPOINT_BEFORE_MANIFEST, COMPACTION_STEP_SIZING,
                 COMPACTION_MID_MERGE, COMPACTION_STEP_WRITING, COMPACTION_STEP_SEALING, COMPACTION_STEP_SYNCING, COMPACTION_AFTER_SEGMENT_WRITTEN,
                 COMPACTION_STEP_VERIFYING, COMPACTION_AFTER_PARTIAL_INSTALL, COMPACTION_AFTER_INSTALL ->
                    throw new AssertionError("commit() must never reach " + p);
        };
    }

    static final class Harness implements AutoCloseable {
        final Path dir;
        final Faults faults = new Faults();
        final EngineConfig config;
        StoreEngine engine;
        TreeMap<byte[], byte[]> model = new TreeMap<>(ORDER);
        TreeMap<byte[], byte[]> committed = new TreeMap<>(ORDER);
        byte[] committedMeta;
        int opIndex;
        /** Kills counted per point by the property that runs this harness, or null. */
        Map<FaultInjector.Point, AtomicLong> crashes;
        /** Counts every value and metadata made, so each is unique and a rerun of the sequence makes the same ones. */
        int made;

        /** Without a log: every commit made (its unique metadata and the state it committed), oldest first. */
        final List<byte[]> commitMetas = new ArrayList<>();
        final List<TreeMap<byte[], byte[]>> commitStates = new ArrayList<>();

        Harness(Path dir, int memtableBytes, int trigger) {
            this(dir, memtableBytes, trigger, true, 0);
        }

        /**
         * {@code logged}: the engine keeps its own log; else a crash opens the last durable checkpoint, and
         * {@code checkpointMillis} says how often commits take one (0: every commit; large: only full
         * memtables, flushes and clean closes).
         */
        Harness(Path dir, int memtableBytes, int trigger, boolean logged, long checkpointMillis) {
            this.dir = dir;
            this.config = EngineConfig.defaults().withMemtableBytes(memtableBytes).withFsync(false)
                    .withLogBufferBytes(4096).withCompactionTrigger(trigger).withFaults(faults)
                    // merge outputs cut into files of a few rows: most merges install file by file
                    .withCompactionFileBytes(4096)
                    .withLog(logged).withCheckpointIntervalMillis(checkpointMillis);
            engine = StoreEngine.open(dir, config);
            assertThat(engine.openReport().created()).isTrue();
            commitMetas.add(null);
            commitStates.add(new TreeMap<>(ORDER));
        }

        boolean logged() {
            return config.log();
        }

        byte[] value(int len) {
            byte[] v = new byte[len];
            int tag = ++made;
            for (int i = 0; i < len; i++) {
                v[i] = (byte) (i < 4 ? tag >>> (24 - 8 * i) : (tag + i) * 31);
            }
            return v;
        }

        byte[] meta(int kind) {
            if (!logged()) {
                // a crash opens some durable checkpoint: its metadata must say which commit it was
                return ("meta-" + opIndex + "-" + (++made)).getBytes();
            }
            return switch (kind) {
                case 0 -> null;
                case 1 -> new byte[0];
                default -> ("meta-" + opIndex + "-" + (++made)).getBytes();
            };
        }

        void run(int i, Op op) throws IOException {
            opIndex = i;
            switch (op) {
                case Put p -> {
                    byte[] k = kb(p.key);
                    byte[] v = value(p.valueLen);
                    engine.put(k, v);
                    model.put(k, v);
                }
                case Delete d -> {
                    byte[] k = kb(d.key);
                    engine.delete(k);
                    model.remove(k);
                }
                case Get g -> {
                    byte[] k = kb(g.key);
                    assertSameValue(g.key, engine.get(k), model.get(k));
                }
                case Range r -> checkRange(r);
                case Prefix p -> {
                    byte[] pre = kb(p.prefix);
                    List<Map.Entry<byte[], byte[]>> expected = new ArrayList<>();
                    for (Map.Entry<byte[], byte[]> e : model.entrySet()) {
                        if (startsWith(e.getKey(), pre)) {
                            expected.add(e);
                        }
                    }
                    if (p.reverse) {
                        expected = expected.reversed();
                    }
                    assertSameEntries(op.toString(), drain(engine.prefixScan(pre, p.reverse)), expected);
                }
                case Batch b -> {
                    List<KeyValue> batch = new ArrayList<>();
                    for (Put e : b.entries) {
                        batch.add(new KeyValue(kb(e.key), e.valueLen < 0 ? null : value(e.valueLen)));
                    }
                    engine.write(batch);
                    for (KeyValue kv : batch) {
                        if (kv.value() == null) {
                            model.remove(kv.key());
                        } else {
                            model.put(kv.key(), kv.value());
                        }
                    }
                }
                case Commit c -> {
                    byte[] m = meta(c.metaKind);
                    engine.commit(m);
                    markCommitted(m);
                    assertThat(engine.lastCommitMetadata()).isEqualTo(m);
                }
                case Flush f -> {
                    engine.flush();
                    assertThat(engine.stats().memtableKeys()).isZero();
                    verifyAll("after flush");
                }
                case Compact c -> {
                    switch (c.mode) {
                        case 0 -> engine.compact(0);
                        case 1 -> engine.compact(c.budgetNanos);
                        case 4 -> {
                            for (int step = 0; step < c.steps && engine.compact(c.budgetNanos); step++) {
                                // a step with a tiny budget may stop in any phase; reads in between see the old segments
                                verifyAll("between steps of " + op);
                            }
                        }
                        case 2 -> {
                            int guard = 0;
                            while (engine.compact(Long.MAX_VALUE)) {
                                assertThat(++guard).as("compaction never finishes").isLessThan(10_000);
                            }
                        }
                        default -> engine.compactFully();
                    }
                    verifyAll("after " + op);
                }
                case Reopen r -> reopen();
                case TornCrash t -> tornCrash(t);
                case FaultCrash f -> faultCrash(f);
            }
        }

        void markCommitted(byte[] m) {
            committed = new TreeMap<>(model);
            committedMeta = m == null ? null : m.clone();
            if (!logged()) {
                commitMetas.add(committedMeta);
                commitStates.add(committed);
            }
        }

        void reopen() {
            REOPENS.incrementAndGet();
            engine.close();
            openAfterCrashOrClose("reopen", commitMetas.size() - 1);
        }

        /** Abandons the engine as a crash would and opens it again. */
        void crashAndReopen(String why) {
            int durable = logged() ? commitMetas.size() - 1 : indexOf(engine.durableCommitMetadata(), why);
            engine.abandon();
            openAfterCrashOrClose(why, durable);
        }

        int indexOf(byte[] meta, String why) {
            for (int i = commitMetas.size() - 1; i >= 0; i--) {
                if (Arrays.equals(commitMetas.get(i), meta)) {
                    return i;
                }
            }
            throw new AssertionError(why + ": the store is at a commit that was never made: " + show(meta));
        }

        /**
         * Opens again and checks the state. With a log: exactly the last completed commit. Without: the
         * commit of a durable checkpoint, not older than {@code durableAtLeast} (the newest one known to be
         * durable before the crash; the last commit after a clean close), and exactly its state; the model
         * goes on from there.
         */
        void openAfterCrashOrClose(String why, int durableAtLeast) {
            faults.disarm();
            engine = StoreEngine.open(dir, config);
            OpenReport r = engine.openReport();
            assertThat(r.rebuiltAfterCorruption()).as("%s: store was quarantined: %s", why, r.reason()).isFalse();
            assertThat(r.created()).as("%s: store was re-created", why).isFalse();
            if (!logged()) {
                int at = indexOf(engine.lastCommitMetadata(), why);
                assertThat(at).as("%s: opened at an older commit than the last durable checkpoint", why)
                        .isGreaterThanOrEqualTo(durableAtLeast);
                committed = commitStates.get(at);
                committedMeta = commitMetas.get(at);
                CHECKPOINT_REOPENS_BEHIND.addAndGet(commitStates.size() - 1 - at);
                commitMetas.subList(at + 1, commitMetas.size()).clear();
                commitStates.subList(at + 1, commitStates.size()).clear();
            }
            model = new TreeMap<>(committed);
            assertThat(engine.lastCommitMetadata()).as("%s: lastCommitMetadata", why).isEqualTo(committedMeta);
            verifyAll(why);
            try (Stream<Path> files = Files.list(dir)) {
                assertThat(files.map(p -> p.getFileName().toString()))
                        .as("%s: no quarantine and no temporary files left by recovery", why)
                        .noneMatch(n -> n.startsWith(FileNames.QUARANTINE_PREFIX) || n.endsWith(".tmp"));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }

        void tornCrash(TornCrash t) throws IOException {
            TORN_CRASHES.incrementAndGet();
            if (!logged()) {
                crashAndReopen("after " + t + " (no log to tear: a plain crash)");
                return;
            }
            engine.abandon();
            Path newest = null;
            long number = -1;
            try (Stream<Path> files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    String n = p.getFileName().toString();
                    if (n.endsWith(FileNames.LOG_SUFFIX) && FileNames.number(n).isPresent()
                            && FileNames.number(n).getAsLong() > number) {
                        number = FileNames.number(n).getAsLong();
                        newest = p;
                    }
                }
            }
            assertThat(newest).as("a log file exists").isNotNull();
            long size = Files.size(newest);
            // The header is synced when the file is created (before any manifest or commit can name it),
            // so a crash never takes it away: tear only after it and after the last COMMIT in this file.
            long[] lastCommitEnd = {LogFormat.FILE_HEADER_BYTES};
            List<Long> boundaries = new ArrayList<>();
            boundaries.add((long) LogFormat.FILE_HEADER_BYTES);
            LogScanner.Result res = LogScanner.scan(newest, number, (type, payload, off, end) -> {
                boundaries.add(end);
                if (type == LogFormat.COMMIT) {
                    lastCommitEnd[0] = end;
                }
            });
            assertThat(res.torn()).as("abandon() leaves whole frames in the log").isFalse();
            long from = lastCommitEnd[0];
            long cut;
            if (t.zeroFill) {
                List<Long> after = boundaries.stream().filter(b -> b >= from).toList();
                cut = after.get((int) ((long) t.permille * (after.size() - 1) / 1000));
            } else {
                cut = from + (size - from) * t.permille / 1000;
            }
            try (FileChannel ch = FileChannel.open(newest, StandardOpenOption.WRITE)) {
                ch.truncate(cut);
                if (t.zeroFill) {
                    ByteBuffer zeros = ByteBuffer.allocate(t.zeros);
                    while (zeros.hasRemaining()) {
                        ch.write(zeros, cut + zeros.position());
                    }
                }
            }
            openAfterCrashOrClose("after " + t + " (log " + newest.getFileName() + " of " + size + " bytes cut at " + cut
                    + ", last commit ends at " + from + ")", commitMetas.size() - 1);
        }

        void faultCrash(FaultCrash f) throws IOException {
            // Flushes and manifest writes run in the background: let earlier ones land before arming, so that
            // the injected crash can only come from this operation.
            engine.awaitBackgroundForTesting();
            if (f.during == During.COMPACT_NEW_WORK) {
                // Overwrites of most keys, one large value among them (so the merged output spans enough
                // pages for sealing and verification to stop part-way), flushed and committed.
                Random rnd = new Random(opIndex);
                for (int i = 0; i < 60; i++) {
                    byte[] k = kb(KEY_UNIVERSE.get(rnd.nextInt(KEY_UNIVERSE.size())));
                    byte[] v = value(i == 0 ? 30_000 : 10 + rnd.nextInt(60));
                    engine.put(k, v);
                    model.put(k, v);
                }
                engine.flush();
                byte[] m = meta(2);
                engine.commit(m);
                markCommitted(m);
            }
            faults.arm(f.point, f.skip);
            InjectedCrash crash = null;
            byte[] meta = null;
            try {
                switch (f.during) {
                    case FLUSH -> engine.flush();
                    case COMMIT -> {
                        meta = meta(2);
                        if (!logged()) {
                            // without a log the commit only counts once a checkpoint is durable: a candidate
                            // for the state after a crash either way
                            markCommitted(meta);
                        }
                        engine.commit(meta);
                        if (logged()) {
                            markCommitted(meta);
                        }
                    }
                    case COMPACT_STEPS, COMPACT_NEW_WORK -> {
                        // Tiny budgets, so that a merge stops in every phase; the armed point (a step's
                        // end in some phase, after `skip` earlier ones) kills it there.
                        Random rnd = new Random(opIndex);
                        for (int i = 0; i < 200 && engine.compact(rnd.nextInt(3_000)); i++) {
                            // bounded steps
                        }
                    }
                    case COMPACT_FULLY -> engine.compactFully();
                    case PUTS -> {
                        // Enough writes to fill the memtable and flush from inside put().
                        Random rnd = new Random(opIndex);
                        for (int i = 0; i < 400; i++) {
                            byte[] k = kb(KEY_UNIVERSE.get(rnd.nextInt(KEY_UNIVERSE.size())));
                            byte[] v = value(40 + rnd.nextInt(60));
                            engine.put(k, v);
                            model.put(k, v);
                        }
                        // a flush started by these puts crashes (or not) before the operation ends
                        engine.awaitFlushForTesting();
                    }
                }
                // manifests are written in the background: a crash there ends this operation too
                engine.awaitBackgroundForTesting();
            } catch (InjectedCrash c) {
                crash = c;
            } finally {
                faults.disarm();
            }
            if (crash == null) {
                // The armed point was not on this path; the operation simply completed.
                verifyAll("after " + f + " (not reached)");
                return;
            }
            CRASHES_AT.get(crash.point).incrementAndGet();
            if (crashes != null) {
                crashes.get(crash.point).incrementAndGet();
            }
            if (f.during == During.COMMIT && logged() && commitCompletedAt(crash.point)) {
                markCommitted(meta);
            }
            crashAndReopen("after " + f);
        }

        void checkRange(Range r) {
            byte[] from = kb(r.from);
            byte[] to = kb(r.to);
            boolean fromInc = r.fromInc;
            boolean toInc = r.toInc;
            EngineIterator it;
            switch (r.api) {
                case 1 -> {
                    fromInc = true;
                    toInc = true;
                    it = r.reverse ? engine.reverseRange(from, to) : engine.range(from, to);
                }
                case 2 -> {
                    from = null;
                    to = null;
                    it = r.reverse ? engine.reverseAll() : engine.all();
                }
                default -> it = engine.range(from, fromInc, to, toInc, r.reverse);
            }
            List<Map.Entry<byte[], byte[]>> expected = new ArrayList<>();
            for (Map.Entry<byte[], byte[]> e : model.entrySet()) {
                byte[] k = e.getKey();
                if (from != null) {
                    int c = ORDER.compare(k, from);
                    if (c < 0 || (c == 0 && !fromInc)) {
                        continue;
                    }
                }
                if (to != null) {
                    int c = ORDER.compare(k, to);
                    if (c > 0 || (c == 0 && !toInc)) {
                        continue;
                    }
                }
                expected.add(e);
            }
            if (r.reverse) {
                expected = expected.reversed();
            }
            assertSameEntries(r.toString(), drain(it), expected);
        }

        void verifyAll(String why) {
            List<Map.Entry<byte[], byte[]>> expected = new ArrayList<>(model.entrySet());
            assertSameEntries(why + ": all()", drain(engine.all()), expected);
            assertSameEntries(why + ": reverseAll()", drain(engine.reverseAll()), expected.reversed());
            for (String k : KEY_UNIVERSE) {
                byte[] kbytes = kb(k);
                assertSameValue(why + ": get " + k, engine.get(kbytes), model.get(kbytes));
            }
            verifyCommitted(why);
        }

        /** Reads at {@link ReadIsolation#COMMITTED} see exactly the last commit, whatever was written since. */
        void verifyCommitted(String why) {
            List<Map.Entry<byte[], byte[]>> expected = new ArrayList<>(committed.entrySet());
            assertSameEntries(why + ": committed all()",
                    drain(engine.range(null, true, null, true, false, ReadIsolation.COMMITTED)), expected);
            assertSameEntries(why + ": committed reverseAll()",
                    drain(engine.range(null, true, null, true, true, ReadIsolation.COMMITTED)), expected.reversed());
            for (String k : KEY_UNIVERSE) {
                byte[] kbytes = kb(k);
                assertSameValue(why + ": committed get " + k, engine.get(kbytes, ReadIsolation.COMMITTED), committed.get(kbytes));
            }
        }

        @Override
        public void close() {
            if (engine != null && !engine.isClosed()) {
                engine.close();
            }
        }
    }

    // =============================================================================================
    // Helpers
    // =============================================================================================

    static List<KeyValue> drain(EngineIterator it) {
        List<KeyValue> out = new ArrayList<>();
        try (it) {
            while (it.hasNext()) {
                out.add(it.next());
            }
        }
        return out;
    }

    static void assertSameEntries(String what, List<KeyValue> actual, List<Map.Entry<byte[], byte[]>> expected) {
        List<String> a = new ArrayList<>();
        for (KeyValue kv : actual) {
            a.add(ks(kv.key()) + "=" + show(kv.value()));
        }
        List<String> e = new ArrayList<>();
        for (Map.Entry<byte[], byte[]> kv : expected) {
            e.add(ks(kv.getKey()) + "=" + show(kv.getValue()));
        }
        assertThat(a).as(what).containsExactlyElementsOf(e);
        // The text form abbreviates long values: compare every byte too.
        for (int i = 0; i < actual.size(); i++) {
            assertThat(actual.get(i).key()).as("%s: key #%d", what, i).isEqualTo(expected.get(i).getKey());
            assertThat(actual.get(i).value()).as("%s: value #%d", what, i).isEqualTo(expected.get(i).getValue());
        }
    }

    static void assertSameEntriesBytes(String what, List<KeyValue> actual, List<Map.Entry<byte[], byte[]>> expected) {
        assertSameEntries(what, actual, expected);
    }

    static void assertSameValue(String what, byte[] actual, byte[] expected) {
        assertThat(show(actual)).as(what).isEqualTo(show(expected));
        assertThat(actual).as(what).isEqualTo(expected);
    }

    /** A value as text: null, or its length and a hash plus its first bytes (values can be 70 KB). */
    static String show(byte[] v) {
        if (v == null) {
            return "null";
        }
        String head = HexFormat.of().formatHex(v, 0, Math.min(v.length, 8));
        return "len" + v.length + ":" + head + (v.length > 8 ? "..#" + Integer.toHexString(Arrays.hashCode(v)) : "");
    }

    static boolean startsWith(byte[] k, byte[] prefix) {
        return k.length >= prefix.length && Arrays.equals(k, 0, prefix.length, prefix, 0, prefix.length);
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
