package io.github.mmapstore.it;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Corruption matrix of issue 6 (MmapStore only: the damage is to MmapStore's file formats). {@link CrashApp}
 * (EOS, three MmapStores, small memtables so segments exist, compaction trigger 2) runs in a child JVM and is
 * killed with SIGKILL mid-processing; between the kill and the restart the test damages one store's files
 * ({@link StoreDamage.Kind}: a bit flip in a log record, a segment page or the MANIFEST, a truncation, a zeroed
 * 4 KiB page, a deleted segment), seeded and printed. After the restart it waits until the application has
 * consumed everything and checks, with a {@code read_committed} consumer and Interactive Queries, that the
 * output equals the oracle exactly and the stores hold the oracle's values: the application must rebuild the
 * damaged store by itself and never emit a wrong result.
 *
 * <p>Scenarios run in chains (one application, one set of topics, one state directory per chain): kill,
 * damage, restart, verify, more input, kill, damage... so later scenarios also meet the leftovers of earlier
 * ones (quarantine directories, latent damage in pages nobody read). Counted per scenario: was the damaged
 * store quarantined (a new {@code quarantine-*} directory), and did Kafka restore it in full (a restore from
 * offset 0 that ended) or only its tail.
 *
 * <p>System properties: {@code it.corruption.scenarios} (CI 6 = one of each kind, full profile 54),
 * {@code it.corruption.chain} (scenarios per chain, 9), {@code it.corruption.seed}, {@code it.summary.dir}.
 * Summary: {@code target/it-summary-corruption.md}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CorruptionMatrixIT {
    static final int PARTITIONS = 4;
    static final int KEYS = 2000;
    static final int BATCH = 3000;
    static final String[] DAMAGED_STORES = {"sums", "joined", "sums", "joined", "profiles"};

    private final int scenarios = Integer.getInteger("it.corruption.scenarios", 6);
    private final int chainLength = Integer.getInteger("it.corruption.chain", 9);
    /**
     * Kafka 4.4's transactional state stores per chain: {@code off}, {@code on}, or {@code alternate} (the default: even
     * chains off, odd chains on). On Kafka 4.3, which has no such flag, every chain runs with it off.
     */
    private final String txnMode = System.getProperty("it.corruption.txn", "alternate").trim();
    private final long seed = seedProperty();
    private final Path outDir = Path.of(System.getProperty("it.summary.dir", "target"));
    private final List<Scenario> results = Collections.synchronizedList(new ArrayList<>());
    private final List<String> chainNotes = Collections.synchronizedList(new ArrayList<>());
    private KafkaCluster cluster;
    private long startNanos;

    private static long seedProperty() {
        String s = System.getProperty("it.corruption.seed", "");
        return s.isBlank() ? new Random().nextLong() : Long.parseLong(s.trim());
    }

    static final class Scenario {
        int index;
        int chain;
        boolean txn;
        int run;
        StoreDamage.Kind kind;
        String task;
        String store;
        String before;
        String damage;
        String killedIn;
        boolean quarantined;
        boolean quarantineKept;
        String detectedAt = "not detected";
        boolean taskWiped;
        String restoreOfDamaged = "none";
        long fullRestoresOther;
        int uncaught;
        String firstUncaught = "";
        Long msToRunning;
        long msToVerified = -1;
        List<String> problems = new ArrayList<>();
        boolean verified;
        /** Output correct, but the stores could not be read through IQ: the damage was found by an IQ read. */
        boolean iqPoisoned;

        boolean ok() {
            return verified && problems.isEmpty();
        }

        String line() {
            return String.format("#%d chain %d%s run %d %s %s/%s [%s] %s -> detected=%s quarantined=%s kept=%s taskWiped=%s restore=%s otherFull=%d uncaught=%d running=%sms %s%s",
                    index, chain, txn ? " (txn)" : "", run, kind, task, store, before, damage, detectedAt, quarantined, quarantineKept, taskWiped,
                    restoreOfDamaged, fullRestoresOther, uncaught,
                    msToRunning, ok() ? "OK" : "FAIL " + problems, firstUncaught.isEmpty() ? "" : " first-uncaught: " + firstUncaught);
        }
    }

    @BeforeAll
    void startCluster() throws Exception {
        startNanos = System.nanoTime();
        System.out.println("corruption matrix seed=" + seed + " (replay with -Dit.corruption.seed=" + seed + ")");
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

    @Test
    void damageBetweenKillAndRestart() throws Exception {
        // kinds in a seeded order: every window of 6 consecutive scenarios has one of each
        List<StoreDamage.Kind> order = new ArrayList<>(List.of(StoreDamage.Kind.values()));
        Collections.shuffle(order, new Random(seed));
        int chains = (scenarios + chainLength - 1) / chainLength;
        for (int c = 0; c < chains; c++) {
            int from = c * chainLength;
            int n = Math.min(chainLength, scenarios - from);
            runChain(c, from, n, order);
        }
        List<Scenario> failed = results.stream().filter(s -> !s.ok()).toList();
        assertThat(failed.stream().map(Scenario::line).toList()).as("corruption scenarios that did not recover to the oracle").isEmpty();
        assertThat(results).hasSize(scenarios);
    }

    /** Whether chain {@code chain} runs with {@code enable.transactional.statestores=true}. */
    private boolean txnChain(int chain) {
        if (!CrashMatrixIT.kafkaHasTransactionalStores()) {
            return false;
        }
        return switch (txnMode) {
            case "on" -> true;
            case "off" -> false;
            case "alternate" -> chain % 2 == 1;
            default -> throw new IllegalArgumentException("it.corruption.txn must be off, on or alternate: " + txnMode);
        };
    }

    private void runChain(int chain, int firstIndex, int n, List<StoreDamage.Kind> order) throws Exception {
        boolean txn = txnChain(chain);
        String prefix = "t-corrupt-" + chain;
        String appId = "corrupt-" + chain;
        Path work = outDir.resolve("it-work").resolve("corruption-" + chain);
        ItSupport.deleteRecursively(work);
        Files.createDirectories(work);
        Path stateRoot = work.resolve("state").toAbsolutePath();
        cluster.createTopics(PARTITIONS, List.of(prefix + "-input", prefix + "-profiles", prefix + "-sums-out", prefix + "-join-out"));
        long chainSeed = seed ^ ((chain + 1) * 0x9E3779B97F4A7C15L);
        Random rnd = new Random(chainSeed);
        Map<String, String> profiles = new TreeMap<>();
        for (int k = 0; k < KEYS; k++) {
            profiles.put("k" + k, "p" + k);
        }
        List<Input> inputs = new ArrayList<>();
        long baseTimestamp = System.currentTimeMillis();
        List<String> args = List.of("--bootstrap", cluster.bootstrapServers(), "--app-id", appId,
                "--state-dir", stateRoot.toString(), "--store", "mmap", "--guarantee", "exactly_once_v2",
                "--topics", prefix, "--commit-interval-ms", "200",
                "--mmapstore.memtable.bytes", "65536", "--mmapstore.compaction.trigger.segments", "2",
                "--txn", String.valueOf(txn));
        try (KafkaProducer<String, String> producer = ItSupport.producer(cluster)) {
            for (Map.Entry<String, String> e : profiles.entrySet()) {
                producer.send(new ProducerRecord<>(prefix + "-profiles", null, baseTimestamp - 60_000, e.getKey(), e.getValue()));
            }
            producer.flush();
            Scenario pending = null;
            for (int run = 0; run <= n; run++) {
                ChildApp app = ChildApp.launch(work, run, args);
                long launched = System.nanoTime();
                ChildApp.Event running = app.awaitState("RUNNING", 120_000);
                if (pending != null) {
                    pending.msToRunning = running == null ? null : app.millisSinceLaunch(running);
                    boolean ok = verifyAfterRestart(pending, app, appId, prefix, stateRoot, inputs, profiles, running != null);
                    pending.msToVerified = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - launched);
                    System.out.println("corruption " + pending.line());
                    results.add(pending);
                    pending = null;
                    if (!ok) {
                        app.kill();
                        chainNotes.add("chain " + chain + ": scenario #" + (firstIndex + run - 1) + ": " + String.join("; ", results.get(results.size() - 1).problems));
                        chainNotes.add("chain " + chain + ": stopped after scenario #" + (firstIndex + run - 1)
                                + " failed; " + (n - run) + " scenarios of this chain not run");
                        for (int skipped = run; skipped < n; skipped++) {
                            Scenario s = new Scenario();
                            s.index = firstIndex + skipped;
                            s.chain = chain;
                            s.txn = txn;
                            s.run = skipped;
                            s.kind = order.get(s.index % order.size());
                            s.damage = "not run (chain stopped)";
                            s.problems.add("not run: an earlier scenario of the chain failed");
                            results.add(s);
                        }
                        return;
                    }
                } else if (running == null) {
                    app.kill();
                    throw new AssertionError("chain " + chain + ": first run not RUNNING within 120 s");
                }
                if (run == n) {
                    app.stop(60_000);
                    return;
                }
                // more input, spread over ~2 s, and a kill in the middle of it (the first batch is larger so
                // that every store has flushed segments before the first damage)
                int batch = run == 0 ? 2 * BATCH : BATCH;
                List<Input> more = new ArrayList<>(batch);
                for (int i = 0; i < batch; i++) {
                    more.add(new Input("k" + rnd.nextInt(KEYS), inputs.size() + i, 1 + rnd.nextInt(9)));
                }
                inputs.addAll(more);
                AtomicReference<Throwable> err = new AtomicReference<>();
                Thread feeder = new Thread(() -> {
                    try {
                        long start = System.nanoTime();
                        for (int i = 0; i < more.size(); i++) {
                            Input in = more.get(i);
                            producer.send(new ProducerRecord<>(prefix + "-input", null, baseTimestamp + in.seq(), in.key(),
                                    in.seq() + ":" + in.inc()));
                            if (i % 100 == 99) {
                                long wait = start + TimeUnit.MILLISECONDS.toNanos(2_000L * (i + 1) / more.size()) - System.nanoTime();
                                if (wait > 0) {
                                    TimeUnit.NANOSECONDS.sleep(wait);
                                }
                            }
                        }
                        producer.flush();
                    } catch (Throwable t) {
                        err.set(t);
                    }
                }, "corruption-feeder");
                feeder.start();
                Thread.sleep(800 + rnd.nextInt(2_200));
                Scenario s = new Scenario();
                s.index = firstIndex + run;
                s.chain = chain;
                s.txn = txn;
                s.run = run;
                s.kind = order.get(s.index % order.size());
                s.killedIn = app.state();
                int exit = app.kill();
                feeder.join(60_000);
                if (err.get() != null) {
                    throw new AssertionError("input producer failed", err.get());
                }
                if (exit != 137) {
                    s.problems.add("exit code " + exit + " after SIGKILL");
                }
                // damage one store of one task (for the damages of segments: one that has segments, if any does)
                s.task = "0_" + rnd.nextInt(PARTITIONS);
                s.store = DAMAGED_STORES[rnd.nextInt(DAMAGED_STORES.length)];
                if (s.kind == StoreDamage.Kind.SEGMENT_BITFLIP || s.kind == StoreDamage.Kind.DELETE_SEGMENT
                        || s.kind == StoreDamage.Kind.ZERO_PAGE) {
                    for (int attempt = 0; attempt < 20
                            && StoreDamage.files(storeDir(stateRoot, appId, s.task, s.store), ".seg").isEmpty(); attempt++) {
                        s.task = "0_" + rnd.nextInt(PARTITIONS);
                        s.store = DAMAGED_STORES[rnd.nextInt(DAMAGED_STORES.length)];
                    }
                }
                Path dir = storeDir(stateRoot, appId, s.task, s.store);
                s.before = StoreDamage.inventory(dir) + ", " + StoreDamage.quarantines(dir).size() + " quarantine";
                s.damage = StoreDamage.apply(s.kind, dir, new Random(rnd.nextLong()));
                System.out.println("corruption #" + s.index + " (chain " + chain + ", seed " + seed + "): " + s.kind + " on "
                        + s.task + "/" + s.store + " [" + s.before + "]: " + s.damage);
                pending = s;
            }
        }
    }

    static Path storeDir(Path stateRoot, String appId, String task, String store) {
        return stateRoot.resolve(appId).resolve(task).resolve("mmapstore").resolve(store);
    }

    /** After the restart that follows scenario {@code s}'s damage: wait, verify, classify. False ends the chain. */
    private boolean verifyAfterRestart(Scenario s, ChildApp app, String appId, String prefix, Path stateRoot,
            List<Input> inputs, Map<String, String> profiles, boolean running) throws Exception {
        Path dir = storeDir(stateRoot, appId, s.task, s.store);
        int quarantinesBefore = Integer.parseInt(s.before.replaceAll(".*, (\\d+) quarantine$", "$1"));
        if (!running) {
            s.problems.add("not RUNNING within 120 s (state " + app.state() + ")");
        } else if (!ItSupport.waitConsumed(cluster, appId, List.of(prefix + "-input", prefix + "-profiles"), PARTITIONS,
                Duration.ofSeconds(120))) {
            s.problems.add("input not consumed within 120 s (state " + app.state() + ")");
        } else {
            Map<String, Map<String, String>> dump = ItSupport.dumpStores(app, Duration.ofSeconds(45), PARTITIONS);
            List<String> v = ItSupport.verifyEos(ItSupport.oracle(inputs), profiles,
                    ItSupport.readAll(cluster, prefix + "-sums-out", PARTITIONS),
                    ItSupport.readAll(cluster, prefix + "-join-out", PARTITIONS), dump, 10);
            if (dump.isEmpty() && v.size() == 1) {
                // the output is right, but IQ cannot read the stores: say why (the last DUMP_ERROR)
                s.iqPoisoned = true;
                String why = app.events.stream().filter(e -> e.type().equals("DUMP_ERROR")).reduce((x, y) -> y)
                        .map(e -> String.join(" ", e.fields()).replace('_', ' ')).orElse("?");
                v = List.of("output equals the oracle, but the stores stay unqueryable for 45 s: "
                        + (why.length() > 400 ? why.substring(0, 400) : why));
            }
            s.problems.addAll(v);
            s.verified = true;
        }
        s.quarantineKept = StoreDamage.quarantines(dir).size() > quarantinesBefore;
        // the child's log: the store's own reports (quarantine at open, damage found by a read) and Kafka's task wipes
        String where = "/" + s.task + "/mmapstore/" + s.store + "/";
        if (Files.exists(app.logFile)) {
            for (String line : Files.readAllLines(app.logFile)) {
                if (line.contains("MmapStore " + s.store + " in task " + s.task + " was damaged")) {
                    s.quarantined = true;
                    if (s.detectedAt.equals("not detected")) {
                        s.detectedAt = "open";
                    }
                } else if (line.contains("Store " + s.store + " is damaged") && line.contains(where)
                        || line.contains("MmapStore " + s.store + " in task " + s.task + " is damaged")) {
                    s.detectedAt = "read";
                } else {
                    java.util.regex.Matcher m = CrashMatrixIT.WIPE_LINE.matcher(line);
                    if (m.find() && List.of(m.group(1).split(",\\s*")).contains(s.task)) {
                        s.taskWiped = true;
                    }
                    java.util.regex.Matcher d = CrashMatrixIT.DIRTY_WIPE_LINE.matcher(line);
                    if (d.find() && d.group(1).equals(s.task)) {
                        s.taskWiped = true;
                    }
                }
            }
        }
        String partition = s.task.substring(2);
        String changelog = appId + "-" + s.store + "-changelog";
        for (String[] x : ItSupport.restores(app)) {
            boolean full = Long.parseLong(x[3]) == 0 && Long.parseLong(x[4]) > 0;
            if (x[0].equals(s.store) && x[1].equals(changelog) && x[2].equals(partition)) {
                String what = full ? "full(" + x[5] + "/" + x[4] + ")" : "tail(from " + x[3] + ": " + x[5] + ")";
                s.restoreOfDamaged = s.restoreOfDamaged.equals("none") ? what : s.restoreOfDamaged + "+" + what;
            } else if (full) {
                s.fullRestoresOther++;
            }
        }
        List<String> unc = ItSupport.uncaught(app).stream().filter(u -> u.startsWith("UNCAUGHT ")).toList();
        s.uncaught = unc.size();
        s.firstUncaught = unc.isEmpty() ? "" : unc.get(0).substring(0, Math.min(240, unc.get(0).length()));
        // an unqueryable store does not end the chain: the next kill and restart must quarantine and rebuild it
        return (s.problems.isEmpty() || s.iqPoisoned) && app.process.isAlive();
    }

    private void writeSummary() throws Exception {
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNanos);
        List<Scenario> copy;
        synchronized (results) {
            copy = new ArrayList<>(results);
        }
        StringBuilder md = new StringBuilder();
        md.append("# Integration test summary: corruption matrix (MmapStore)\n\n");
        md.append("- profile: `").append(System.getProperty("it.crash.profile", "ci")).append("`, seed `").append(seed)
                .append("` (replay: `-Dit.corruption.seed=").append(seed).append("`)\n");
        md.append("- scenarios: ").append(copy.size()).append(" in chains of ").append(chainLength)
                .append("; EOS (exactly_once_v2); keys ").append(KEYS).append(", partitions ").append(PARTITIONS)
                .append(", input ").append(BATCH).append(" records per scenario (first of a chain ").append(2 * BATCH)
                .append("); mmapstore.memtable.bytes=65536, mmapstore.compaction.trigger.segments=2\n");
        md.append("- Kafka Streams ").append(ItSupport.kafkaVersion("streams")).append("; enable.transactional.statestores per chain: `")
                .append(txnMode).append("`").append(CrashMatrixIT.kafkaHasTransactionalStores() ? "" : " (off: this Kafka has no such flag)")
                .append("; chains with it on are marked `txn`\n");
        md.append("- total wall time: ").append(seconds).append(" s\n");
        chainNotes.forEach(x -> md.append("- ").append(x).append('\n'));
        md.append("\n*Detected*: the store reported the damage when it opened (and quarantined it) or when a read hit it "
                + "(ProcessorStateException, CORRUPT note, quarantine at the next open); *not detected*: the damage hit bytes that recovery "
                + "legitimately discards (a torn-looking tail after the last commit) or pages nobody read yet. "
                + "*Quarantined*: the child's log says the store moved its files to `quarantine-*`; *dir kept*: that directory still exists "
                + "after the restart (Kafka's task wipe under EOS deletes the whole task directory, quarantine included). "
                + "*Task wiped*: Kafka closed the task dirty and wiped all its stores (\"Detected the states of tasks [..] are corrupted\"). "
                + "*Full restore*: Kafka restored the damaged store partition from offset 0 to its end; *tail*: only from its committed offset. "
                + "*Correct*: after the restart the `read_committed` output equals the oracle exactly and the stores (read through IQ) hold the oracle's values.\n\n");
        md.append("| damage | scenarios | detected at open | detected by a read | not detected | quarantined | quarantine dir kept | task wiped by Kafka | fully restored | tail-only restore | no restore | task failures (uncaught) seen | correct | output correct but store unqueryable (IQ read found the damage) |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        Map<StoreDamage.Kind, List<Scenario>> byKind = copy.stream()
                .collect(Collectors.groupingBy(s -> s.kind, TreeMap::new, Collectors.toList()));
        for (Map.Entry<StoreDamage.Kind, List<Scenario>> e : byKind.entrySet()) {
            row(md, e.getKey().toString(), e.getValue());
        }
        if (copy.stream().anyMatch(s -> s.txn)) {
            row(md, "flag off", copy.stream().filter(s -> !s.txn).toList());
            row(md, "flag on (txn)", copy.stream().filter(s -> s.txn).toList());
        }
        row(md, "**all**", copy);
        md.append("\n## Scenarios\n\n| # | chain/run | damage | store | before | what was done | killed in | detected | quarantined (dir kept) | task wiped | restore of the damaged store | other full restores | uncaught | launch to RUNNING ms | launch to verified ms | result |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Scenario s : copy) {
            md.append("| ").append(s.index).append(" | ").append(s.chain).append(s.txn ? " txn" : "").append('/').append(s.run)
                    .append(" | ").append(s.kind).append(" | ").append(s.task).append('/').append(s.store)
                    .append(" | ").append(s.before).append(" | ").append(s.damage).append(" | ").append(s.killedIn)
                    .append(" | ").append(s.detectedAt)
                    .append(" | ").append(s.quarantined ? "yes" : "no").append(s.quarantineKept ? " (kept)" : s.quarantined ? " (deleted)" : "")
                    .append(" | ").append(s.taskWiped ? "yes" : "no")
                    .append(" | ").append(s.restoreOfDamaged)
                    .append(" | ").append(s.fullRestoresOther).append(" | ").append(s.uncaught)
                    .append(s.firstUncaught.isEmpty() ? "" : " (" + s.firstUncaught.replace('|', '/') + ")")
                    .append(" | ").append(s.msToRunning).append(" | ").append(s.msToVerified)
                    .append(" | ").append(s.ok() ? "PASS" : "FAIL: " + String.join("; ", s.problems).replace('|', '/')).append(" |\n");
        }
        Files.createDirectories(outDir);
        Files.writeString(outDir.resolve("it-summary-corruption.md"), md);
        System.out.println(md);
    }

    private static void row(StringBuilder md, String name, List<Scenario> xs) {
        long q = xs.stream().filter(s -> s.quarantined).count();
        long kept = xs.stream().filter(s -> s.quarantineKept).count();
        long wiped = xs.stream().filter(s -> s.taskWiped).count();
        long atOpen = xs.stream().filter(s -> s.detectedAt.equals("open")).count();
        long byRead = xs.stream().filter(s -> s.detectedAt.equals("read")).count();
        long notDetected = xs.stream().filter(s -> s.detectedAt.equals("not detected")).count();
        long full = xs.stream().filter(s -> s.restoreOfDamaged.contains("full")).count();
        long tail = xs.stream().filter(s -> !s.restoreOfDamaged.contains("full") && s.restoreOfDamaged.contains("tail")).count();
        long none = xs.stream().filter(s -> s.restoreOfDamaged.equals("none")).count();
        long unc = xs.stream().filter(s -> s.uncaught > 0).count();
        long ok = xs.stream().filter(Scenario::ok).count();
        long poisoned = xs.stream().filter(s -> s.iqPoisoned).count();
        md.append("| ").append(name).append(" | ").append(xs.size()).append(" | ").append(atOpen).append(" | ").append(byRead)
                .append(" | ").append(notDetected).append(" | ").append(q).append(" | ").append(kept).append(" | ").append(wiped)
                .append(" | ").append(full)
                .append(" | ").append(tail).append(" | ").append(none).append(" | ").append(unc).append(" | ")
                .append(ok).append(" / ").append(xs.size()).append(" | ").append(poisoned).append(" |\n");
    }
}
