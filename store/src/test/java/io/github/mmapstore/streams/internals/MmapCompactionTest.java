package io.github.mmapstore.streams.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mmapstore.streams.MmapCompaction;
import io.github.mmapstore.streams.MmapStoreConfig;
import io.github.mmapstore.streams.MmapStores;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The punctuator helper on a store built the way a Processor API user builds it (Kafka's metered
 * wrapper around the MmapStore), the idle mode through the store's clock, and the compaction gauges.
 */
class MmapCompactionTest {
    static final long MS = 1_000_000;

    @TempDir
    Path stateDir;

    MockProcessorContext<Object, Object> context;
    KeyValueStore<Bytes, byte[]> store;
    KeyValueStore<Bytes, byte[]> rocks;

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
        if (rocks != null) {
            rocks.close();
        }
    }

    void open(Map<String, Object> extra) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "app");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
        props.put("mmapstore.fsync", "false");
        props.put("mmapstore.memtable.bytes", "16384");
        props.put("mmapstore.compaction.trigger.segments", "3");
        // these tests pace merges on the stream thread; the background threads (the default) have their own
        props.put("mmapstore.compaction.threads", "0");
        props.putAll(extra);
        context = new MockProcessorContext<>(props, new TaskId(0, 0), stateDir.toFile());
        context.setRecordMetadata("input", 0, 0);
        store = Stores.keyValueStoreBuilder(MmapStores.persistentKeyValueStore("counts"), Serdes.Bytes(), Serdes.ByteArray())
                .withLoggingDisabled().withCachingDisabled().build();
        store.init(context.getStateStoreContext(), store);
        context.addStateStore(store);
    }

    static Bytes key(int i) {
        return Bytes.wrap(ByteBuffer.allocate(12).putInt(i * 0x61C88647).putLong(i).array());
    }

    /**
     * Overwrites the same keys in rounds with a commit after each, so committed segments full of shadowed
     * rows pile up and a full merge is due.
     */
    void writeRounds(int rounds, int keys) {
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < keys; i++) {
                store.put(key(i), new byte[40]);
            }
            // The memtable written out and waited for, so that the commit below checkpoints its segment
            // (a commit does not wait for a flush in flight).
            StoreCore.coreOf(store).engine().flush();
            store.commit(Map.of());
        }
    }

    double gauge(String name) {
        for (Map.Entry<MetricName, ? extends Metric> e : context.metrics().metrics().entrySet()) {
            if (e.getKey().name().equals(name) && e.getKey().group().equals(StoreMetrics.GROUP)) {
                return ((Number) e.getValue().metricValue()).doubleValue();
            }
        }
        throw new AssertionError("no gauge " + name);
    }

    @Test
    void punctuatorCompactsTheNamedStoreThroughKafkasWrappers() {
        // Commits do not compact (budget 0): only the punctuator does.
        open(Map.of("mmapstore.compaction.budget.ms", "0"));
        writeRounds(8, 300);
        double segments = gauge("mmapstore-segments");
        assertThat(segments).isGreaterThanOrEqualTo(3);
        assertThat(gauge("mmapstore-pending-compaction-bytes")).isPositive();
        assertThat(gauge("mmapstore-compaction-steps-total")).isZero();

        MmapCompaction.schedule(context, Duration.ofMillis(100), Duration.ofMillis(5), "counts");
        assertThat(context.scheduledPunctuators()).hasSize(1);
        MockProcessorContext.CapturedPunctuator p = context.scheduledPunctuators().get(0);
        assertThat(p.getInterval()).isEqualTo(Duration.ofMillis(100));
        assertThat(p.getType()).isEqualTo(PunctuationType.WALL_CLOCK_TIME);
        // the punctuations come at the punctuator's interval (the pacer gives steps close together less)
        AtomicLong now = new AtomicLong(0);
        StoreCore.coreOf(store).clock(now::get);
        for (int i = 0; i < 10_000 && gauge("mmapstore-pending-compaction-bytes") > 0; i++) {
            now.addAndGet(100 * MS);
            p.getPunctuator().punctuate(i);
        }
        assertThat(gauge("mmapstore-pending-compaction-bytes")).isZero();
        assertThat(gauge("mmapstore-segments")).isLessThan(3).isLessThan(segments);
        assertThat(gauge("mmapstore-compaction-steps-total")).isPositive();
        assertThat(gauge("mmapstore-compaction-bytes-written-total")).isPositive();
        assertThat(gauge("mmapstore-compaction-bytes-read-total")).isGreaterThan(gauge("mmapstore-compaction-bytes-written-total"));
        assertThat(gauge("mmapstore-compaction-step-time-max-ms")).isGreaterThanOrEqualTo(gauge("mmapstore-compaction-step-time-avg-ms"));
        // while in debt the pacer may give a step more than the base (a share of the time since the last
        // step); with the work done, the next step gets the punctuator's base budget
        now.addAndGet(100 * MS);
        p.getPunctuator().punctuate(10_000);
        assertThat(gauge("mmapstore-compaction-budget-ms")).isEqualTo(5.0);
        assertThat(gauge("mmapstore-read-amplification")).isLessThan(3);
        assertThat(gauge("mmapstore-space-amplification")).isGreaterThanOrEqualTo(1.0);
        assertThat(gauge("mmapstore-disk-bytes")).isGreaterThanOrEqualTo(gauge("mmapstore-live-bytes-estimate"));
        for (int i = 0; i < 300; i += 7) {
            assertThat(store.get(key(i))).hasSize(40);
        }
    }

    /**
     * With compaction threads (the default) the merges run off the stream thread: commits and writes only
     * wake them, no step on the stream thread takes a budget, and the store's garbage still goes.
     */
    @Test
    void withCompactionThreadsTheMergesRunOffTheStreamThread() throws InterruptedException {
        open(Map.of("mmapstore.compaction.threads", "1"));
        writeRounds(8, 300);
        double segments = gauge("mmapstore-segments");
        assertThat(segments).isGreaterThanOrEqualTo(3);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        int i = 0;
        while ((gauge("mmapstore-pending-compaction-bytes") > 0 || gauge("mmapstore-compactions-total") == 0)
                && System.nanoTime() < deadline) {
            store.put(key(i++ % 300), new byte[40]); // the write after a commit wakes the merges
            store.commit(Map.of());
            Thread.sleep(2);
        }
        assertThat(gauge("mmapstore-compactions-total")).isPositive();
        assertThat(gauge("mmapstore-pending-compaction-bytes")).isZero();
        assertThat(gauge("mmapstore-compaction-budget-ms")).as("no budget handed to a stream-thread step").isZero();
        assertThat(StoreCore.coreOf(store).engine().compactsInBackground()).isTrue();
        for (int k = 0; k < 300; k += 7) {
            assertThat(store.get(key(k))).hasSize(40);
        }
    }

    @Test
    void commitsStepUntilAPunctuatorTakesOver() {
        open(Map.of());
        writeRounds(8, 300);
        double byCommits = gauge("mmapstore-compaction-steps-total");
        assertThat(byCommits).as("commits run compaction steps").isPositive();
        MmapCompaction.punctuator(context, Duration.ofMillis(1), "counts").punctuate(0);
        double afterPunctuation = gauge("mmapstore-compaction-steps-total");
        writeRounds(8, 300);
        assertThat(gauge("mmapstore-compaction-steps-total")).as("commits no longer step once punctuated")
                .isEqualTo(afterPunctuation);
    }

    @Test
    void aCommitBeforeAnyWriteSinceOpenDoesNotStep() {
        // Kafka Streams' startup pre-open: open, commit, close, with no write in between.
        open(Map.of("mmapstore.compaction.budget.ms", "0"));
        writeRounds(8, 300);
        assertThat(gauge("mmapstore-pending-compaction-bytes")).isPositive();
        store.close();
        open(Map.of());
        store.commit(Map.of());
        store.commit(Map.of());
        assertThat(gauge("mmapstore-compaction-steps-total")).as("no step before a write").isZero();
        store.put(key(1), new byte[40]);
        store.commit(Map.of());
        assertThat(gauge("mmapstore-compaction-steps-total")).as("a commit is a mark: it does not step").isZero();
        store.put(key(2), new byte[40]);
        assertThat(gauge("mmapstore-compaction-steps-total")).as("the write after a commit runs its step").isPositive();
    }

    @Test
    void aStoreInDebtCompactsBetweenWritesWithoutWaitingForACommit() {
        open(Map.of("mmapstore.compaction.budget.ms", "0"));
        writeRounds(8, 300);
        store.close();
        open(Map.of());
        AtomicLong now = new AtomicLong(0);
        StoreCore.coreOf(store).clock(now::get);
        assertThat(StoreCore.coreOf(store).engine().compactionDebt()).as("a merge is due").isGreaterThanOrEqualTo(0);
        double pending = gauge("mmapstore-pending-compaction-bytes");
        for (int i = 0; i < 64 * 200; i++) {
            now.addAndGet(MS); // a millisecond of writing between two writes: half of it is owed to compaction
            store.put(key(1_000 + (i & 63)), new byte[40]);
        }
        assertThat(gauge("mmapstore-compaction-steps-total")).as("slices ran, with no commit").isPositive();
        assertThat(gauge("mmapstore-compaction-bytes-written-total")).isPositive();
        assertThat(gauge("mmapstore-pending-compaction-bytes")).isLessThan(pending);
        for (int i = 0; i < 300; i += 7) {
            assertThat(store.get(key(i))).hasSize(40);
        }
    }

    @Test
    void idleStoreGetsTheIdleBudget() {
        open(Map.of("mmapstore.compaction.idle.budget.ms", "50", "mmapstore.compaction.idle.after.ms", "1000"));
        AtomicLong now = new AtomicLong(0);
        StoreCore.coreOf(store).clock(now::get);
        var punctuator = MmapCompaction.punctuator(context, Duration.ofMillis(4), "counts");
        store.put(key(1), new byte[1]);
        punctuator.punctuate(0);
        assertThat(gauge("mmapstore-compaction-budget-ms")).isEqualTo(4.0);
        now.set(500 * MS);
        punctuator.punctuate(0);
        assertThat(gauge("mmapstore-compaction-budget-ms")).isEqualTo(4.0);
        now.set(1_000 * MS);
        punctuator.punctuate(0);
        assertThat(gauge("mmapstore-compaction-budget-ms")).as("no write for the idle time").isEqualTo(50.0);
        store.put(key(2), new byte[1]);
        now.set(1_100 * MS);
        punctuator.punctuate(0);
        assertThat(gauge("mmapstore-compaction-budget-ms")).isEqualTo(4.0);
    }

    @Test
    void otherStoresAreIgnoredAndBadArgumentsRefused() {
        open(Map.of());
        rocks = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("plain"), Serdes.Bytes(), Serdes.ByteArray())
                .withLoggingDisabled().withCachingDisabled().build();
        rocks.init(context.getStateStoreContext(), rocks);
        context.addStateStore(rocks);
        MmapCompaction.punctuator(context, Duration.ofMillis(1), "plain", "counts").punctuate(0);
        assertThat(StoreCore.coreOf(rocks)).isNull();
        assertThatThrownBy(() -> MmapCompaction.punctuator(context, Duration.ofMillis(1), "missing").punctuate(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("missing");
        assertThatThrownBy(() -> MmapCompaction.schedule(context, Duration.ZERO, Duration.ofMillis(1), "counts"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("interval");
        assertThatThrownBy(() -> MmapCompaction.punctuator(context, Duration.ofMillis(-1), "counts"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("budget");
        assertThatThrownBy(() -> MmapCompaction.punctuator(context, Duration.ofMillis(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one store");
    }

    @Test
    void configKeysAreReadAndCheckedWithClearMessages() {
        MmapStoreConfig c = MmapStoreConfig.from(Map.of("compaction.max.space.amplification", "2.5",
                "compaction.idle.budget.ms", "70", "compaction.idle.after.ms", "3000", "compaction.busy.writes", "99"));
        assertThat(c.engine().maxSpaceAmplification()).isEqualTo(2.5);
        assertThat(c.compactionIdleBudget()).isEqualTo(Duration.ofMillis(70));
        assertThat(c.compactionIdleAfter()).isEqualTo(Duration.ofSeconds(3));
        assertThat(c.compactionBusyWrites()).isEqualTo(99);
        MmapStoreConfig d = MmapStoreConfig.from(Map.of());
        assertThat(d.compactionBudget()).isEqualTo(Duration.ofMillis(5));
        assertThat(d.engine().maxSpaceAmplification()).isEqualTo(1.5);
        assertThatThrownBy(() -> MmapStoreConfig.from(Map.of("compaction.max.space.amplification", "1.0")))
                .hasMessageContaining("mmapstore.compaction.max.space.amplification").hasMessageContaining("between 1.1");
        assertThatThrownBy(() -> MmapStoreConfig.from(Map.of("compaction.max.space.amplification", "lots")))
                .hasMessageContaining("must be a number");
        assertThat(d.engine().compactionFileBytes()).isEqualTo(32L * 1024 * 1024);
        assertThat(MmapStoreConfig.from(Map.of("compaction.file.bytes", "1048576")).engine().compactionFileBytes())
                .isEqualTo(1 << 20);
        assertThatThrownBy(() -> MmapStoreConfig.from(Map.of("compaction.file.bytes", "100")))
                .hasMessageContaining("mmapstore.compaction.file.bytes");
    }
}
