package io.github.mmapstore.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many engines under one {@link MemoryBudget}: their unwritten writes stay within its limit whoever
 * writes, the largest (and idle) memtables are frozen first, writers wait at the limit until flushes make
 * room, and a store whose memtable the budget froze in the middle of a transaction still reads, commits and
 * recovers exactly as one whose memtable filled by itself.
 */
class MemoryBudgetTest {
    private static final long LIMIT = 2L << 20;

    @TempDir
    Path dir;

    private final List<StoreEngine> open = new ArrayList<>();

    @AfterEach
    void closeAll() {
        for (StoreEngine e : open) {
            e.close();
        }
    }

    private StoreEngine open(String name, EngineConfig config) {
        StoreEngine e = StoreEngine.open(dir.resolve(name), config);
        open.add(e);
        return e;
    }

    private static EngineConfig config(MemoryBudget budget, boolean log) {
        return EngineConfig.defaults().withMemtableBytes(64L << 20).withFsync(false).withLog(log).withMemoryBudget(budget);
    }

    private static byte[] key(int store, int i) {
        return String.format("s%03d-k%07d", store, i).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] value(int i, int version) {
        byte[] v = new byte[100];
        Arrays.fill(v, (byte) (i * 31 + version));
        return v;
    }

    @Test
    void unwrittenBytesOfManyStoresStayWithinTheLimitAndEveryWriteIsKept() {
        MemoryBudget budget = new MemoryBudget("test-many", LIMIT);
        int stores = 40;
        List<StoreEngine> engines = new ArrayList<>();
        for (int s = 0; s < stores; s++) {
            engines.add(open("store-" + s, config(budget, s % 2 == 0)));
        }
        // 40 stores x 2,000 keys x ~130 bytes: about 10 MB of writes, five times the budget
        int keys = 2_000;
        long peak = 0;
        for (int i = 0; i < keys; i++) {
            for (int s = 0; s < stores; s++) {
                engines.get(s).put(key(s, i), value(i, s));
            }
            if (i % 100 == 99) {
                for (StoreEngine e : engines) {
                    e.commit(null);
                }
            }
            peak = Math.max(peak, budget.usedBytes());
        }
        // what is unreported (less than a granule per store) and one write per store may pass it
        long slack = stores * (budget.granule() + 256);
        assertThat(budget.peakUsedBytes()).isLessThanOrEqualTo(LIMIT + slack);
        assertThat(peak).isLessThanOrEqualTo(LIMIT + slack);
        // no store's memtable was allowed near the 64 MiB it was configured with
        long flushes = 0;
        for (StoreEngine e : engines) {
            flushes += e.stats().flushes();
            assertThat(e.stats().memtableBytes()).isLessThanOrEqualTo(budget.storeCapBytes() + budget.storeCapBytes() / 4);
        }
        assertThat(flushes).isGreaterThanOrEqualTo(stores);
        for (int s = 0; s < stores; s++) {
            for (int i = 0; i < keys; i += 37) {
                assertThat(engines.get(s).get(key(s, i))).as("store %d key %d", s, i).isEqualTo(value(i, s));
            }
        }
        for (StoreEngine e : engines) {
            e.close();
        }
        open.clear();
        assertThat(budget.usedBytes()).isZero();
        assertThat(budget.frozenBytes()).isZero();
        assertThat(budget.stores()).isZero();
    }

    @Test
    void oneStoreFreezesAtAQuarterOfTheBudget() {
        MemoryBudget budget = new MemoryBudget("test-cap", LIMIT);
        StoreEngine e = open("alone", config(budget, false));
        for (int i = 0; i < 20_000; i++) { // ~2.6 MB of writes: past the cap (512 KiB) several times
            e.put(key(0, i), value(i, 1));
        }
        e.commit(null);
        assertThat(e.stats().flushes()).isGreaterThanOrEqualTo(3);
        assertThat(e.stats().memtableBytes()).isLessThanOrEqualTo(budget.storeCapBytes() + budget.storeCapBytes() / 4);
    }

