package io.github.mmapstore.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An open that finds a committed log tail small enough for one memtable only checks the logs and reads
 * the last commit; the first read or write replays the records (Kafka Streams opens every store once at
 * startup just for its committed offsets, then again to process). These tests hold the deferred replay
 * to what an eager one gives: the same data, the same durability, the same reaction to damage.
 */
class DeferredReplayTest {
    private static final int KEYS = 300;

    @TempDir
    Path dir;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String s(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    private static EngineConfig config() {
        return EngineConfig.defaults().withFsync(false).withMemtableBytes(1 << 20);
    }

    /**
     * KEYS committed puts and a committed delete of key 7, left in the log, then an uncommitted put (still
     * in the log buffer) and a kill.
     */
    private void committedTailThenCrash() {
        StoreEngine e = StoreEngine.open(dir, config());
        for (int i = 0; i < KEYS; i++) {
            e.put(b("k" + i), b("v" + i));
        }
        e.delete(b("k7"));
        e.commit(b("meta-1"));
        e.put(b("k1"), b("uncommitted"));
        e.abandon();
    }

    @Test
    void openLeavesTheCommittedTailToTheFirstRead() {
        committedTailThenCrash();
        try (StoreEngine e = StoreEngine.open(dir, config())) {
            OpenReport r = e.openReport();
            assertThat(r.replayDeferred()).isTrue();
            assertThat(r.replayedRecords()).isEqualTo(KEYS + 1);
            assertThat(s(e.lastCommitMetadata())).isEqualTo("meta-1");
            assertThat(s(e.get(b("k1")))).isEqualTo("v1");
            assertThat(e.get(b("k7"))).isNull();
            assertThat(e.approximateNumEntries()).isEqualTo(KEYS - 1);
            List<String> keys = new ArrayList<>();
            try (EngineIterator it = e.all()) {
                while (it.hasNext()) {
                    keys.add(s(it.next().key()));
                }
            }
            assertThat(keys).hasSize(KEYS - 1).doesNotContain("k7");
        }
    }

    @Test
    void aWriteBeforeAnyReadLandsAfterTheReplayedRecords() {
        committedTailThenCrash();
        try (StoreEngine e = StoreEngine.open(dir, config())) {
            e.put(b("k2"), b("new"));
            e.delete(b("k3"));
            e.put(b("k7"), b("back"));
            assertThat(s(e.get(b("k2")))).isEqualTo("new");
            assertThat(e.get(b("k3"))).isNull();
            assertThat(s(e.get(b("k7")))).isEqualTo("back");
            assertThat(s(e.get(b("k4")))).isEqualTo("v4");
            e.commit(b("meta-2"));
        }
        try (StoreEngine e = StoreEngine.open(dir, config())) {
            assertThat(s(e.get(b("k2")))).isEqualTo("new");
            assertThat(e.get(b("k3"))).isNull();
            assertThat(s(e.get(b("k7")))).isEqualTo("back");
            assertThat(s(e.get(b("k4")))).isEqualTo("v4");
            assertThat(s(e.lastCommitMetadata())).isEqualTo("meta-2");
        }
    }

    @Test
    void commitsBeforeTheReplayKeepEverythingThroughCrashesAndReopens() {
        committedTailThenCrash();
        // an open only for the offsets: commit the same metadata again, close, without reading
        try (StoreEngine e = StoreEngine.open(dir, config())) {
            e.commit(b("meta-again"));
            assertThat(e.compact(1_000_000)).isFalse();
        }
        // again, and this time crash after the commit
        StoreEngine crashed = StoreEngine.open(dir, config());
        assertThat(crashed.openReport().replayDeferred()).isTrue();
        crashed.commit(b("meta-3"));
        crashed.abandon();
        try (StoreEngine e = StoreEngine.open(dir, config())) {
            assertThat(e.openReport().replayedRecords()).isEqualTo(KEYS + 1);
            assertThat(s(e.lastCommitMetadata())).isEqualTo("meta-3");
            for (int i = 0; i < KEYS; i++) {
                assertThat(s(e.get(b("k" + i)))).as("k" + i).isEqualTo(i == 7 ? null : "v" + i);
            }
        }
    }

    @Test
    void concurrentFirstReadsAndWritesEachSeeTheWholeTail() throws Exception {
        committedTailThenCrash();
        try (StoreEngine e = StoreEngine.open(dir, config())) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                CountDownLatch go = new CountDownLatch(1);
                List<Future<Integer>> readers = new ArrayList<>();
                for (int t = 0; t < 3; t++) {
                    readers.add(pool.submit(() -> {
                        go.await();
                        int found = 0;
                        for (int i = 0; i < KEYS; i++) {
                            if (e.get(b("k" + i)) != null) {
                                found++;
                            }
                        }
                        return found;
                    }));
                }
                Future<?> writer = pool.submit(() -> {
                    go.await();
                    e.put(b("extra"), b("x"));
                    return null;
                });
                go.countDown();
                writer.get();
                for (Future<Integer> r : readers) {
                    assertThat(r.get()).isEqualTo(KEYS - 1);
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(s(e.get(b("extra")))).isEqualTo("x");
        }
    }

    @Test
    void aTailLargerThanTwoMemtablesIsReplayedAtOpen() {
        EngineConfig small = EngineConfig.defaults().withFsync(false).withMemtableBytes(4096);
        StoreEngine w = StoreEngine.open(dir, EngineConfig.defaults().withFsync(false).withMemtableBytes(1 << 20));
        for (int i = 0; i < KEYS; i++) {
            w.put(b("k" + i), b("value-" + i + "-".repeat(40)));
        }
        w.commit(b("m"));
        w.abandon();
        try (StoreEngine e = StoreEngine.open(dir, small)) {
            assertThat(e.openReport().replayDeferred()).isFalse();
            assertThat(e.openReport().replayedRecords()).isEqualTo(KEYS);
            assertThat(s(e.get(b("k5")))).startsWith("value-5-");
        }
    }

    @Test
    void aTailBetweenOneAndTwoMemtablesIsDeferredAndTheNextWriteFlushesIt() throws IOException {
        StoreEngine w = StoreEngine.open(dir, EngineConfig.defaults().withFsync(false).withMemtableBytes(1 << 20));
        for (int i = 0; i < KEYS; i++) {
            w.put(b("k" + i), b("value-" + i + "-".repeat(40)));
        }
        w.commit(b("m"));
        w.abandon();
        long logBytes;
        try (Stream<Path> files = Files.list(dir)) {
            logBytes = files.filter(p -> p.toString().endsWith(FileNames.LOG_SUFFIX)).mapToLong(p -> p.toFile().length()).sum();
        }
        EngineConfig tight = EngineConfig.defaults().withFsync(false).withMemtableBytes(logBytes * 2 / 3);
        try (StoreEngine e = StoreEngine.open(dir, tight)) {
            assertThat(e.openReport().replayDeferred()).isTrue();
            assertThat(e.stats().segments()).isZero();
            e.put(b("k1"), b("new"));
            e.awaitFlushForTesting();
            assertThat(e.stats().segments()).as("the write after the replay flushed the full memtable").isPositive();
            e.commit(b("m2"));
            assertThat(s(e.get(b("k1")))).isEqualTo("new");
            assertThat(s(e.get(b("k2")))).startsWith("value-2-");
        }
    }

    @Test
    void damageToTheTailAfterTheOpenFailsTheFirstReadAndTheNextOpenQuarantines() throws IOException {
        committedTailThenCrash();
        StoreEngine e = StoreEngine.open(dir, config());
        assertThat(e.openReport().replayDeferred()).isTrue();
        Path log;
        try (Stream<Path> files = Files.list(dir)) {
            log = files.filter(p -> p.toString().endsWith(FileNames.LOG_SUFFIX)).findFirst().orElseThrow();
        }
        // flip a byte in the middle of the committed records
        try (FileChannel ch = FileChannel.open(log, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long at = ch.size() / 2;
            ByteBuffer one = ByteBuffer.allocate(1);
            ch.read(one, at);
            one.put(0, (byte) (one.get(0) ^ 0x5A)).rewind();
            ch.write(one, at);
        }
        assertThatThrownBy(() -> e.get(b("k1"))).isInstanceOf(CorruptionException.class);
        assertThat(e.failure()).isInstanceOf(CorruptionException.class);
        assertThatThrownBy(() -> e.put(b("k1"), b("x"))).isInstanceOf(EngineClosedException.class);
        e.close();
        try (StoreEngine reopened = StoreEngine.open(dir, config())) {
            assertThat(reopened.openReport().rebuiltAfterCorruption()).isTrue();
            assertThat(reopened.lastCommitMetadata()).isNull();
            assertThat(reopened.get(b("k1"))).isNull();
        }
    }
}
