package io.github.mmapstore.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A commit does not wait for a flush in flight (its COMMIT record commits the frozen memtable's records,
 * still in the logs) and leaves the manifest checkpoint to a later commit. These tests hold the two ends
 * of that: a commit returns while the flush is blocked, and a commit that finds a second flush since the
 * last checkpoint waits for it and checkpoints, so the logs a crash replays stay bounded.
 */
class CommitDuringFlushTest {
    @TempDir
    Path dir;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Holds the {@code blockedFlush}-th flush (1-based) after its segment is written until released. */
    private static final class BlockingFlush implements FaultInjector {
        final AtomicInteger started = new AtomicInteger();
        final AtomicInteger flushes = new AtomicInteger();
        final CountDownLatch reached = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final int blockedFlush;

        BlockingFlush(int blockedFlush) {
            this.blockedFlush = blockedFlush;
        }

        @Override
        public void at(Point point) {
            if (point == Point.FLUSH_BEFORE_SEGMENT) {
                started.incrementAndGet();
            }
            if (point == Point.FLUSH_AFTER_SEGMENT_WRITTEN && flushes.incrementAndGet() == blockedFlush) {
                reached.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    private long logFiles() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.toString().endsWith(FileNames.LOG_SUFFIX)).count();
        }
    }

    /** Puts distinct keys until the engine has started {@code flushes} flushes in all. */
    private static int fillUntilFlushes(StoreEngine e, BlockingFlush faults, int from, long flushes) {
        int i = from;
        while (faults.started.get() < flushes) {
            e.put(b("key-" + i), b("value-" + i + "-".repeat(60)));
            i++;
        }
        return i;
    }

    private static EngineConfig config(FaultInjector faults) {
        return EngineConfig.defaults().withFsync(false).withMemtableBytes(4096).withFaults(faults);
    }

    @Test
    void aCommitDoesNotWaitForTheFirstFlushInFlight() throws Exception {
        BlockingFlush faults = new BlockingFlush(1);
        try (StoreEngine e = StoreEngine.open(dir, config(faults))) {
            int next = fillUntilFlushes(e, faults, 0, 1);
            assertThat(faults.reached.await(30, TimeUnit.SECONDS)).isTrue();
            e.commit(b("m1")); // returns although the flush is held
            assertThat(logFiles()).as("no checkpoint yet: the frozen memtable's log is still needed").isGreaterThan(1);
            faults.release.countDown();
            e.awaitFlushForTesting();
            e.put(b("key-" + next), b("after"));
            e.commit(b("m2"));
            e.awaitBackgroundForTesting(); // the old logs go once the checkpoint's manifest is on disk
            assertThat(logFiles()).as("the next commit checkpoints").isEqualTo(1);
        }
        try (StoreEngine e = StoreEngine.open(dir, config(FaultInjector.NONE))) {
            assertThat(new String(e.lastCommitMetadata(), StandardCharsets.UTF_8)).isEqualTo("m2");
            assertThat(e.get(b("key-0"))).isNotNull();
        }
    }

    @Test
    void aCommitThatFindsASecondFlushSinceTheCheckpointWaitsForIt() throws Exception {
        BlockingFlush faults = new BlockingFlush(2);
        try (StoreEngine e = StoreEngine.open(dir, config(faults))) {
            int next = fillUntilFlushes(e, faults, 0, 1);
            e.awaitFlushForTesting(); // flush 1 is done: its segment waits for a checkpoint
            fillUntilFlushes(e, faults, next, 2);
            assertThat(faults.reached.await(30, TimeUnit.SECONDS)).isTrue();
            // Release the flush only once this thread is parked: inside commit() waiting for the flush, or,
            // if commit() returned without waiting, in join() below (then the flush is still held when
            // commit() decides about its checkpoint, and the log-file check fails).
            Thread committer = Thread.currentThread();
            Thread releaser = new Thread(() -> {
                while (committer.getState() != Thread.State.WAITING && committer.getState() != Thread.State.TIMED_WAITING) {
                    Thread.onSpinWait();
                }
                faults.release.countDown();
            });
            releaser.start();
            e.commit(b("m1"));
            releaser.join();
            assertThat(faults.release.getCount()).as("the commit returned only after the flush went on").isZero();
            e.awaitBackgroundForTesting(); // the old logs go once the checkpoint's manifest is on disk
            assertThat(logFiles()).as("the commit waited for the second flush and checkpointed").isEqualTo(1);
        }
        try (StoreEngine e = StoreEngine.open(dir, config(FaultInjector.NONE))) {
            assertThat(e.openReport().replayedRecords()).isZero();
            assertThat(e.get(b("key-0"))).isNotNull();
        }
    }
}