    @Test
    void anIdleStoreGivesItsMemoryBackWhenOthersNeedIt() throws Exception {
        MemoryBudget budget = new MemoryBudget("test-idle", LIMIT);
        StoreEngine idle = open("idle", config(budget, false));
        for (int i = 0; i < 3_000; i++) { // ~400 KB: under its cap, so it would never flush by itself
            idle.put(key(0, i), value(i, 1));
        }
        idle.commit("c1".getBytes(StandardCharsets.UTF_8));
        long idleFlushes = idle.stats().flushes();
        List<StoreEngine> busy = new ArrayList<>();
        for (int s = 1; s <= 4; s++) {
            busy.add(open("busy-" + s, config(budget, false)));
        }
        for (int i = 0; i < 6_000; i++) {
            for (int s = 0; s < busy.size(); s++) {
                busy.get(s).put(key(s + 1, i), value(i, s));
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (idle.stats().flushes() == idleFlushes && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(idle.stats().flushes()).as("the idle store's memtable was frozen by the budget").isGreaterThan(idleFlushes);
        assertThat(budget.forcedFreezes()).isPositive();
        for (int i = 0; i < 3_000; i += 11) {
            assertThat(idle.get(key(0, i))).isEqualTo(value(i, 1));
        }
    }

    @Test
    void writersWaitAtTheLimitUntilFlushesMakeRoom() throws Exception {
        MemoryBudget budget = new MemoryBudget("test-stall", LIMIT);
        CountDownLatch flusherHeld = new CountDownLatch(1);
        AtomicInteger held = new AtomicInteger();
        FaultInjector holdFlushes = point -> {
            if (point == FaultInjector.Point.FLUSH_AFTER_SEGMENT_WRITTEN) {
                held.incrementAndGet();
                try {
                    flusherHeld.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        List<StoreEngine> engines = new ArrayList<>();
        for (int s = 0; s < 4; s++) {
            engines.add(open("stall-" + s, config(budget, false).withFaults(holdFlushes)));
        }
        AtomicInteger written = new AtomicInteger();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try {
                for (int i = 0; i < 10_000; i++) {
                    for (int s = 0; s < engines.size(); s++) {
                        engines.get(s).put(key(s, i), value(i, s));
                    }
                    written.incrementAndGet();
                }
            } catch (Throwable t) {
                failed.set(t);
            }
        }, "test-writer");
        writer.start();
        // flushes cannot land, so the writer must come to a stop at the limit
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        int last = -1;
        while (System.nanoTime() < deadline) {
            Thread.sleep(200);
            int now = written.get();
            if (now == last) {
                break;
            }
            last = now;
        }
        assertThat(writer.isAlive()).as("the writer waits for room").isTrue();
        assertThat(written.get()).isLessThan(10_000);
        assertThat(budget.usedBytes()).isGreaterThanOrEqualTo(LIMIT);
        assertThat(budget.usedBytes()).isLessThanOrEqualTo(LIMIT + 4 * (budget.granule() + 256) + budget.storeCapBytes() + budget.storeCapBytes() / 4);
        flusherHeld.countDown();
        writer.join(TimeUnit.SECONDS.toMillis(60));
        assertThat(failed.get()).isNull();
        assertThat(written.get()).isEqualTo(10_000);
        assertThat(budget.stalls()).isPositive();
        assertThat(held.get()).isPositive();
        for (int s = 0; s < engines.size(); s++) {
            for (int i = 0; i < 10_000; i += 97) {
                assertThat(engines.get(s).get(key(s, i))).isEqualTo(value(i, s));
            }
        }
    }

    @Test
    void aMemtableFrozenByTheBudgetMidTransactionRecoversAtTheLastCheckpointExactly() throws Exception {
        MemoryBudget budget = new MemoryBudget("test-crash", LIMIT);
        StoreEngine victim = open("victim", config(budget, false).withCheckpointIntervalMillis(0));
        Map<String, byte[]> committed = new HashMap<>();
        for (int i = 0; i < 2_000; i++) {
            victim.put(key(0, i), value(i, 1));
            committed.put(new String(key(0, i), StandardCharsets.UTF_8), value(i, 1));
        }
        victim.commit("first".getBytes(StandardCharsets.UTF_8));
        victim.awaitDurable();
        // uncommitted writes (under the store's own cap), then smaller stores press the budget until the
        // victim, the largest, is frozen in the middle of its transaction
        for (int i = 0; i < 2_800; i++) {
            victim.put(key(0, i), value(i, 2));
        }
        long before = victim.stats().flushes();
        List<StoreEngine> others = new ArrayList<>();
        for (int s = 1; s <= 8; s++) {
            others.add(open("press-" + s, config(budget, false)));
        }
        for (int i = 0; i < 1_500 && victim.stats().flushes() == before; i++) {
            for (int s = 0; s < others.size(); s++) {
                others.get(s).put(key(s + 1, i), value(i, s));
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (victim.stats().flushes() == before && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(victim.stats().flushes()).isGreaterThan(before);
        // the uncommitted writes are readable before the crash...
        assertThat(victim.get(key(0, 5))).isEqualTo(value(5, 2));
        victim.abandon();
        open.remove(victim);
        // ...and gone after it: the store opens at its last checkpoint, with exactly that commit's data
        StoreEngine reopened = open("victim", config(budget, false));
        assertThat(new String(reopened.durableCommitMetadata(), StandardCharsets.UTF_8)).isEqualTo("first");
        for (Map.Entry<String, byte[]> kv : committed.entrySet()) {
            assertThat(reopened.get(kv.getKey().getBytes(StandardCharsets.UTF_8))).as(kv.getKey()).isEqualTo(kv.getValue());
        }
    }

    @Test
    void aBudgetBelowTheMinimumIsRefusedWithItsSetting() {
        assertThatThrownBy(() -> new MemoryBudget("tiny", 1000))
                .isInstanceOf(LimitExceededException.class)
                .hasMessageContaining("mmapstore.memory.budget.bytes")
                .hasMessageContaining("1000");
    }

    @Test
    void mappingsPastTheLimitAreRefusedWithTheSettingsToChange() {
        long before = FileLimits.maxMappings();
        StoreEngine e = open("mapped", EngineConfig.defaults().withFsync(false).withLog(false));
        e.put(key(0, 1), value(1, 1));
        e.commit(null);
        e.flush();
        e.awaitDurable();
        try {
            FileLimits.configureMaxMappings(Math.max(1, FileLimits.mappings()));
            e.put(key(0, 2), value(2, 1));
            e.commit(null);
            // the flush cannot map its segment: the store fails with the limit's name
            assertThatThrownBy(() -> {
                e.flush();
                e.awaitDurable();
                e.put(key(0, 3), value(3, 1));
            }).hasMessageContaining("mmapstore.max.mappings").hasMessageContaining("vm.max_map_count");
        } finally {
            FileLimits.configureMaxMappings(before);
        }
    }
}
