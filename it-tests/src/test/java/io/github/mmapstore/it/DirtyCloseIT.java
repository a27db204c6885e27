package io.github.mmapstore.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mmapstore.it.ChildApp.Event;
import io.github.mmapstore.it.ItSupport.Input;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A dirty close without a crash: {@link CrashApp} (exactly-once, child JVM) throws from its aggregation once, on a
 * seeded input record ({@code --fail-on-seq}), in the middle of a transaction whose earlier records were already
 * written to the stores. The uncaught-exception handler replaces the stream thread, so Kafka Streams aborts the
 * transaction, closes the thread's tasks dirty and revives them in the same JVM, which then reprocess from the last
 * committed input offsets.
 *
 * <ul>
 *   <li>Kafka 4.4's transactional state stores on ({@code /txn}): Kafka closes the stores without a commit and does
 *       not wipe the tasks. Asserted: no wipe in the child's log (neither the dirty-close wipe nor a corrupted-task
 *       wipe), no restore of an MmapStore store from offset 0 after the failure (the store comes back at its last
 *       commit by itself), and the {@code read_committed} output and the stores equal the oracle exactly: the aborted
 *       transaction's writes did not survive in a store (a surviving write would be aggregated twice).</li>
 *   <li>Flag off: under exactly-once Kafka wipes the dirty tasks and restores them in full (counted, not asserted);
 *       the output must still equal the oracle.</li>
 * </ul>
 * Both store kinds. System properties: {@code it.dirty.records} (input records, 4000), {@code it.dirty.scenarios}
 * ({@code store/txn|off}, comma-separated), {@code it.dirty.seed}. Summary: {@code target/it-summary-dirty-close.md}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DirtyCloseIT {
    static final int PARTITIONS = 4;
    static final int KEYS = 32;

    private final int records = Integer.getInteger("it.dirty.records", 4000);
    private final long seed = Long.getLong("it.dirty.seed", new Random().nextLong());
    private final Path outDir = Path.of(System.getProperty("it.summary.dir", "target"));
    private final List<Result> results = Collections.synchronizedList(new ArrayList<>());
    private KafkaCluster cluster;

    static final class Result {
        String store;
        boolean txn;
        long failSeq;
        boolean failed;
        int uncaught;
        int corruptedWipes;
        int dirtyWipes;
        /** The tasks wiped, by either path (Kafka wipes a corrupted task by closing it dirty too). */
        java.util.Set<String> wipedTasks = new java.util.TreeSet<>();
        List<String> fullRestores = new ArrayList<>();
        int tailRestores;
        long restoredAfterFailure;
        long msFailureToConsumed = -1;
        int outputs;
        List<String> problems = new ArrayList<>();

        String name() {
            return store + "/EOS/" + (txn ? "txn" : "off");
        }
    }

    static Stream<String[]> scenarios() {
        String chosen = System.getProperty("it.dirty.scenarios", "").trim();
        List<String> names = chosen.isEmpty() ? List.of("mmap/txn", "rocksdb/txn", "mmap/off", "rocksdb/off")
                : List.of(chosen.split("\\s*,\\s*"));
        for (String n : names) {
            if (!n.matches("(mmap|rocksdb)/(txn|off)")) {
                throw new IllegalArgumentException("it.dirty.scenarios: " + n + " is not mmap|rocksdb / txn|off");
            }
        }
        return names.stream().map(n -> n.split("/"));
    }

    @BeforeAll
    void startCluster() throws Exception {
        System.out.println("dirty close seed=" + seed + " (replay with -Dit.dirty.seed=" + seed + ")");
        cluster = KafkaCluster.shared();
    }

    @AfterAll
    void summary() throws Exception {
        writeSummary();
        // the shared cluster stays up for the next class (closed at JVM exit)
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("scenarios")
    void processorExceptionClosesTasksDirty(String storeKind, String flag) throws Exception {
        boolean txn = flag.equals("txn");
        Assumptions.assumeTrue(!txn || CrashMatrixIT.kafkaHasTransactionalStores(), "Kafka Streams "
                + ItSupport.kafkaVersion("streams") + " has no transactional state stores");
        Result r = new Result();
        r.store = storeKind;
        r.txn = txn;
        results.add(r);
        String sc = "dirty-" + storeKind + "-" + flag;
        String prefix = "t-" + sc;
        Path work = outDir.resolve("it-work").resolve(sc);
        ItSupport.deleteRecursively(work);
        Files.createDirectories(work);
        cluster.createTopics(PARTITIONS, List.of(prefix + "-input", prefix + "-profiles", prefix + "-sums-out", prefix + "-join-out"));
        Random rnd = new Random(seed ^ sc.hashCode());
        List<Input> inputs = new ArrayList<>();
        for (int i = 0; i < records; i++) {
            inputs.add(new Input("k" + rnd.nextInt(KEYS), i, 1 + rnd.nextInt(9)));
        }
        Map<String, String> profiles = new TreeMap<>();
        for (int k = 0; k < KEYS; k++) {
            profiles.put("k" + k, "p" + k);
        }
        // the failure comes in the second half, when every store holds committed state
        r.failSeq = records / 2 + rnd.nextInt(records / 4);
        // commits once a second, so that the transaction the failure aborts has written a good many records
        List<String> args = List.of("--bootstrap", cluster.bootstrapServers(), "--app-id", sc,
                "--state-dir", work.resolve("state").toAbsolutePath().toString(), "--store", storeKind,
                "--guarantee", "exactly_once_v2", "--topics", prefix, "--commit-interval-ms", "1000",
                "--txn", String.valueOf(txn), "--fail-on-seq", String.valueOf(r.failSeq),
                // the replacement thread (StreamThread-2: another member, static or not) joins at once, but the
                // rebalance waits for the dead thread's member until its session expires: a short one (the broker of
                // KafkaCluster allows sessions from 1 s)
                "--static", "false", "--streams.consumer.session.timeout.ms", "2000",
                "--streams.consumer.heartbeat.interval.ms", "500");
        long base = System.currentTimeMillis();
        ChildApp app = ChildApp.launch(work, 0, args);
        try (KafkaProducer<String, String> producer = ItSupport.producer(cluster)) {
            for (Map.Entry<String, String> e : profiles.entrySet()) {
                producer.send(new ProducerRecord<>(prefix + "-profiles", null, base - 60_000, e.getKey(), e.getValue()));
            }
            producer.flush();
            assertThat(app.awaitState("RUNNING", 90_000)).as("RUNNING within 90 s").isNotNull();
            // the input over ~3 s, so the failure meets a transaction in full flow
            long start = System.nanoTime();
            for (int i = 0; i < inputs.size(); i++) {
                Input in = inputs.get(i);
                producer.send(new ProducerRecord<>(prefix + "-input", null, base + in.seq(), in.key(), in.seq() + ":" + in.inc()));
                if (i % 100 == 99) {
                    long wait = start + TimeUnit.MILLISECONDS.toNanos(3_000L * (i + 1) / inputs.size()) - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                }
            }
            producer.flush();
        }
        Event failure = app.await(e -> e.type().equals("PLANTED_FAILURE"), 120_000);
        r.failed = failure != null;
        Map<String, Map<String, String>> dump = Map.of();
        if (failure == null) {
            r.problems.add("the planted failure at seq " + r.failSeq + " never happened (state " + app.state() + ")");
        } else if (!ItSupport.waitConsumed(cluster, sc, List.of(prefix + "-input", prefix + "-profiles"), PARTITIONS,
                Duration.ofSeconds(180))) {
            r.problems.add("input not consumed within 180 s of the failure (state " + app.state() + ")");
        } else {
            r.msFailureToConsumed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - failure.nanos());
            dump = ItSupport.dumpStores(app, Duration.ofSeconds(60));
        }
        int exit = app.stop(60_000);
        if (exit != 0) {
            r.problems.add("exit code " + exit + " at the clean stop");
        }
        collect(r, app, failure);
        var sumsOut = ItSupport.readAll(cluster, prefix + "-sums-out", PARTITIONS);
        r.outputs = sumsOut.size();
        r.problems.addAll(ItSupport.verifyEos(ItSupport.oracle(inputs), profiles, sumsOut,
                ItSupport.readAll(cluster, prefix + "-join-out", PARTITIONS), dump, 20));
        System.out.println(line(r));

        assertThat(r.problems).as("problems of " + r.name()).isEmpty();
        assertThat(r.uncaught).as("uncaught exceptions of " + r.name() + " (the planted one only)").isEqualTo(1);
        if (txn) {
            assertThat(r.wipedTasks).as("tasks Kafka wiped after the dirty close, " + r.name()).isEmpty();
            if (storeKind.equals("mmap")) {
                assertThat(r.fullRestores).as("MmapStore restores from offset 0 after the dirty close, " + r.name()).isEmpty();
            }
        }
    }

    private static void collect(Result r, ChildApp app, Event failure) throws Exception {
        r.uncaught = (int) app.events.stream().filter(e -> e.type().equals("UNCAUGHT")).count();
        boolean planted = app.events.stream().filter(e -> e.type().equals("UNCAUGHT") || e.type().equals("UNCAUGHT_CAUSE"))
                .anyMatch(e -> String.join(" ", e.fields()).contains("planted failure"));
        if (r.uncaught > 0 && !planted) {
            r.problems.add("an uncaught exception other than the planted failure: " + ItSupport.uncaught(app));
        }
        if (failure != null) {
            // the restores that follow the failure (those of the start-up, from empty changelogs, come before it)
            List<Event> after = app.events.stream().filter(e -> e.nanos() >= failure.nanos()).toList();
            List<String[]> open = new ArrayList<>();
            for (Event e : after) {
                if (e.type().equals("RESTORE_START")) {
                    open.add(new String[] {e.field(0), e.field(1), e.field(2), e.field(3), e.field(4)});
                    boolean full = Long.parseLong(e.field(3)) == 0 && Long.parseLong(e.field(4)) > 0;
                    if (full) {
                        r.fullRestores.add(e.field(0) + "-" + e.field(2));
                    } else {
                        r.tailRestores++;
                    }
                } else if (e.type().equals("RESTORE_END") || e.type().equals("RESTORE_SUSPENDED")) {
                    r.restoredAfterFailure += Long.parseLong(e.field(3));
                }
            }
        }
        if (Files.exists(app.logFile)) {
            for (String line : Files.readAllLines(app.logFile)) {
                Matcher m = CrashMatrixIT.WIPE_LINE.matcher(line);
                if (m.find()) {
                    for (String t : m.group(1).split(",")) {
                        r.corruptedWipes++;
                        r.wipedTasks.add(t.trim());
                    }
                }
                Matcher d = CrashMatrixIT.DIRTY_WIPE_LINE.matcher(line);
                if (d.find()) {
                    r.dirtyWipes++;
                    r.wipedTasks.add(d.group(1));
                }
            }
        }
    }

    private static String line(Result r) {
        return String.format("dirty close %s: failure at seq %d %s, uncaught %d, tasks wiped %d (corrupted) + %d (dirty close), "
                        + "full restores %s, tail restores %d, records restored after the failure %d, failure to consumed %d ms, "
                        + "outputs %d, %s",
                r.name(), r.failSeq, r.failed ? "happened" : "NOT SEEN", r.uncaught, r.corruptedWipes, r.dirtyWipes,
                r.fullRestores, r.tailRestores, r.restoredAfterFailure, r.msFailureToConsumed, r.outputs,
                r.problems.isEmpty() ? "PASS" : "FAIL " + r.problems);
    }

    private void writeSummary() throws Exception {
        StringBuilder md = new StringBuilder("# Integration test summary: dirty close after a processor exception\n\n");
        md.append("- seed `").append(seed).append("` (replay: `-Dit.dirty.seed=").append(seed).append("`), input records ")
                .append(records).append(", keys ").append(KEYS).append(", partitions ").append(PARTITIONS)
                .append(", exactly_once_v2, commit.interval.ms=1000, one stream thread, REPLACE_THREAD\n");
        md.append("- Kafka Streams ").append(ItSupport.kafkaVersion("streams")).append("; `txn`: enable.transactional.statestores=true\n\n");
        md.append("| scenario | failure at seq | tasks wiped (lines: corrupted / wiping at a dirty close) | full restores (store-partition) | tail restores "
                + "| records restored after the failure | failure to all consumed ms | outputs | result |\n");
        md.append("|---|---|---|---|---|---|---|---|---|\n");
        synchronized (results) {
            for (Result r : results) {
                md.append("| ").append(r.name()).append(" | ").append(r.failSeq).append(r.failed ? "" : " (not seen)")
                        .append(" | ").append(r.wipedTasks.size()).append(" (").append(r.corruptedWipes).append(" / ").append(r.dirtyWipes).append(")")
                        .append(" | ").append(r.fullRestores.size()).append(' ').append(r.fullRestores)
                        .append(" | ").append(r.tailRestores).append(" | ").append(r.restoredAfterFailure)
                        .append(" | ").append(r.msFailureToConsumed).append(" | ").append(r.outputs)
                        .append(" | ").append(r.problems.isEmpty() ? "PASS" : "FAIL: " + String.join("; ", r.problems).replace('|', '/'))
                        .append(" |\n");
            }
        }
        Files.createDirectories(outDir);
        Files.writeString(outDir.resolve("it-summary-dirty-close.md"), md);
        System.out.println(md);
    }
}
