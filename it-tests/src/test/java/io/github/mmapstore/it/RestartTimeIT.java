package io.github.mmapstore.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Restart time (issue 6), only with {@code -Prestart-time} ({@code it.restart.enabled=true}): one input topic
 * of {@code it.restart.bytes} (default 1 GiB) of 1 KiB values under distinct keys is materialized by
 * {@link CrashApp}'s {@code bulk} topology (one logged key-value store, {@code exactly_once_v2}) into an
 * MmapStore and, by a second application on the same input, into a RocksDB store. Once all of it is
 * consumed, a trickle of updates flows and the application is killed with SIGKILL mid-processing, then
 * restarted: the time from launch to RUNNING (and to the last restore's end) and the records restored are
 * measured, {@code it.restart.kills} times per store. Summary: {@code target/it-summary-restart-time.md}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RestartTimeIT {
    static final int PARTITIONS = 4;
    static final int VALUE_BYTES = 1024;
    static final String PREFIX = "t-restart";

    private final boolean enabled = Boolean.getBoolean("it.restart.enabled");
    private final long bytes = Long.getLong("it.restart.bytes", 1L << 30);
    private final int kills = Integer.getInteger("it.restart.kills", 2);
    private final Path outDir = Path.of(System.getProperty("it.summary.dir", "target"));
    private final List<String> rows = Collections.synchronizedList(new ArrayList<>());
    private final List<String> details = Collections.synchronizedList(new ArrayList<>());
    private final java.util.Map<String, Long> medians = new java.util.concurrent.ConcurrentHashMap<>();
    private KafkaCluster cluster;
    private long keys;
    private long produceSeconds;

    @BeforeAll
    void setUp() throws Exception {
        if (!enabled) {
            return;
        }
        cluster = KafkaCluster.start(1);
        cluster.createTopics(PARTITIONS, List.of(PREFIX + "-input"));
        keys = bytes / VALUE_BYTES;
        long t0 = System.nanoTime();
        try (KafkaProducer<String, String> p = bulkProducer()) {
            String pad = "x".repeat(VALUE_BYTES - 24);
            for (long i = 0; i < keys; i++) {
                String k = String.format("key-%010d", i);
                p.send(new ProducerRecord<>(PREFIX + "-input", k, String.format("v0-%018d", i) + pad));
            }
            p.flush();
        }
        produceSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
        System.out.println("restart time: produced " + keys + " records of " + VALUE_BYTES + " B in " + produceSeconds + " s");
    }

    @AfterAll
    void tearDown() throws Exception {
        if (cluster == null) {
            return;
        }
        try {
            writeSummary();
        } finally {
            cluster.close();
        }
    }

    private KafkaProducer<String, String> bulkProducer() {
        java.util.Properties p = new java.util.Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024);
        p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 128L << 20);
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    /**
     * {@code mmap} and {@code rocksdb} run with Kafka 4.4's transactional state stores off (Kafka's default:
     * after a kill -9 under exactly-once Kafka wipes RocksDB's task directory and restores it in full), the
     * {@code -txn} variants with them on (no wipe: RocksDB replays since its last memtable flush).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"mmap", "rocksdb", "mmap-txn", "rocksdb-txn"})
    void restartAfterKillUnderEos(String variant) throws Exception {
        Assumptions.assumeTrue(enabled, "restart-time test runs only with -Prestart-time (-Dit.restart.enabled=true)");
        boolean txn = variant.endsWith("-txn");
        Assumptions.assumeTrue(!txn || CrashMatrixIT.kafkaHasTransactionalStores(), "Kafka Streams "
                + ItSupport.kafkaVersion("streams") + " has no transactional state stores");
        Assumptions.assumeTrue(selected(variant), "not in it.restart.stores");
        String storeKind = txn ? variant.substring(0, variant.length() - 4) : variant;
        String appId = "restart-" + variant;
        Path work = outDir.resolve("it-work").resolve("restart-" + variant);
        ItSupport.deleteRecursively(work);
        List<String> args = new ArrayList<>(List.of("--bootstrap", cluster.bootstrapServers(), "--app-id", appId,
                "--state-dir", work.resolve("state").toAbsolutePath().toString(), "--store", storeKind,
                "--guarantee", "exactly_once_v2", "--topics", PREFIX, "--topology", "bulk", "--commit-interval-ms", "200"));
        if (txn) {
            args.addAll(List.of("--txn", "true"));
        }
        List<String> jvm = List.of("-Xmx1g");
        long t0 = System.nanoTime();
        ChildApp app = ChildApp.launch(work, 0, args, jvm);
        assertThat(app.awaitState("RUNNING", 300_000)).as("first run RUNNING").isNotNull();
        boolean consumed = ItSupport.waitConsumed(cluster, appId, List.of(PREFIX + "-input"), PARTITIONS, Duration.ofMinutes(30));
        long loadSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
        assertThat(consumed).as("initial load consumed").isTrue();
        long stateBytes = du(work.resolve("state"));
        System.out.println("restart time " + variant + ": loaded " + keys + " keys in " + loadSeconds + " s, state " + (stateBytes >> 20) + " MiB");
        StringBuilder det = new StringBuilder("=== " + variant + ": load " + loadSeconds + " s, state on disk " + (stateBytes >> 20) + " MiB\n");
        List<Long> toRunning = new ArrayList<>();
        List<Long> toRestored = new ArrayList<>();
        List<Long> restoredRecords = new ArrayList<>();
        Random rnd = new Random(7);
        int run = 0;
        try (KafkaProducer<String, String> p = bulkProducer()) {
            for (int k = 0; k < kills; k++) {
                // a trickle of updates, and the kill in the middle of processing it
                Thread trickle = new Thread(() -> {
                    String pad = "y".repeat(VALUE_BYTES - 24);
                    Random tr = new Random(rnd.nextLong());
                    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(6);
                    while (System.nanoTime() < end) {
                        long i = (long) (tr.nextDouble() * keys);
                        p.send(new ProducerRecord<>(PREFIX + "-input", String.format("key-%010d", i), String.format("v1-%018d", i) + pad));
                        if (tr.nextInt(200) == 0) {
                            try {
                                Thread.sleep(10);
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                    }
                });
                trickle.start();
                Thread.sleep(3_000 + rnd.nextInt(2_000));
                String killedIn = app.state();
                int exit = app.kill();
                trickle.join();
                p.flush();
                run++;
                String loadAtLaunch = loadAverage();
                app = ChildApp.launch(work, run, args, jvm);
                ChildApp.Event running = app.awaitState("RUNNING", 1_800_000);
                assertThat(running).as("restart " + run + " RUNNING").isNotNull();
                long ms = app.millisSinceLaunch(running);
                long restored = 0;
                long lastEnd = -1;
                for (ChildApp.Event e : app.events) {
                    if (e.type().equals("RESTORE_END")) {
                        restored += Long.parseLong(e.field(3));
                        lastEnd = Math.max(lastEnd, app.millisSinceLaunch(e));
                    }
                }
                toRunning.add(ms);
                toRestored.add(lastEnd);
                restoredRecords.add(restored);
                det.append("  kill ").append(k + 1).append(" in ").append(killedIn).append(" (exit ").append(exit).append("): RUNNING after ")
                        .append(ms).append(" ms, last restore end ").append(lastEnd).append(" ms, restored ").append(restored)
                        .append(" records; load average at relaunch ").append(loadAtLaunch).append(", at RUNNING ").append(loadAverage())
                        .append('\n');
                for (String[] x : ItSupport.restores(app)) {
                    det.append("    restore ").append(String.join(" ", x)).append('\n');
                }
                System.out.println(det);
                // let it catch up before the next kill
                ItSupport.waitConsumed(cluster, appId, List.of(PREFIX + "-input"), PARTITIONS, Duration.ofMinutes(10));
            }
            app.stop(120_000);
            // A kill in the middle of a full restore (local state deleted first): MmapStore checkpoints what it
            // restored (every mmapstore.restore.commit.bytes and every full memtable), so the relaunch resumes
            // near where the kill stopped it; RocksDB with transactional stores off is wiped and starts again.
            ItSupport.deleteRecursively(work.resolve("state"));
            run++;
            app = ChildApp.launch(work, run, args, jvm);
            ChildApp.Event restoring = app.await(e -> e.type().equals("RESTORE_START"), 600_000);
            assertThat(restoring).as("restore started").isNotNull();
            Thread.sleep(restoreKillDelayMs);
            boolean stillRestoring = app.events.stream().noneMatch(e -> e.type().equals("STATE") && e.field(1).equals("RUNNING"));
            app.kill();
            run++;
            app = ChildApp.launch(work, run, args, jvm);
            assertThat(app.awaitState("RUNNING", 1_800_000)).as("relaunch after a kill mid-restore RUNNING").isNotNull();
            long resumedFrom = 0;
            long changelogEnd = 0;
            for (ChildApp.Event e : app.events) {
                if (e.type().equals("RESTORE_START")) {
                    resumedFrom += Long.parseLong(e.field(3));
                    changelogEnd += Long.parseLong(e.field(4));
                }
            }
            det.append("  kill ").append(restoreKillDelayMs).append(" ms into a full restore").append(stillRestoring ? "" : " (it had ended)")
                    .append(": the relaunch restored from offsets summing to ").append(resumedFrom).append(" of ").append(changelogEnd)
                    .append(" (").append(changelogEnd > 0 ? 100 * resumedFrom / changelogEnd : 0).append(" % skipped)\n");
            midRestore.put(variant, new long[] {resumedFrom, changelogEnd, stillRestoring ? 1 : 0});
            app.stop(120_000);
            // End to end restore from the broker: the local state deleted, as on a new machine, and a relaunch
            // restores every store in full (what a wipe costs, measured alone).
            ItSupport.deleteRecursively(work.resolve("state"));
            run++;
            app = ChildApp.launch(work, run, args, jvm);
            ChildApp.Event running = app.awaitState("RUNNING", 1_800_000);
            assertThat(running).as("full restore RUNNING").isNotNull();
            long fullMs = app.millisSinceLaunch(running);
            long fullRecords = 0;
            long firstStart = Long.MAX_VALUE;
            long lastEnd = -1;
            for (ChildApp.Event e : app.events) {
                if (e.type().equals("RESTORE_START")) {
                    firstStart = Math.min(firstStart, app.millisSinceLaunch(e));
                }
                if (e.type().equals("RESTORE_END")) {
                    fullRecords += Long.parseLong(e.field(3));
                    lastEnd = Math.max(lastEnd, app.millisSinceLaunch(e));
                }
            }
            long restoreMs = lastEnd - firstStart;
            det.append("  full restore (state deleted): RUNNING after ").append(fullMs).append(" ms, ").append(fullRecords)
                    .append(" records restored in ").append(restoreMs).append(" ms (first restore start to last end)\n");
            fullRestore.put(variant, new long[] {fullMs, fullRecords, restoreMs});
            app.stop(120_000);
        } finally {
            if (app.process.isAlive()) {
                app.kill();
            }
        }
        details.add(det.toString());
        rows.add("| " + variant + " | " + keys + " | " + (stateBytes >> 20) + " | " + loadSeconds + " | " + toRunning + " | "
                + ItSupport.median(toRunning) + " | " + toRestored + " | " + restoredRecords + " |");
        medians.put(variant, ItSupport.median(toRunning));
        ItSupport.deleteRecursively(work.resolve("state"));
    }

    /** {@code it.restart.stores}: the variants to run, comma-separated (default all). */
    private static boolean selected(String variant) {
        String chosen = System.getProperty("it.restart.stores", "").trim();
        return chosen.isEmpty() || List.of(chosen.split(",")).contains(variant);
    }

    /** How long into a full restore the mid-restore kill comes ({@code it.restart.restoreKillMs}). */
    private final long restoreKillDelayMs = Long.getLong("it.restart.restoreKillMs", 6_000);
    /** Per variant: restore start offsets after the mid-restore kill (summed), changelog ends, whether it was mid-restore. */
    private final java.util.Map<String, long[]> midRestore = new java.util.concurrent.ConcurrentHashMap<>();

    /** Per variant: launch to RUNNING after the state was deleted, records restored, restore time (ms). */
    private final java.util.Map<String, long[]> fullRestore = new java.util.concurrent.ConcurrentHashMap<>();

    /** The 1-, 5- and 15-minute load averages (other work on the machine slows both stores, RocksDB's CPU-bound restore most). */
    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " / " + f[1] + " / " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static long du(Path p) throws IOException {
        try (Stream<Path> w = Files.walk(p)) {
            return w.filter(Files::isRegularFile).mapToLong(x -> {
                try {
                    return Files.size(x);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        }
    }

    private void writeSummary() throws IOException {
        StringBuilder md = new StringBuilder("# Integration test summary: restart time after kill -9 under EOS\n\n");
        md.append("- Kafka ").append(ItSupport.kafkaVersion("streams")).append("\n");
        md.append("- input: ").append(keys).append(" distinct keys x ").append(VALUE_BYTES).append(" B values (")
                .append(bytes >> 20).append(" MiB), ").append(PARTITIONS).append(" partitions, produced in ").append(produceSeconds)
                .append(" s; one logged key-value store (`bulk` = table of the input), exactly_once_v2, commit.interval.ms=200, 1 broker\n");
        md.append("- each kill: a trickle of updates to random keys for 6 s, SIGKILL 3-5 s into it, relaunch; "
                + "launch to RUNNING includes JVM start and the rebalance\n\n");
        md.append("| store | keys | state on disk MiB | initial load s | launch to RUNNING ms (each kill) | median ms | launch to last restore end ms | records restored |\n");
        md.append("|---|---|---|---|---|---|---|---|\n");
        rows.forEach(r -> md.append(r).append('\n'));
        for (String[] pair : new String[][] {{"rocksdb", "mmap", "RocksDB, transactional stores off (wiped after each kill)", "10"},
                {"rocksdb-txn", "mmap-txn", "RocksDB, transactional stores on (no wipe)", "2"},
                {"rocksdb", "mmap-txn", "RocksDB off vs MmapStore on", "10"},
                {"rocksdb-txn", "mmap", "RocksDB on vs MmapStore off", "2"}}) {
            Long rocks = medians.get(pair[0]);
            Long mmap = medians.get(pair[1]);
            if (mmap != null && rocks != null && mmap > 0) {
                md.append(String.format(java.util.Locale.ROOT, "%nMedian launch to RUNNING, %s: %s / %s = %.1fx (target >= %sx).%n",
                        pair[2], pair[0], pair[1], (double) rocks / mmap, pair[3]));
            }
        }
        if (!midRestore.isEmpty()) {
            md.append("\n## A kill in the middle of a full restore\n\n")
                    .append("| variant | relaunch restores from (offsets summed over partitions) | changelog end | skipped | killed mid-restore |\n")
                    .append("|---|---:|---:|---:|---|\n");
            for (var e : new java.util.TreeMap<>(midRestore).entrySet()) {
                long[] f = e.getValue();
                md.append(String.format(java.util.Locale.ROOT, "| %s | %,d | %,d | %d %% | %s |%n", e.getKey(), f[0], f[1],
                        f[1] > 0 ? 100 * f[0] / f[1] : 0, f[2] == 1 ? "yes" : "no (the restore had ended)"));
            }
        }
        if (!fullRestore.isEmpty()) {
            md.append("\n## End-to-end restore from the broker (local state deleted, relaunch)\n\n")
                    .append("| variant | launch to RUNNING ms | records restored | restore ms | records/s |\n|---|---:|---:|---:|---:|\n");
            for (var e : new java.util.TreeMap<>(fullRestore).entrySet()) {
                long[] f = e.getValue();
                md.append(String.format(java.util.Locale.ROOT, "| %s | %,d | %,d | %,d | %,.0f |%n", e.getKey(), f[0], f[1], f[2],
                        f[2] > 0 ? f[1] * 1000.0 / f[2] : Double.NaN));
            }
            long[] m = fullRestore.get("mmap");
            long[] r = fullRestore.get("rocksdb");
            if (m != null && r != null && m[2] > 0 && r[2] > 0) {
                md.append(String.format(java.util.Locale.ROOT, "%nRestore throughput, MmapStore / RocksDB (flag off) = %.2fx (target >= 2x).%n",
                        (m[1] * 1.0 / m[2]) / (r[1] * 1.0 / r[2])));
            }
            long[] rt = fullRestore.get("rocksdb-txn");
            if (m != null && rt != null && m[2] > 0 && rt[2] > 0) {
                md.append(String.format(java.util.Locale.ROOT, "Restore throughput, MmapStore / RocksDB (flag on) = %.2fx.%n",
                        (m[1] * 1.0 / m[2]) / (rt[1] * 1.0 / rt[2])));
            }
        }
        md.append("\n- machine: ").append(Runtime.getRuntime().availableProcessors()).append(" cores, load average at the end ")
                .append(loadAverage()).append('\n');
        md.append("\n```\n");
        details.forEach(md::append);
        md.append("```\n");
        Files.createDirectories(outDir);
        Files.writeString(outDir.resolve("it-summary-restart-time.md"), md);
        System.out.println(md);
    }
}
