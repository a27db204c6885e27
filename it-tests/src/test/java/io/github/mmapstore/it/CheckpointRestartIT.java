package io.github.mmapstore.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mmapstore.it.ItSupport.Input;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A kill -9 after the stores have had time to checkpoint: MmapStore must reopen at its last checkpoint and Kafka Streams
 * replay only the changelog tail, with no task wiped and no store restored from offset 0 (guarantee 1: "never the whole
 * topic, even under exactly-once"). {@link CrashApp} (MmapStore, exactly_once_v2, child JVM) processes a first batch, then
 * a trickle of input flows for {@value #TRICKLE_MS} ms (more than twice {@code mmapstore.checkpoint.interval.ms}, 5 s), and
 * the child is killed with SIGKILL in the middle of it. The restarted application must reach the oracle (output and stores)
 * with tail restores only.
 *
 * <p>The crash matrix kills within a few seconds of each start, mostly before a first checkpoint, so its full restores say
 * little about this; here every store has had two checkpoint intervals of commits. The topology's {@code profiles} table is
 * written only at the start, as a reference table is.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CheckpointRestartIT {
    static final int PARTITIONS = 4;
    static final int KEYS = 32;
    static final int FIRST = 2000;
    static final long TRICKLE_MS = 12_000;

    private final long seed = Long.getLong("it.checkpoint.seed", new Random().nextLong());
    private final Path outDir = Path.of(System.getProperty("it.summary.dir", "target"));
    private KafkaCluster cluster;

    @BeforeAll
    void startCluster() throws Exception {
        System.out.println("checkpoint restart seed=" + seed + " (replay with -Dit.checkpoint.seed=" + seed + ")");
        cluster = KafkaCluster.shared();
    }

    @Test
    void killAfterCheckpointsReplaysOnlyTheTailWithTransactionalStores() throws Exception {
        Assumptions.assumeTrue(CrashMatrixIT.kafkaHasTransactionalStores(), "Kafka Streams " + ItSupport.kafkaVersion("streams")
                + " has no transactional state stores");
        run(true);
    }

    @Test
    void killAfterCheckpointsReplaysOnlyTheTailWithoutTransactionalStores() throws Exception {
        run(false);
    }

    private void run(boolean txn) throws Exception {
        String sc = "checkpoint-mmap-" + (txn ? "txn" : "off");
        String prefix = "t-" + sc;
        Path work = outDir.resolve("it-work").resolve(sc);
        ItSupport.deleteRecursively(work);
        Files.createDirectories(work);
        cluster.createTopics(PARTITIONS, List.of(prefix + "-input", prefix + "-profiles", prefix + "-sums-out", prefix + "-join-out"));
        Random rnd = new Random(seed ^ sc.hashCode());
        Map<String, String> profiles = new TreeMap<>();
        for (int k = 0; k < KEYS; k++) {
            profiles.put("k" + k, "p" + k);
        }
        List<Input> inputs = new ArrayList<>();
        List<String> args = List.of("--bootstrap", cluster.bootstrapServers(), "--app-id", sc,
                "--state-dir", work.resolve("state").toAbsolutePath().toString(), "--store", "mmap",
                "--guarantee", "exactly_once_v2", "--topics", prefix, "--commit-interval-ms", "200", "--txn", String.valueOf(txn));
        long base = System.currentTimeMillis();
        List<String> problems = new ArrayList<>();
        List<String> fullRestores = new ArrayList<>();
        long restored = 0;
        java.util.Set<String> wiped = new java.util.TreeSet<>();
        try (KafkaProducer<String, String> producer = ItSupport.producer(cluster)) {
            for (Map.Entry<String, String> e : profiles.entrySet()) {
                producer.send(new ProducerRecord<>(prefix + "-profiles", null, base - 60_000, e.getKey(), e.getValue()));
            }
            producer.flush();
            ChildApp first = ChildApp.launch(work, 0, args);
            assertThat(first.awaitState("RUNNING", 90_000)).as("first run RUNNING").isNotNull();
            for (int i = 0; i < FIRST; i++) {
                inputs.add(send(producer, prefix, base, rnd, inputs.size()));
            }
            producer.flush();
            assertThat(ItSupport.waitConsumed(cluster, sc, List.of(prefix + "-input", prefix + "-profiles"), PARTITIONS,
                    Duration.ofSeconds(120))).as("first batch consumed").isTrue();
            // a trickle, so that every store keeps committing, and the kill in the middle of it
            long t0 = System.nanoTime();
            while (System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(TRICKLE_MS)) {
                for (int i = 0; i < 5; i++) {
                    inputs.add(send(producer, prefix, base, rnd, inputs.size()));
                }
                Thread.sleep(100);
            }
            assertThat(first.kill()).as("exit code after SIGKILL").isEqualTo(137);
            producer.flush();

            ChildApp second = ChildApp.launch(work, 1, args);
            assertThat(second.awaitState("RUNNING", 90_000)).as("second run RUNNING").isNotNull();
            Map<String, Map<String, String>> dump = Map.of();
            if (!ItSupport.waitConsumed(cluster, sc, List.of(prefix + "-input", prefix + "-profiles"), PARTITIONS,
                    Duration.ofSeconds(120))) {
                problems.add("input not consumed after the restart");
            } else {
                dump = ItSupport.dumpStores(second, Duration.ofSeconds(60));
            }
            second.stop(60_000);
            for (String[] x : ItSupport.restores(second)) {
                restored += ItSupport.leadingLong(x[5]);
                if (Long.parseLong(x[3]) == 0 && Long.parseLong(x[4]) > 0) {
                    fullRestores.add(x[0] + "-" + x[2] + " (" + x[5] + " of " + x[4] + ")");
                }
            }
            for (String line : Files.readAllLines(second.logFile)) {
                Matcher m = CrashMatrixIT.WIPE_LINE.matcher(line);
                if (m.find()) {
                    for (String t : m.group(1).split(",")) {
                        wiped.add(t.trim());
                    }
                }
                Matcher d = CrashMatrixIT.DIRTY_WIPE_LINE.matcher(line);
                if (d.find()) {
                    wiped.add(d.group(1));
                }
            }
            problems.addAll(ItSupport.uncaught(second));
            problems.addAll(ItSupport.verifyEos(ItSupport.oracle(inputs), profiles,
                    ItSupport.readAll(cluster, prefix + "-sums-out", PARTITIONS),
                    ItSupport.readAll(cluster, prefix + "-join-out", PARTITIONS), dump, 20));
        }
        System.out.println("checkpoint restart " + sc + ": " + inputs.size() + " inputs, restored " + restored + " records, full restores "
                + fullRestores + ", tasks wiped " + wiped + ", problems " + problems);
        assertThat(problems).as("output and stores of " + sc + " after the restart").isEmpty();
        assertThat(wiped).as("tasks Kafka wiped after the kill, " + sc).isEmpty();
        assertThat(fullRestores).as("MmapStore restores from offset 0 after a kill that followed checkpoints, " + sc).isEmpty();
    }

    private static Input send(KafkaProducer<String, String> producer, String prefix, long base, Random rnd, int seq) {
        Input in = new Input("k" + rnd.nextInt(KEYS), seq, 1 + rnd.nextInt(9));
        producer.send(new ProducerRecord<>(prefix + "-input", null, base + in.seq(), in.key(), in.seq() + ":" + in.inc()));
        return in;
    }
}
