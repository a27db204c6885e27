package io.github.mmapstore.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mmapstore.it.ChildApp.Event;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Crash matrix of issue 6: {MmapStore, RocksDB} x {exactly_once_v2, at_least_once}. A child JVM runs
 * {@link CrashApp} against an in-JVM KRaft cluster while the test produces a known input, kills the child
 * with SIGKILL at seeded random moments and restarts it; at the end a {@code read_committed} consumer reads
 * the outputs and the stores are read through Interactive Queries, and both are compared with an oracle.
 *
 * <p>Under EOS the output must equal the oracle exactly (each key's running {@code count,sum,lastSeq}
 * sequence, so a lost or duplicated update shows); under ALOS nothing may be lost. Full restores (a
 * restore starting at offset 0 of a non-empty changelog after a kill) and wipes (Kafka's task-corruption
 * handling) are counted per store kind and reported, not asserted, unless
 * {@code -Dit.crash.requireNoMmapFullRestore=true}.
 *
 * <p>System properties: {@code it.crash.kills} (per scenario), {@code it.crash.records},
 * {@code it.crash.seed}, {@code it.crash.scenarios} (a subset, see {@link #scenarios()}), {@code it.summary.dir}. The summary goes to {@code target/it-summary.md}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CrashMatrixIT {
    static final int PARTITIONS = 4;
    static final int KEYS = 32;
    /** Kafka's handling of TaskCorruptedException: the listed tasks are closed dirty and their directories wiped. */
    static final Pattern WIPE_LINE = Pattern.compile("Detected the states of tasks \\[([^\\]]*)\\] are corrupted");
    /** A dirty close that wipes the task (exactly-once without transactional stores; StreamTask's debug line). */
    static final Pattern DIRTY_WIPE_LINE = Pattern.compile("Wiping state stores for ACTIVE task (\\d+_\\d+)");
    /** The scenario suffix of Kafka 4.4's transactional state stores ({@code enable.transactional.statestores=true}). */
    static final String TXN = "txn";

    private final int killsPerScenario = Integer.getInteger("it.crash.kills", 3);
    private final int records = Integer.getInteger("it.crash.records", 6000);
    private final long seed = seedProperty();
    private final Path outDir = Path.of(System.getProperty("it.summary.dir", "target"));
    private final List<ScenarioResult> results = Collections.synchronizedList(new ArrayList<>());
    private KafkaCluster cluster;
    private long startNanos;

    private static long seedProperty() {
        String s = System.getProperty("it.crash.seed", "");
        return s.isBlank() ? new Random().nextLong() : Long.parseLong(s.trim());
    }

    @BeforeAll
    void startCluster() throws Exception {
        startNanos = System.nanoTime();
        System.out.println("crash matrix seed=" + seed + " (replay with -Dit.crash.seed=" + seed + ")");
        cluster = KafkaCluster.start(1);
    }

    @AfterAll
    void stopCluster() throws Exception {
        try {
            writeSummary();
        } finally {
            if (cluster != null) {
                cluster.close();
            }
        }
    }

    /**
     * The scenarios to run, as {@code store/guarantee[/txn]}: all eight unless {@code it.crash.scenarios} names
     * some, comma-separated (e.g. {@code mmap/exactly_once_v2,rocksdb/exactly_once_v2/txn}). {@code /txn} runs
     * with Kafka 4.4's {@code enable.transactional.statestores=true}; without it the flag is off (Kafka's
     * default, and the only behaviour of 4.3, where the {@code txn} scenarios are skipped).
     */
    static Stream<String[]> scenarios() {
        List<String[]> all = new ArrayList<>();
        for (String txn : new String[] {"", TXN}) {
            for (String guarantee : new String[] {"exactly_once_v2", "at_least_once"}) {
                for (String store : new String[] {"mmap", "rocksdb"}) {
                    all.add(new String[] {store, guarantee, txn});
                }
            }
        }
        String chosen = System.getProperty("it.crash.scenarios", "").trim();
        if (chosen.isEmpty()) {
            return all.stream();
        }
        List<String> names = List.of(chosen.split("\\s*,\\s*"));
        List<String[]> picked = all.stream().filter(sc -> names.contains(scenarioName(sc[0], sc[1], sc[2]))).toList();
        if (picked.size() != names.size()) {
            throw new IllegalArgumentException("it.crash.scenarios=" + chosen
                    + ": each must be one of mmap|rocksdb / exactly_once_v2|at_least_once, optionally followed by /txn");
        }
        return picked.stream();
    }

    static String scenarioName(String store, String guarantee, String txn) {
        return store + "/" + guarantee + (txn.isEmpty() ? "" : "/" + txn);
    }

    /** Whether the Kafka Streams on the class path has transactional state stores (4.4 on; 4.3 does not). */
    static boolean kafkaHasTransactionalStores() {
        String v = ItSupport.kafkaVersion("streams");
        return !v.startsWith("4.3.") && !v.startsWith("4.2.") && !v.equals("unknown");
    }

    // ---- one scenario ---------------------------------------------------------------------------

    record Input(String key, long seq, long inc) {
    }

    static final class RunStats {
        int run;
        String killPhase;              // null for the final run
        Long msToRunning;
        Long msToRestored;
        final List<String[]> restores = new ArrayList<>(); // store, topic, partition, start, end, total
        int wipedTasks;
        final Set<String> wipedTaskIds = new java.util.TreeSet<>();
        /**
         * "Wiping state stores" lines: a task closed dirty and wiped (exactly-once without transactional stores), also
         * the way Kafka wipes a corrupted task, so a task in both counts once ({@link #wipedTaskIds}).
         */
        int dirtyWipes;
        final List<String> uncaught = new ArrayList<>();
        int exitCode;
    }

    static final class ScenarioResult {
        String store;
        String guarantee;
        boolean txn;
        long seed;
        int kills;
        final List<RunStats> runs = new ArrayList<>();
        long expectedOutputs;
        long actualOutputs;
        long lost;
        long duplicates;
        long joinProblems;
        List<String> storeProblems = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        long seconds;

        String name() {
            return store + "/" + (guarantee.startsWith("exactly") ? "EOS" : "ALOS") + (txn ? "/txn" : "");
        }

        boolean eos() {
            return guarantee.startsWith("exactly");
        }
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("scenarios")
    void crashAndRecover(String storeKind, String guarantee, String txnFlag) throws Exception {
        boolean txn = txnFlag.equals(TXN);
        Assumptions.assumeTrue(!txn || kafkaHasTransactionalStores(), "Kafka Streams " + ItSupport.kafkaVersion("streams")
                + " has no transactional state stores (enable.transactional.statestores is 4.4's)");
        long t0 = System.nanoTime();
        ScenarioResult r = new ScenarioResult();
        r.store = storeKind;
        r.guarantee = guarantee;
        r.txn = txn;
        r.seed = seed;
        r.kills = killsPerScenario;
        results.add(r);
        boolean eos = guarantee.startsWith("exactly");
        // the flag-off names are those of before the flag existed (same topics, app ids and seeds)
        String sc = storeKind + "-" + (eos ? "eos" : "alos") + (txn ? "-txn" : "");
        String prefix = "t-" + sc;
        String appId = "crash-" + sc;
        Path work = outDir.resolve("it-work").resolve(sc);
        ItSupport.deleteRecursively(work);
        Files.createDirectories(work);
        cluster.createTopics(PARTITIONS, List.of(prefix + "-input", prefix + "-profiles", prefix + "-sums-out", prefix + "-join-out"));

        long scenarioSeed = seed ^ (sc.hashCode() * 0x9E3779B97F4A7C15L);
        Random inputRandom = new Random(scenarioSeed);
        List<Input> inputs = new ArrayList<>(records);
        for (long seq = 0; seq < records; seq++) {
            inputs.add(new Input("k" + inputRandom.nextInt(KEYS), seq, 1 + inputRandom.nextInt(9)));
        }
        Map<String, String> profiles = new TreeMap<>();
        for (int k = 0; k < KEYS; k++) {
            profiles.put("k" + k, "p" + k);
        }

        // Real timestamps (a 1970 timestamp would make records eligible for time-based retention); the
        // profiles are older than every input record, so stream-time ordering processes them first.
        long baseTimestamp = System.currentTimeMillis();
        try (KafkaProducer<String, String> producer = ItSupport.producer(cluster)) {
            for (Map.Entry<String, String> e : profiles.entrySet()) {
                producer.send(new ProducerRecord<>(prefix + "-profiles", null, baseTimestamp - 60_000, e.getKey(), e.getValue())).get();
            }
            // The input is produced while the app is being killed, so kills land mid-processing.
            // A run lasts about 4-7 s to RUNNING plus the kill delay: spread the input over the whole kill phase.
            long produceMillis = Math.max(6_000, killsPerScenario * 8_000L);
            AtomicReference<Throwable> producerError = new AtomicReference<>();
            Thread feeder = new Thread(() -> {
                try {
                    long start = System.nanoTime();
                    for (int i = 0; i < inputs.size(); i++) {
                        Input in = inputs.get(i);
                        producer.send(new ProducerRecord<>(prefix + "-input", null, baseTimestamp + in.seq(), in.key(), in.seq() + ":" + in.inc()));
                        if (i % 50 == 49) {
                            long due = start + TimeUnit.MILLISECONDS.toNanos(produceMillis * (i + 1) / inputs.size());
                            long wait = due - System.nanoTime();
                            if (wait > 0) {
                                TimeUnit.NANOSECONDS.sleep(wait);
                            }
                        }
                    }
                    producer.flush();
                } catch (Throwable e) {
                    producerError.set(e);
                }
            }, "input-feeder");
            feeder.start();

            Random killRandom = new Random(scenarioSeed * 31 + 7);
            List<String> args = List.of("--bootstrap", cluster.bootstrapServers(), "--app-id", appId,
                    "--state-dir", work.resolve("state").toAbsolutePath().toString(), "--store", storeKind,
                    "--guarantee", guarantee, "--topics", prefix, "--commit-interval-ms", "200", "--txn", String.valueOf(txn));
            for (int run = 0; run < killsPerScenario; run++) {
                ChildApp app = ChildApp.launch(work, run, args);
                RunStats rs = new RunStats();
                rs.run = run;
                // A quarter of the kills count from the launch (JVM start, rebalance, store init, restore);
                // the rest from RUNNING (processing, commits, store flushes and compaction steps).
                boolean early = killRandom.nextDouble() < 0.25;
                if (early) {
                    Thread.sleep(500 + killRandom.nextInt(4_000));
                } else {
                    Event running = app.awaitState("RUNNING", 90_000);
                    if (running == null) {
                        r.failures.add("run " + run + ": not RUNNING within 90 s (state " + app.state() + ")");
                    }
                    Thread.sleep(300 + killRandom.nextInt(3_500));
                }
                rs.killPhase = app.state() + (app.restoresInFlight() > 0 ? "+restoring" : "");
                rs.exitCode = app.kill();
                if (rs.exitCode != 137) {
                    r.failures.add("run " + run + ": exit code " + rs.exitCode + " after SIGKILL (expected 137)");
                }
                collect(app, rs);
                r.runs.add(rs);
            }
            // Final run: let it consume everything, read the stores, stop cleanly.
            ChildApp app = ChildApp.launch(work, killsPerScenario, args);
            RunStats rs = new RunStats();
            rs.run = killsPerScenario;
            feeder.join(TimeUnit.MINUTES.toMillis(5));
            if (producerError.get() != null) {
                app.kill();
                throw new AssertionError("input producer failed", producerError.get());
            }
            Map<String, Map<String, String>> dump = Map.of();
            if (app.awaitState("RUNNING", 120_000) == null) {
                r.failures.add("final run: not RUNNING within 120 s (state " + app.state() + ")");
            } else if (!ItSupport.waitConsumed(cluster, appId, List.of(prefix + "-input", prefix + "-profiles"), PARTITIONS,
                    Duration.ofSeconds(180))) {
                r.failures.add("final run: input not consumed within 180 s");
            } else {
                dump = ItSupport.dumpStores(app, Duration.ofSeconds(60), PARTITIONS);
            }
            rs.exitCode = app.stop(60_000);
            collect(app, rs);
            r.runs.add(rs);

            verify(r, eos, inputs, profiles, ItSupport.readAll(cluster, prefix + "-sums-out", PARTITIONS),
                    ItSupport.readAll(cluster, prefix + "-join-out", PARTITIONS), dump);
        } finally {
            r.seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
            System.out.println(describe(r));
        }

        for (RunStats rs : r.runs) {
            r.failures.addAll(rs.uncaught.stream().map(u -> "run " + rs.run + " uncaught: " + u).toList());
        }
        assertThat(r.failures).as("failures of " + r.name()).isEmpty();
        assertThat(r.lost).as("records lost by " + r.name()).isZero();
        if (eos) {
            assertThat(r.duplicates).as("duplicated outputs under EOS for " + r.name()).isZero();
        }
        assertThat(r.joinProblems).as("join output problems for " + r.name()).isZero();
        assertThat(r.storeProblems).as("final store contents of " + r.name()).isEmpty();
        if (Boolean.getBoolean("it.crash.requireNoMmapFullRestore") && storeKind.equals("mmap")) {
            assertThat(fullRestores(r)).as("full restores of MmapStore after kills").isZero();
        }
    }

    private static void collect(ChildApp app, RunStats rs) throws IOException {
        for (Event e : app.events) {
            switch (e.type()) {
                case "STATE" -> {
                    if (e.field(1).equals("RUNNING") && rs.msToRunning == null) {
                        rs.msToRunning = app.millisSinceLaunch(e);
                    }
                }
                case "RESTORE_START" -> rs.restores.add(new String[] {e.field(0), e.field(1), e.field(2), e.field(3), e.field(4), "?"});
                case "RESTORE_END", "RESTORE_SUSPENDED" -> {
                    for (String[] x : rs.restores) {
                        if (x[0].equals(e.field(0)) && x[1].equals(e.field(1)) && x[2].equals(e.field(2)) && x[5].equals("?")) {
                            x[5] = e.field(3) + (e.type().equals("RESTORE_SUSPENDED") ? "(suspended)" : "");
                            break;
                        }
                    }
                    if (e.type().equals("RESTORE_END")) {
                        rs.msToRestored = app.millisSinceLaunch(e);
                    }
                }
                case "UNCAUGHT" -> rs.uncaught.add(String.join(" ", e.fields()));
                default -> {
                }
            }
        }
        if (Files.exists(app.logFile)) {
            try (Stream<String> lines = Files.lines(app.logFile)) {
                lines.forEach(line -> {
                    java.util.regex.Matcher m = WIPE_LINE.matcher(line);
                    if (m.find()) {
                        for (String t : m.group(1).split(",")) {
                            rs.wipedTasks++;
                            rs.wipedTaskIds.add(t.trim());
                        }
                    }
                    java.util.regex.Matcher d = DIRTY_WIPE_LINE.matcher(line);
                    if (d.find()) {
                        rs.dirtyWipes++;
                        rs.wipedTaskIds.add(d.group(1).trim());
                    }
                });
            }
        }
    }

    /** Restores after a kill that started at offset 0 of a non-empty changelog. */
    static long fullRestores(ScenarioResult r) {
        return r.runs.stream().filter(rs -> rs.run > 0).flatMap(rs -> rs.restores.stream())
                .filter(x -> Long.parseLong(x[3]) == 0 && Long.parseLong(x[4]) > 0).count();
    }


    // ---- oracle -----------------------------------------------------------------------------------

    private static void verify(ScenarioResult r, boolean eos, List<Input> inputs, Map<String, String> profiles,
            List<ConsumerRecord<String, String>> sumsOut, List<ConsumerRecord<String, String>> joinOut,
            Map<String, Map<String, String>> dump) {
        Map<String, List<String>> expected = new TreeMap<>();
        Map<String, long[]> acc = new HashMap<>();
        for (Input in : inputs) {
            long[] a = acc.computeIfAbsent(in.key(), k -> new long[2]);
            a[0]++;
            a[1] += in.inc();
            expected.computeIfAbsent(in.key(), k -> new ArrayList<>()).add(a[0] + "," + a[1] + "," + in.seq());
        }
        Map<String, List<String>> actual = ItSupport.group(sumsOut);
        Map<String, List<String>> actualJoin = ItSupport.group(joinOut);
        r.expectedOutputs = inputs.size();
        r.actualOutputs = sumsOut.size();
        if (eos) {
            for (Map.Entry<String, List<String>> e : expected.entrySet()) {
                List<String> got = actual.getOrDefault(e.getKey(), List.of());
                Map<String, Integer> diff = new HashMap<>();
                e.getValue().forEach(v -> diff.merge(v, 1, Integer::sum));
                got.forEach(v -> diff.merge(v, -1, Integer::sum));
                long lost = diff.values().stream().filter(v -> v > 0).mapToLong(v -> v).sum();
                long extra = -diff.values().stream().filter(v -> v < 0).mapToLong(v -> v).sum();
                r.lost += lost;
                r.duplicates += extra;
                if ((lost > 0 || extra > 0 || !got.equals(e.getValue())) && r.failures.size() < 20) {
                    r.failures.add("sums-out of " + e.getKey() + " differs from the oracle: lost " + lost + ", extra " + extra
                            + "; first difference at index " + ItSupport.firstDiff(e.getValue(), got) + " expected "
                            + around(e.getValue(), ItSupport.firstDiff(e.getValue(), got)) + " got " + around(got, ItSupport.firstDiff(e.getValue(), got)));
                }
                // join: a contiguous suffix of the sums sequence, each joined with the profile
                String profile = profiles.get(e.getKey());
                List<String> exJoin = e.getValue().stream().map(v -> v + "|" + profile).toList();
                List<String> gotJoin = actualJoin.getOrDefault(e.getKey(), List.of());
                if (gotJoin.isEmpty() || gotJoin.size() > exJoin.size()
                        || !exJoin.subList(exJoin.size() - gotJoin.size(), exJoin.size()).equals(gotJoin)) {
                    r.joinProblems++;
                    if (r.failures.size() < 20) {
                        r.failures.add("join-out of " + e.getKey() + " is not a suffix of the oracle: got " + gotJoin.size()
                                + " records, expected up to " + exJoin.size() + ", first difference at index "
                                + ItSupport.firstDiff(exJoin, gotJoin));
                    }
                }
            }
        } else {
            Set<Long> seen = sumsOut.stream().map(rec -> Long.parseLong(rec.value().split(",")[2])).collect(Collectors.toSet());
            r.lost = inputs.stream().filter(in -> !seen.contains(in.seq())).count();
            r.duplicates = sumsOut.size() - seen.size();
            if (r.lost > 0) {
                r.failures.add("ALOS lost " + r.lost + " input records, first seqs: " + inputs.stream()
                        .filter(in -> !seen.contains(in.seq())).limit(10).map(in -> String.valueOf(in.seq())).toList());
            }
            for (Map.Entry<String, List<String>> e : expected.entrySet()) {
                List<String> got = actual.getOrDefault(e.getKey(), List.of());
                List<String> gotJoin = actualJoin.getOrDefault(e.getKey(), List.of());
                String lastSum = got.isEmpty() ? null : got.get(got.size() - 1);
                String lastJoin = gotJoin.isEmpty() ? null : gotJoin.get(gotJoin.size() - 1);
                if (lastSum == null || !(lastSum + "|" + profiles.get(e.getKey())).equals(lastJoin)) {
                    r.joinProblems++;
                    if (r.failures.size() < 20) {
                        r.failures.add("ALOS: last join-out of " + e.getKey() + " = " + lastJoin + " does not match last sums-out " + lastSum);
                    }
                }
            }
        }
        // final store contents, read through Interactive Queries
        if (dump.isEmpty()) {
            r.storeProblems.add("no store dump");
            return;
        }
        if (!profiles.equals(dump.getOrDefault("profiles", Map.of()))) {
            r.storeProblems.add("profiles store differs: " + dump.get("profiles"));
        }
        Map<String, String> sums = dump.getOrDefault("sums", Map.of());
        Map<String, String> joined = dump.getOrDefault("joined", Map.of());
        for (Map.Entry<String, List<String>> e : expected.entrySet()) {
            String want = e.getValue().get(e.getValue().size() - 1);
            String have = sums.get(e.getKey());
            boolean ok;
            if (eos) {
                ok = want.equals(have);
            } else {
                String[] w = want.split(",");
                String[] h = have == null ? null : have.split(",");
                ok = h != null && h[2].equals(w[2]) && Long.parseLong(h[0]) >= Long.parseLong(w[0])
                        && Long.parseLong(h[1]) >= Long.parseLong(w[1]);
            }
            if (!ok) {
                r.storeProblems.add("sums[" + e.getKey() + "] = " + have + ", oracle " + want);
            }
            String wantJoin = have + "|" + profiles.get(e.getKey());
            if (!wantJoin.equals(joined.get(e.getKey()))) {
                r.storeProblems.add("joined[" + e.getKey() + "] = " + joined.get(e.getKey()) + ", expected " + wantJoin);
            }
        }
        if (sums.size() != expected.size()) {
            r.storeProblems.add("sums store has " + sums.size() + " keys, oracle " + expected.size());
        }
    }



    private static List<String> around(List<String> l, int i) {
        return l.subList(Math.max(0, Math.min(l.size(), i - 1)), Math.min(l.size(), i + 2));
    }

    // ---- Kafka helpers ------------------------------------------------------------------------------




    // ---- reporting ----------------------------------------------------------------------------------

    private static String describe(ScenarioResult r) {
        StringBuilder sb = new StringBuilder();
        sb.append("=== ").append(r.name()).append(" (").append(r.seconds).append(" s)\n");
        for (RunStats rs : r.runs) {
            sb.append("  run ").append(rs.run).append(": running after ").append(rs.msToRunning).append(" ms")
                    .append(rs.killPhase == null ? ", final" : ", killed in " + rs.killPhase + " (exit " + rs.exitCode + ")")
                    .append(", tasks wiped ").append(rs.wipedTaskIds.size()).append(rs.wipedTaskIds.isEmpty() ? "" : " " + rs.wipedTaskIds)
                    .append(", restored ").append(rs.restores.stream().mapToLong(x -> ItSupport.leadingLong(x[5])).sum()).append(" records\n");
            for (String[] x : rs.restores) {
                sb.append("    restore ").append(x[0]).append(' ').append(x[1]).append('-').append(x[2])
                        .append(" from ").append(x[3]).append(" to ").append(x[4]).append(": ").append(x[5]).append(" records")
                        .append(Long.parseLong(x[3]) == 0 && Long.parseLong(x[4]) > 0
                                ? (rs.wipedTaskIds.contains("0_" + x[2]) ? "  FULL (task wiped)" : "  FULL (no wipe)") : "")
                        .append('\n');
            }
            rs.uncaught.forEach(u -> sb.append("    UNCAUGHT ").append(u).append('\n'));
        }
        sb.append("  outputs ").append(r.actualOutputs).append(" / expected ").append(r.expectedOutputs)
                .append(", lost ").append(r.lost).append(", duplicates ").append(r.duplicates)
                .append(", join problems ").append(r.joinProblems).append(", store problems ").append(r.storeProblems.size()).append('\n');
        r.failures.forEach(f -> sb.append("  FAILURE ").append(f).append('\n'));
        r.storeProblems.stream().limit(10).forEach(f -> sb.append("  STORE ").append(f).append('\n'));
        return sb.toString();
    }

    private void writeSummary() throws IOException {
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNanos);
        StringBuilder md = new StringBuilder();
        md.append("# Integration test summary: crash matrix\n\n");
        md.append("- profile: `").append(System.getProperty("it.crash.profile", "ci")).append("`, seed `").append(seed)
                .append("` (replay: `-Dit.crash.seed=").append(seed).append("`)\n");
        md.append("- kills per scenario: ").append(killsPerScenario).append(", input records per scenario: ").append(records)
                .append(", keys: ").append(KEYS).append(", partitions: ").append(PARTITIONS)
                .append(", brokers: 1 (KRaft, in the test JVM), app: child JVM killed with SIGKILL\n");
        md.append("- topology: source table `profiles`, aggregation `sums` (running count,sum,lastSeq), table-table join `joined`;"
                + " caching off; commit.interval.ms=200; one stream thread\n");
        md.append("- Kafka Streams ").append(ItSupport.kafkaVersion("streams")).append(" (clients and broker ")
                .append(ItSupport.kafkaVersion("clients")).append("), scenarios: ")
                .append(scenarios().map(sc -> scenarioName(sc[0], sc[1], sc[2])).toList()).append('\n');
        md.append("- `/txn`: Kafka 4.4's `enable.transactional.statestores=true` (KIP-892: Kafka commits every store after each"
                + " transaction and does not wipe a task closed dirty); the other scenarios run with it off (Kafka's default)\n");
        md.append("- total wall time: ").append(seconds).append(" s\n\n");
        md.append("A *full restore* is a restore after a kill that starts at offset 0 of a non-empty changelog partition; "
                + "*tasks wiped* counts the tasks Kafka closed dirty and wiped on a TaskCorruptedException (\"Detected the states of tasks [..] are corrupted\"), "
                + "each wipe forcing a full restore of all of that task's stores (a dirty close that wipes a task, \"Wiping state stores\", counts too; "
                + "each task counts once per restart).\n\n");
        md.append("| scenario | kills | kill phases | full restores (store-partitions) | restarts with a full restore | tail restores | records restored (total / max per restart) | records restored per restart | tasks wiped | launch to RUNNING ms (median / max) | launch to last restore end ms (median / max) | outputs / expected | lost | duplicates | join / store problems | result |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        List<ScenarioResult> copy;
        synchronized (results) {
            copy = new ArrayList<>(results);
        }
        int totalKills = 0;
        for (ScenarioResult r : copy) {
            List<RunStats> after = r.runs.stream().filter(rs -> rs.run > 0).toList();
            Map<String, Long> phases = r.runs.stream().filter(rs -> rs.killPhase != null)
                    .collect(Collectors.groupingBy(rs -> rs.killPhase, TreeMap::new, Collectors.counting()));
            long restartsWithFull = after.stream().filter(rs -> rs.restores.stream()
                    .anyMatch(x -> Long.parseLong(x[3]) == 0 && Long.parseLong(x[4]) > 0)).count();
            long tail = after.stream().flatMap(rs -> rs.restores.stream()).filter(x -> Long.parseLong(x[3]) > 0).count();
            long restored = after.stream().flatMap(rs -> rs.restores.stream())
                    .mapToLong(x -> ItSupport.leadingLong(x[5])).sum();
            int wipes = after.stream().mapToInt(rs -> rs.wipedTaskIds.size()).sum();
            List<Long> perRestart = after.stream()
                    .map(rs -> rs.restores.stream().mapToLong(x -> ItSupport.leadingLong(x[5])).sum()).toList();
            List<Long> times = after.stream().map(rs -> rs.msToRunning).filter(x -> x != null).sorted().toList();
            List<Long> restoredTimes = after.stream().map(rs -> rs.msToRestored).filter(x -> x != null).sorted().toList();
            long maxPerRestart = after.stream().mapToLong(rs -> rs.restores.stream().mapToLong(x -> ItSupport.leadingLong(x[5])).sum())
                    .max().orElse(0);
            Map<String, Long> fullPerStore = after.stream().flatMap(rs -> rs.restores.stream())
                    .filter(x -> Long.parseLong(x[3]) == 0 && Long.parseLong(x[4]) > 0)
                    .collect(Collectors.groupingBy(x -> x[0], TreeMap::new, Collectors.counting()));
            boolean ok = r.failures.isEmpty() && r.lost == 0 && (!r.eos() || r.duplicates == 0) && r.joinProblems == 0
                    && r.storeProblems.isEmpty();
            totalKills += (int) r.runs.stream().filter(rs -> rs.killPhase != null).count();
            md.append("| ").append(r.name())
                    .append(" | ").append(r.runs.stream().filter(rs -> rs.killPhase != null).count())
                    .append(" | ").append(phases)
                    .append(" | ").append(fullRestores(r)).append(' ').append(fullPerStore)
                    .append(", after a wipe: ").append(after.stream().mapToLong(rs -> rs.restores.stream()
                            .filter(x -> Long.parseLong(x[3]) == 0 && Long.parseLong(x[4]) > 0 && rs.wipedTaskIds.contains("0_" + x[2]))
                            .count()).sum())
                    .append(" | ").append(restartsWithFull).append(" / ").append(after.size())
                    .append(" | ").append(tail)
                    .append(" | ").append(restored).append(" / ").append(maxPerRestart)
                    .append(" | ").append(perRestart)
                    .append(" | ").append(wipes)
                    .append(" | ").append(times.isEmpty() ? "-" : times.get(times.size() / 2) + " / " + times.get(times.size() - 1))
                    .append(" | ").append(restoredTimes.isEmpty() ? "-"
                            : restoredTimes.get(restoredTimes.size() / 2) + " / " + restoredTimes.get(restoredTimes.size() - 1))
                    .append(" | ").append(r.actualOutputs).append(" / ").append(r.expectedOutputs)
                    .append(" | ").append(r.lost)
                    .append(" | ").append(r.duplicates)
                    .append(" | ").append(r.joinProblems).append(" / ").append(r.storeProblems.size())
                    .append(" | ").append(ok ? "PASS" : "FAIL").append(" |\n");
        }
        md.append("\nTotal kills: ").append(totalKills).append("\n\n## Details\n\n```\n");
        for (ScenarioResult r : copy) {
            md.append(describe(r));
        }
        md.append("```\n");
        Files.createDirectories(outDir);
        Files.writeString(outDir.resolve("it-summary.md"), md);
        System.out.println(md);
    }


}
