package io.github.mmapstore.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store whose manifest still needs two logs: the older one rotated by a flush (it ends with an END
 * frame naming the newer one), the newer one holding the last commit (the crash came after that commit's
 * sync, before its manifest). Cutting the older log at a frame boundary leaves no torn frame behind; only
 * the missing END frame shows that committed records are gone. Found by the real-broker corruption matrix
 * (a truncated log opened "clean" and the store silently lacked committed updates).
 */
class RotatedLogRecoveryTest {
    private static final int KEYS = 400;

    @TempDir
    Path dir;

    record Frame(byte type, long off, long end) {
    }

    static final class CrashAfterCommitSync extends RuntimeException {
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String key(int i) {
        return String.format("key-%05d", i);
    }

    private EngineConfig config(FaultInjector faults) {
        return EngineConfig.defaults().withFsync(false).withMemtableBytes(8192).withFaults(faults);
    }

    @BeforeEach
    void buildTwoNeededLogs() throws IOException {
        boolean[] armed = {false};
        StoreEngine e = StoreEngine.open(dir, config(point -> {
            if (armed[0] && point == FaultInjector.Point.COMMIT_AFTER_FSYNC) {
                throw new CrashAfterCommitSync();
            }
        }));
        for (int i = 0; i < KEYS; i++) {
            e.put(b(key(i)), b("value-" + i + "-".repeat(20)));
        }
        armed[0] = true;
        assertThatThrownBy(() -> e.commit(b("last"))).isInstanceOf(CrashAfterCommitSync.class);
        e.abandon();
        assertThat(logs()).as("logs after a rotation and a crash before the manifest").hasSizeGreaterThanOrEqualTo(2);
    }

    private List<Path> logs() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(FileNames.LOG_SUFFIX)).sorted().toList();
        }
    }

    private static List<Frame> frames(Path log) throws IOException {
        List<Frame> out = new ArrayList<>();
        LogScanner.scan(log, FileNames.number(log.getFileName().toString()).getAsLong(),
                (type, payload, off, end) -> out.add(new Frame(type, off, end)));
        return out;
    }

    @Test
    void bothLogsIntactOpenWithEveryCommittedWrite() {
        try (StoreEngine e = StoreEngine.open(dir, config(FaultInjector.NONE))) {
            assertThat(e.openReport().rebuiltAfterCorruption()).isFalse();
            assertThat(e.lastCommitMetadata()).isEqualTo(b("last"));
            for (int i = 0; i < KEYS; i++) {
                assertThat(e.get(b(key(i)))).as(key(i)).isNotNull();
            }
        }
    }

    @Test
    void rotatedLogEndsWithEndFrameNamingItsSuccessor() throws IOException {
        List<Path> logs = logs();
        List<Frame> first = frames(logs.get(0));
        assertThat(first.get(first.size() - 1).type()).isEqualTo(LogFormat.END);
    }

    @Test
    void olderLogCutAtAFrameBoundaryIsCorruptionNotSilentLoss() throws IOException {
        Path older = logs().get(0);
        List<Frame> fs = frames(older);
        assertThat(fs.size()).isGreaterThan(3);
        long cut = fs.get(fs.size() / 2).off(); // a frame boundary: nothing torn is left behind
        try (FileChannel ch = FileChannel.open(older, StandardOpenOption.WRITE)) {
            ch.truncate(cut);
        }
        try (StoreEngine e = StoreEngine.open(dir, config(FaultInjector.NONE))) {
            OpenReport r = e.openReport();
            assertThat(r.rebuiltAfterCorruption()).as("the lost committed records are reported").isTrue();
            assertThat(r.reason()).contains(older.getFileName().toString());
            assertThat(e.lastCommitMetadata()).as("no commit claims data the store no longer has").isNull();
        }
    }

    @Test
    void olderLogMissingOnlyItsEndFrameIsCorruptionToo() throws IOException {
        Path older = logs().get(0);
        List<Frame> fs = frames(older);
        try (FileChannel ch = FileChannel.open(older, StandardOpenOption.WRITE)) {
            ch.truncate(fs.get(fs.size() - 1).off());
        }
        try (StoreEngine e = StoreEngine.open(dir, config(FaultInjector.NONE))) {
            assertThat(e.openReport().rebuiltAfterCorruption()).isTrue();
        }
    }

    /**
     * A commit that finds a finished flush writes a manifest whose first log holds the records written
     * since the rotation, up to that commit's COMMIT record. Cutting that log before the COMMIT record
     * must not let the store open at the manifest's metadata without those records.
     */
    @Test
    void logCutBeforeTheCommitTheManifestRecordsIsCorruption(@TempDir Path other) throws IOException {
        try (StoreEngine e = StoreEngine.open(other, config(FaultInjector.NONE))) {
            for (int i = 0; i < KEYS; i++) {
                e.put(b(key(i)), b("value-" + i + "-".repeat(20)));
            }
            e.commit(b("checkpointed"));
        }
        Manifest m = Manifest.read(other);
        assertThat(m.commitEnd()).as("the manifest records where its commit ends").isPositive();
        Path first = FileNames.log(other, m.logStart());
        List<Frame> fs = frames(first);
        assertThat(fs).extracting(Frame::type).contains(LogFormat.PUT);
        long cut = fs.get(0).end(); // keep one record: a clean frame boundary, no torn tail
        try (FileChannel ch = FileChannel.open(first, StandardOpenOption.WRITE)) {
            ch.truncate(cut);
        }
        try (StoreEngine e = StoreEngine.open(other, config(FaultInjector.NONE))) {
            OpenReport r = e.openReport();
            assertThat(r.rebuiltAfterCorruption()).isTrue();
            assertThat(r.reason()).contains("ends before the commit the manifest records");
            assertThat(e.lastCommitMetadata()).isNull();
        }
    }
}
