package io.github.mmapstore.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mmapstore.it.ChildApp.Event;
import io.github.mmapstore.it.ItSupport.Input;
import java.io.IOException;
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
 * Disk full (issue 6): the state directory of {@link CrashApp} (EOS) is a size-limited tmpfs
 * ({@code mount -t tmpfs -o size=32m}; skipped with the reason when the mount fails, e.g. not root) holding
 * a 4 MiB filler file placed first. Large profile values (the {@code profiles} table and the {@code joined}
 * join both hold them) fill it. Checked:
 * <ul>
 *   <li>the application's store fails with a clear exception: the first uncaught exception's chain names the
 *       store and says why ("No space left on device") (asserted for MmapStore, recorded for RocksDB);</li>
 *   <li>after space is freed (the filler deleted and the tmpfs remounted at 512 MiB) the application
 *       recovers (by itself; restarted once if the process died or made no progress within 60 s) and the EOS
 *       output equals the oracle exactly, the stores hold the oracle's values; quarantines (a disk-full
 *       must not look like corruption) and full restores are recorded.</li>
 * </ul>
 * The tmpfs is unmounted at the end. Summary: {@code target/it-summary-diskfull.md}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DiskFullIT {
    static final int PARTITIONS = 4;
    static final int KEYS = 2000;
    static final int VALUE_BYTES = 8 * 1024;
    static final int INPUTS = 6000;

    private final Path outDir = Path.of(System.getProperty("it.summary.dir", "target"));
    private final List<String> rows = Collections.synchronizedList(new ArrayList<>());
    private final List<String> details = Collections.synchronizedList(new ArrayList<>());
    private final List<Path> mounts = Collections.synchronizedList(new ArrayList<>());
    private KafkaCluster cluster;

    @BeforeAll
    void startCluster() throws Exception {
        cluster = KafkaCluster.start(1);
    }

    @AfterAll
    void stopCluster() throws Exception {
        try {
            for (Path m : mounts) {
                sh("umount", "-l", m.toString());
            }
            writeSummary();
        } finally {
            if (cluster != null) {
                cluster.close();
            }
        }
    }

    /** {@code it.diskfull.stores}: CI runs MmapStore only; the full profile adds RocksDB for comparison. */
    static Stream<String> stores() {
        return Stream.of(System.getProperty("it.diskfull.stores", "mmap").split(",")).map(String::trim).filter(x -> !x.isEmpty());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("stores")
    void storeFailsCleanlyAndRecoversWhenSpaceIsFreed(String storeKind) throws Exception {
        long t0 = System.nanoTime();
        String prefix = "t-diskfull-" + storeKind;
        String appId = "diskfull-" + storeKind;
        Path work = outDir.resolve("it-work").resolve("diskfull-" + storeKind).toAbsolutePath();
        Path state = work.resolve("state");
        if (Files.isDirectory(state)) {
            sh("umount", "-l", state.toString());
        }
        ItSupport.deleteRecursively(work);
        Files.createDirectories(state);
        String mount = sh("mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", state.toString());
        Assumptions.assumeTrue(mount.startsWith("0"), "cannot mount a size-limited tmpfs as the state directory (needs root): " + mount);
        mounts.add(state);
        List<String> problems = new ArrayList<>();
        String firstFailure = "-";
        String recovery = "-";
        boolean quarantined = false;
        long fullRestores = 0;
        long wipes = 0;
        int restarts = 0;
        ChildApp app = null;
        try {
            Path filler = state.resolve("filler.bin");
            Files.write(filler, new byte[4 << 20]);
            cluster.createTopics(PARTITIONS, List.of(prefix + "-input", prefix + "-profiles", prefix + "-sums-out", prefix + "-join-out"));
            Random rnd = new Random(42);
            Map<String, String> profiles = new TreeMap<>();
            for (int k = 0; k < KEYS; k++) {
                StringBuilder v = new StringBuilder("p" + k + "-");
                while (v.length() < VALUE_BYTES) {
                    v.append(Long.toString(rnd.nextLong() & Long.MAX_VALUE, 36));
                }
                profiles.put("k" + k, v.substring(0, VALUE_BYTES));
            }
            List<Input> inputs = new ArrayList<>();
            for (int i = 0; i < INPUTS; i++) {
                inputs.add(new Input("k" + (i < KEYS ? i : rnd.nextInt(KEYS)), i, 1 + rnd.nextInt(9)));
            }
            long base = System.currentTimeMillis();
            try (KafkaProducer<String, String> producer = ItSupport.producer(cluster)) {
                for (Map.Entry<String, String> e : profiles.entrySet()) {
                    producer.send(new ProducerRecord<>(prefix + "-profiles", null, base - 60_000, e.getKey(), e.getValue()));
                }
                for (Input in : inputs) {
                    producer.send(new ProducerRecord<>(prefix + "-input", null, base + in.seq(), in.key(), in.seq() + ":" + in.inc()));
                }
                producer.flush();
            }
            List<String> args = List.of("--bootstrap", cluster.bootstrapServers(), "--app-id", appId,
                    "--state-dir", state.toString(), "--store", storeKind, "--guarantee", "exactly_once_v2",
                    "--topics", prefix, "--commit-interval-ms", "200", "--mmapstore.memtable.bytes", String.valueOf(4 << 20));
            app = ChildApp.launch(work, 0, args);
            // wait for the first failure: an uncaught exception, or the process dying
            ChildApp first = app;
            Event fail = app.await(e -> e.type().equals("UNCAUGHT"), storeKind.equals("mmap") ? 180_000 : 60_000);
            if (fail == null) {
                String df = sh("df", "-h", "--output=used,avail", state.toString()).replaceAll("\\s+", " ");
                if (storeKind.equals("mmap")) {
                    problems.add("the state directory did not fill up (or nothing failed) within 180 s; state " + app.state() + ", df: " + df);
                } else {
                    firstFailure = "no failure within 60 s (state " + app.state() + ", df " + df + ")";
                }
            } else {
                Thread.sleep(500); // the cause lines follow the UNCAUGHT line
                List<Event> chain = new ArrayList<>();
                boolean in = false;
                for (Event e : app.events) {
                    if (e == fail) {
                        in = true;
                    } else if (in && !e.type().equals("UNCAUGHT_CAUSE")) {
                        break;
                    }
                    if (in) {
                        chain.add(e);
                    }
                }
                String ff = String.join(" <- ", chain.stream().map(e -> String.join(" ", e.fields())).toList());
                firstFailure = ff;
                String all = ff.toLowerCase();
                boolean namesStore = Stream.of("profiles", "sums", "joined").anyMatch(s -> ff.contains("store " + s)
                        || ff.contains(s + " ") || ff.contains("/" + s));
                boolean saysWhy = all.contains("no space left on device") || all.contains("enospc") || all.contains("disk full");
                if (storeKind.equals("mmap")) {
                    if (!namesStore) {
                        problems.add("the first failure does not name the store: " + firstFailure);
                    }
                    if (!saysWhy) {
                        problems.add("the first failure does not say the disk is full: " + firstFailure);
                    }
                }
            }
            Thread.sleep(3_000);
            // free space: delete the filler and grow the tmpfs
            Files.deleteIfExists(filler);
            String remount = sh("mount", "-o", "remount,size=512m", state.toString());
            if (!remount.startsWith("0")) {
                problems.add("remount failed: " + remount);
            }
            long freed = System.nanoTime();
            boolean consumed = app.process.isAlive()
                    && ItSupport.waitConsumed(cluster, appId, List.of(prefix + "-input", prefix + "-profiles"), PARTITIONS, Duration.ofSeconds(60));
            recovery = consumed ? "by itself in " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - freed) + " ms" : "-";
            List<String[]> restores = new ArrayList<>(ItSupport.restores(app));
            List<String> unc = new ArrayList<>(ItSupport.uncaught(app));
            if (!consumed) {
                String why = app.process.isAlive() ? "no progress within 60 s (state " + app.state() + ")" : "process died";
                app.kill();
                restarts++;
                app = ChildApp.launch(work, 1, args);
                if (app.awaitState("RUNNING", 120_000) == null) {
                    problems.add("restart after freeing space: not RUNNING within 120 s");
                }
                consumed = ItSupport.waitConsumed(cluster, appId, List.of(prefix + "-input", prefix + "-profiles"), PARTITIONS,
                        Duration.ofSeconds(120));
                recovery = consumed ? "after a restart (" + why + ") in " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - freed) + " ms"
                        : "did not recover (" + why + ")";
                restores.addAll(ItSupport.restores(app));
                unc.addAll(ItSupport.uncaught(app));
            }
            if (!consumed) {
                problems.add("not recovered after freeing space: " + recovery);
            } else {
                Map<String, Map<String, String>> dump = ItSupport.dumpStores(app, Duration.ofSeconds(60));
                List<String> v = ItSupport.verifyEos(ItSupport.oracle(inputs), profiles,
                        ItSupport.readAll(cluster, prefix + "-sums-out", PARTITIONS),
                        ItSupport.readAll(cluster, prefix + "-join-out", PARTITIONS), dump, 10);
                problems.addAll(v.stream().map(x -> x.length() > 300 ? x.substring(0, 300) + "..." : x).toList());
            }
            for (int run = 0; run <= restarts; run++) {
                Path log = work.resolve("run-" + run + ".log");
                if (Files.exists(log)) {
                    try (Stream<String> lines = Files.lines(log)) {
                        wipes += lines.filter(l -> l.contains("] Closed dirty")).count();
                    }
                }
            }
            fullRestores = restores.stream().filter(x -> Long.parseLong(x[3]) == 0 && Long.parseLong(x[4]) > 0).count();
            try (Stream<Path> walk = Files.walk(state)) {
                quarantined = walk.anyMatch(p -> p.getFileName().toString().startsWith("quarantine-"));
            }
            app.stop(60_000);
            details.add("=== " + storeKind + "\nfirst failure: " + firstFailure + "\nrecovery: " + recovery + "\nrestores:\n"
                    + String.join("\n", restores.stream().map(x -> "  " + String.join(" ", x)).toList())
                    + "\nuncaught (" + unc.size() + "), first 5:\n" + String.join("\n", unc.stream().limit(5)
                    .map(x -> "  " + (x.length() > 400 ? x.substring(0, 400) + "..." : x)).toList())
                    + "\nproblems: " + problems + "\n");
        } finally {
            if (app != null && app.process.isAlive()) {
                app.kill();
            }
            sh("umount", "-l", state.toString());
            mounts.remove(state);
            rows.add("| " + storeKind + " | " + firstFailure.replace('|', '/') + " | " + recovery + " | " + restarts + " | "
                    + (quarantined ? "yes" : "no") + " | " + fullRestores + " | " + wipes + " | " + (problems.isEmpty() ? "PASS" : "FAIL: "
                    + String.join("; ", problems).replace('|', '/')) + " | " + TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0) + " |");
            System.out.println(rows.get(rows.size() - 1));
        }
        assertThat(problems).as(storeKind + " disk-full problems").isEmpty();
    }

    /** Runs a command; returns "exit-code output". */
    static String sh(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "timeout";
            }
            return p.exitValue() + " " + out;
        } catch (IOException | InterruptedException e) {
            return "error " + e;
        }
    }

    private void writeSummary() throws IOException {
        StringBuilder md = new StringBuilder("# Integration test summary: disk full\n\n");
        md.append("- state directory on a 32 MiB tmpfs with a 4 MiB filler file; EOS; ").append(KEYS).append(" profiles of ")
                .append(VALUE_BYTES / 1024).append(" KiB (held by `profiles` and `joined`), ").append(INPUTS)
                .append(" inputs; then the filler is deleted and the tmpfs remounted at 512 MiB\n\n");
        md.append("| store | first failure (uncaught exception <- causes) | recovery after freeing space | restarts | quarantined | full restores | tasks closed dirty (under EOS Kafka wipes their state) | result | s |\n");
        md.append("|---|---|---|---|---|---|---|---|---|\n");
        rows.forEach(r -> md.append(r).append('\n'));
        md.append("\n```\n");
        details.forEach(md::append);
        md.append("```\n");
        Files.createDirectories(outDir);
        Files.writeString(outDir.resolve("it-summary-diskfull.md"), md);
        System.out.println(md);
    }
}
