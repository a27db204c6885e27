package io.github.mmapstore.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Locking, use after close, limits, and compaction budgets. */
class EngineContractTest {
    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    EngineConfig config() {
        return EngineConfig.defaults().withFsync(false).withMemtableBytes(4096);
    }

    static List<String> dump(StoreEngine e) {
        List<String> out = new ArrayList<>();
        for (KeyValue kv : EngineModelProperties.drain(e.all())) {
            out.add(new String(kv.key(), StandardCharsets.UTF_8) + "=" + new String(kv.value(), StandardCharsets.UTF_8));
        }
        return out;
    }

    @Test
    void secondOpenOfTheSameDirectoryIsLocked() {
        StoreEngine e = StoreEngine.open(dir, config());
        e.put(b("a"), b("1"));
        e.commit(null);
        assertThatThrownBy(() -> StoreEngine.open(dir, config())).isInstanceOf(StoreLockedException.class)
                .hasMessageContaining(dir.toString());
        assertThatThrownBy(() -> StoreEngine.open(dir.resolve("."), config())).isInstanceOf(StoreLockedException.class);
        // The failed opens changed nothing for the owner.
        assertThat(e.get(b("a"))).isEqualTo(b("1"));
        e.put(b("b"), b("2"));
        e.commit(b("m"));
        e.close();
        try (StoreEngine again = StoreEngine.open(dir, config())) {
            assertThat(dump(again)).containsExactly("a=1", "b=2");
            assertThat(again.lastCommitMetadata()).isEqualTo(b("m"));
        }
        // A crashed (abandoned) engine releases its lock too.
        StoreEngine crashed = StoreEngine.open(dir, config());
        crashed.abandon();
        StoreEngine.open(dir, config()).close();
    }

    @Test
    void everyOperationAfterCloseThrowsEngineClosed() {
        StoreEngine e = StoreEngine.open(dir, config());
        e.put(b("a"), b("1"));
        e.commit(null);
        e.close();
        assertThat(e.isClosed()).isTrue();
        List<Runnable> ops = List.of(
                () -> e.put(b("a"), b("2")),
                () -> e.delete(b("a")),
                () -> e.write(List.of(new KeyValue(b("a"), b("3")))),
                () -> e.commit(null),
                e::flush,
                () -> e.compact(1_000_000),
                e::compactFully,
                () -> e.get(b("a")),
                e::all,
                () -> e.prefixScan(b("a"), false));
        for (Runnable op : ops) {
            assertThatThrownBy(op::run).isInstanceOf(EngineClosedException.class);
        }
        e.close(); // idempotent
        try (StoreEngine again = StoreEngine.open(dir, config())) {
            assertThat(dump(again)).containsExactly("a=1");
        }
    }

    @Test
    void limitsThrowAndChangeNothing() {
        EngineConfig cfg = config().withMaxKeyBytes(16).withMaxValueBytes(100);
        try (StoreEngine e = StoreEngine.open(dir, cfg)) {
            e.put(b("a"), b("1"));
            e.put(b("x".repeat(16)), new byte[100]); // exactly at the limits: accepted
            e.commit(b("m1"));
            long logBytes = e.stats().logBytes();
            long seqVisible = e.stats().memtableKeys();
            List<String> before = dump(e);

            assertThatThrownBy(() -> e.put(b("x".repeat(17)), b("v"))).isInstanceOf(LimitExceededException.class)
                    .hasMessageContaining("17").hasMessageContaining("16");
            assertThatThrownBy(() -> e.put(b("a"), new byte[101])).isInstanceOf(LimitExceededException.class)
                    .hasMessageContaining("101");
            assertThatThrownBy(() -> e.delete(b("y".repeat(17)))).isInstanceOf(LimitExceededException.class);
            // A batch with one bad entry anywhere applies none of it.
            List<KeyValue> batch = List.of(new KeyValue(b("b"), b("2")), new KeyValue(b("a"), null),
                    new KeyValue(b("c"), new byte[101]), new KeyValue(b("d"), b("4")));
            assertThatThrownBy(() -> e.write(batch)).isInstanceOf(LimitExceededException.class);
            List<KeyValue> batch2 = List.of(new KeyValue(b("b"), b("2")), new KeyValue(b("z".repeat(17)), null));
            assertThatThrownBy(() -> e.write(batch2)).isInstanceOf(LimitExceededException.class);
            assertThatThrownBy(() -> e.put(null, b("v"))).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> e.put(b("a"), null)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> e.delete(null)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> e.get(null)).isInstanceOf(NullPointerException.class);
            List<KeyValue> batch3 = new ArrayList<>();
            batch3.add(new KeyValue(b("b"), b("2")));
            batch3.add(new KeyValue(null, b("2")));
            assertThatThrownBy(() -> e.write(batch3)).isInstanceOf(NullPointerException.class);

            assertThat(dump(e)).isEqualTo(before);
            assertThat(e.stats().logBytes()).as("nothing logged").isEqualTo(logBytes);
            assertThat(e.stats().memtableKeys()).isEqualTo(seqVisible);
            // The engine is still usable, and what it commits next is exactly the good writes.
            e.put(b("b"), b("2"));
            e.commit(b("m2"));
        }
        try (StoreEngine e = StoreEngine.open(dir, cfg)) {
            assertThat(e.openReport().rebuiltAfterCorruption()).isFalse();
            assertThat(dump(e)).hasSize(3).contains("a=1", "b=2");
            assertThat(e.get(b("c"))).isNull();
            assertThat(e.get(b("d"))).isNull();
            assertThat(e.lastCommitMetadata()).isEqualTo(b("m2"));
        }
    }

    @Test
    void compactWithUnlimitedBudgetFinishesInOneCall() {
        // Long.MAX_VALUE means "no time limit": System.nanoTime() + budget must not overflow into a deadline
        // in the past, which made each call stop after the first few hundred rows.
        try (StoreEngine e = StoreEngine.open(dir, config().withCompactionTrigger(4).withMemtableBytes(1 << 20))) {
            for (int s = 0; s < 4; s++) {
                for (int i = 0; i < 2000; i++) {
                    e.put(b(String.format("k%05d", i)), b("v" + s + "-" + i));
                }
                e.flush();
                e.commit(null);
            }
            assertThat(e.stats().segments()).isEqualTo(4);
            assertThat(e.compact(Long.MAX_VALUE)).as("no work left after an unlimited step").isFalse();
            assertThat(e.stats().segments()).isEqualTo(1);
            assertThat(e.get(b("k01999"))).isEqualTo(b("v3-1999"));
        }
    }

    @Test
    void compactWithZeroBudgetStillMakesProgress() {
        try (StoreEngine e = StoreEngine.open(dir, config().withCompactionTrigger(2).withMemtableBytes(1 << 20))) {
            for (int s = 0; s < 2; s++) {
                for (int i = 0; i < 2000; i++) {
                    e.put(b(String.format("k%05d", i)), b("v" + s + "-" + i));
                }
                e.flush();
                e.commit(null);
            }
            int calls = 0;
            while (e.compact(0)) {
                assertThat(++calls).isLessThan(1000);
            }
            assertThat(e.stats().segments()).isEqualTo(1);
            assertThat(e.get(b("k00000"))).isEqualTo(b("v1-0"));
        }
    }
}
