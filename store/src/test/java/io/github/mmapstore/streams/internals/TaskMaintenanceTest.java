package io.github.mmapstore.streams.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mmapstore.streams.MmapStores;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.errors.ProcessorStateException;
import org.apache.kafka.streams.errors.TaskCorruptedException;
import org.apache.kafka.streams.errors.TaskMigratedException;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damage found by a thread other than the task's (an Interactive Queries read) must still get the task
 * rebuilt, with the exception that is safe for the processing guarantee: under at-least-once Kafka's
 * TaskCorruptedException for the task, under exactly-once TaskMigratedException (which aborts the shared
 * transaction instead of committing it for the other tasks).
 */
class TaskMaintenanceTest {
    @TempDir
    Path stateDir;

    private TopologyTestDriver driver(String guarantee) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream("in", Consumed.with(Serdes.String(), Serdes.String()))
                .groupByKey(Grouped.with(Serdes.String(), Serdes.String()))
                .count(Materialized.<String, Long>as(MmapStores.persistentTimestampedKeyValueStore("counts"))
                        .withCachingDisabled());
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "damage-app");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
        props.put("mmapstore.fsync", "false");
        props.put("mmapstore.memtable.bytes", "8192"); // segments after a few hundred records
        props.put("mmapstore.compaction.budget.ms", "0");
        props.put("mmapstore.maintenance.interval.ms", "1000");
        return new TopologyTestDriver(builder.build(), props);
    }

    /**
     * Writes enough distinct keys that the store holds segments (nothing reads their pages yet: every key
     * is new, so the bloom filters answer the aggregation's lookups), then flips a byte in the oldest one.
     * The file is mapped, so the open store sees the damaged byte the first time it reads that page.
     */
    private void fillAndDamage(TopologyTestDriver driver) throws IOException {
        TestInputTopic<String, String> in = driver.createInputTopic("in", new StringSerializer(), new StringSerializer());
        for (int i = 0; i < 2_000; i++) {
            in.pipeInput(String.format("key-%05d", i), "v");
        }
        Path storeDir = stateDir.resolve("damage-app").resolve("0_0").resolve("mmapstore").resolve("counts");
        List<Path> segments;
        try (Stream<Path> files = Files.list(storeDir)) {
            segments = files.filter(p -> p.toString().endsWith(".seg")).sorted().toList();
        }
        assertThat(segments).as("segments in " + storeDir).hasSizeGreaterThanOrEqualTo(2);
        try (RandomAccessFile f = new RandomAccessFile(segments.get(0).toFile(), "rw")) {
            long pos = 100; // inside the first data page
            f.seek(pos);
            int b = f.read();
            f.seek(pos);
            f.write(b ^ 0x10);
        }
    }

    /** Reads every row from another thread, as Interactive Queries would; returns what it failed with. */
    private static Throwable queryFromAnotherThread(TopologyTestDriver driver) {
        ReadOnlyKeyValueStore<String, ValueAndTimestamp<Long>> store = driver.getTimestampedKeyValueStore("counts");
        return CompletableFuture.supplyAsync(() -> {
            try (KeyValueIterator<String, ValueAndTimestamp<Long>> it = store.all()) {
                while (it.hasNext()) {
                    KeyValue<String, ValueAndTimestamp<Long>> kv = it.next();
                    assertThat(kv.value.value()).isPositive();
                }
                return (Throwable) null;
            } catch (RuntimeException e) {
                return e;
            }
        }).join();
    }

    @Test
    void damageFoundByAQueryFailsTheTaskAtTheNextPunctuationUnderAtLeastOnce() throws IOException {
        TopologyTestDriver driver = driver(StreamsConfig.AT_LEAST_ONCE);
        try {
            fillAndDamage(driver); // its writes on the task's thread armed the watch

            Throwable query = queryFromAnotherThread(driver);
            assertThat(query).as("the query reports the damage").isInstanceOf(ProcessorStateException.class)
                    .hasMessageContaining("counts");
            // nothing more arrives for the task: the punctuation alone must get it rebuilt
            assertThatThrownBy(() -> driver.advanceWallClockTime(Duration.ofSeconds(2)))
                    .satisfies(t -> assertThat(causeOfType(t, TaskCorruptedException.class)).isNotNull());
        } finally {
            closeQuietly(driver);
        }
    }

    @Test
    void damageFoundByAQueryAbortsTheThreadsTransactionUnderExactlyOnce() throws IOException {
        TopologyTestDriver driver = driver(StreamsConfig.EXACTLY_ONCE_V2);
        try {
            fillAndDamage(driver);

            assertThat(queryFromAnotherThread(driver)).isInstanceOf(ProcessorStateException.class);
            Throwable thrown = catchThrowable(() -> driver.advanceWallClockTime(Duration.ofSeconds(2)));
            TaskMigratedException migrated = causeOfType(thrown, TaskMigratedException.class);
            assertThat(migrated).as("thrown: " + thrown).isNotNull();
            assertThat(migrated.getMessage()).contains("counts").contains("damaged");
        } finally {
            closeQuietly(driver);
        }
    }

    @Test
    void aWriteOnTheTaskThreadAfterTheDamageGetsTheTaskRebuiltWithoutWaitingForThePunctuation() throws IOException {
        TopologyTestDriver driver = driver(StreamsConfig.EXACTLY_ONCE_V2);
        try {
            fillAndDamage(driver);
            assertThat(queryFromAnotherThread(driver)).isInstanceOf(ProcessorStateException.class);
            TestInputTopic<String, String> in = driver.createInputTopic("in", new StringSerializer(), new StringSerializer());
            Throwable thrown = catchThrowable(() -> in.pipeInput("another", "v"));
            assertThat(causeOfType(thrown, TaskMigratedException.class)).as("thrown: " + thrown).isNotNull();
        } finally {
            closeQuietly(driver);
        }
    }

    @Test
    void undamagedStoresAreLeftAloneByThePunctuation() {
        try (TopologyTestDriver driver = driver(StreamsConfig.EXACTLY_ONCE_V2)) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", new StringSerializer(), new StringSerializer());
            for (int i = 0; i < 500; i++) {
                in.pipeInput("k" + (i % 50), "v");
            }
            driver.advanceWallClockTime(Duration.ofSeconds(5));
            assertThat(queryFromAnotherThread(driver)).as("no failure").isNull();
            assertThat(driver.getTimestampedKeyValueStore("counts").get("k0").value()).isEqualTo(10L);
        }
    }

    /**
     * Closing a task whose store failed may report the failure again; the assertions above are what count.
     * The driver's close then stops before it closes the store (Kafka itself closes a failed task dirty,
     * store included), so the store is closed here: that waits for a memtable flush still in flight,
     * which would otherwise write into the state directory while the test's clean-up deletes it.
     */
    private static void closeQuietly(TopologyTestDriver driver) {
        StoreCore core = StoreCore.coreOf(driver.getAllStateStores().get("counts"));
        try {
            driver.close();
        } catch (RuntimeException reportedAgain) {
            // the store's failure, reported once more by close: nothing to check here
        }
        if (core != null) {
            core.close();
        }
    }

    private static Throwable catchThrowable(Runnable r) {
        try {
            r.run();
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    private static <T extends Throwable> T causeOfType(Throwable t, Class<T> type) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) {
                return type.cast(c);
            }
        }
        return null;
    }

    private static double gauge(TopologyTestDriver driver, String name) {
        for (java.util.Map.Entry<org.apache.kafka.common.MetricName, ? extends org.apache.kafka.common.Metric> e
                : driver.metrics().entrySet()) {
            if (e.getKey().name().equals(name)) {
                return ((Number) e.getValue().metricValue()).doubleValue();
            }
        }
        throw new AssertionError("no gauge " + name);
    }

    /**
     * A DSL store whose task gets no more input is still compacted: its commit-driven steps stopped with the
     * input, and the maintenance punctuation gives it (idle, so large) steps until the compaction policy has
     * nothing left to do.
     *
     * <p>Caught up is what the policy says it is (the pending-compaction gauge at 0: the space and read bounds
     * hold), not a file count. The input ends with a full memtable whose write-out waits for the next commit
     * (see {@code CommitPath.wrote}) whenever a flush was still in flight at the last one; that next commit is
     * the one Kafka makes after the first punctuation, after its step already merged the committed segments.
     * That flush then lands above the merged file together with a segment flushed before it: two small
     * disjoint files (one sorted run) above the large bottom run, which the size-tiered policy leaves alone
     * (it merges an older run only while it is at most twice what is taken, or at twice the trigger's runs).
     * 3 files then, 2 sorted runs; checking for at most 2 files failed about one run in a dozen.
     */
    @Test
    void anIdleTaskKeepsCompactingOnTheMaintenancePunctuation() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream("in", Consumed.with(Serdes.String(), Serdes.String()))
                .groupByKey(Grouped.with(Serdes.String(), Serdes.String()))
                .count(Materialized.<String, Long>as(MmapStores.persistentTimestampedKeyValueStore("counts"))
                        .withCachingDisabled());
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "idle-app");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put("mmapstore.fsync", "false");
        props.put("mmapstore.memtable.bytes", "8192");
        props.put("mmapstore.compaction.trigger.segments", "2");
        props.put("mmapstore.compaction.budget.ms", "0"); // no steps at commits: only the punctuation's
        props.put("mmapstore.compaction.idle.budget.ms", "100");
        props.put("mmapstore.compaction.idle.after.ms", "0");
        props.put("mmapstore.maintenance.interval.ms", "1000");
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props)) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", new StringSerializer(), new StringSerializer());
            for (int i = 0; i < 3_000; i++) {
                in.pipeInput(String.format("key-%05d", i % 1_500), "v");
            }
            double before = gauge(driver, "mmapstore-segments");
            assertThat(before).as("segments piled up without compaction").isGreaterThan(4);
            assertThat(gauge(driver, "mmapstore-pending-compaction-bytes")).as("compaction is behind").isPositive();
            StoreCore core = StoreCore.coreOf(driver.getTimestampedKeyValueStore("counts"));
            // Each look waits for the store's background work first: a punctuation's commit may hand the memtable
            // to the flusher, whose install may name more segments (and start the flush of a checkpoint that came
            // due meanwhile, which awaitDurable waits for too). After that the punctuation alone changes the store.
            core.engine().awaitDurable();
            for (int i = 0; i < 200 && gauge(driver, "mmapstore-pending-compaction-bytes") > 0; i++) {
                driver.advanceWallClockTime(Duration.ofSeconds(1));
                core.engine().awaitDurable();
            }
            assertThat(gauge(driver, "mmapstore-pending-compaction-bytes")).as("compaction caught up").isZero();
            assertThat(gauge(driver, "mmapstore-compactions-total")).as("merges run by the punctuation").isPositive();
            // the read bound (compaction.trigger.segments=2): at most 2 files cover any key, however many files
            assertThat(gauge(driver, "mmapstore-read-amplification")).isLessThanOrEqualTo(2);
            assertThat(gauge(driver, "mmapstore-segments")).isLessThanOrEqualTo(3).isLessThan(before);
            assertThat(driver.getTimestampedKeyValueStore("counts").get("key-00007").value()).isEqualTo(2L);
        }
    }
}
