package io.github.mmapstore.tools;

import static io.github.mmapstore.tools.TestStores.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mmapstore.engine.EngineConfig;
import io.github.mmapstore.engine.FaultInjector;
import io.github.mmapstore.engine.OpenReport;
import io.github.mmapstore.engine.StoreEngine;
import io.github.mmapstore.engine.StoreSnapshot;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The log rules an open applies (a rotated log must end with the END frame naming its successor; the log
 * must still reach the commit the manifest records) hold for the tools as well: {@code verify} lists the
 * damage, {@code inspect} and {@code dump} refuse the store, and an open agrees that it is corrupt.
 * Both damages leave no torn frame and no checksum mismatch behind: only these rules find them.
 */
class LogChainDamageTest {
    private static final int KEYS = 400;
    private static final byte PUT = 1;
    private static final byte COMMIT = 3;
    private static final byte END = 5;

    @TempDir
    Path tmp;

    record Frame(byte type, long off, long end) {
    }

    static final class CrashAfterCommitSync extends RuntimeException {
    }

    private static String key(int i) {
        return String.format("key-%05d", i);
    }

    /** A small memtable: 400 writes fill it several times, so flushes rotate the log. */
    private static EngineConfig config(FaultInjector faults) {
        return TestStores.config().withMemtableBytes(8192).withFaults(faults);
    }

    private static void writeKeys(StoreEngine e) {
        for (int i = 0; i < KEYS; i++) {
            e.put(b(key(i)), b("value-" + i + "-".repeat(20)));
        }
    }

    /**
     * A store whose manifest needs two or more logs: the older rotated by a flush (ending with its END
     * frame), the newest holding the last commit, synced before a crash stopped the manifest that would
     * have followed it.
     */
    private Path storeWithTwoNeededLogs() throws IOException {
        Path dir = TestStores.storeDir(tmp, "app", "0_0", "store");
        boolean[] armed = {false};
        StoreEngine e = StoreEngine.open(dir, config(point -> {
            if (armed[0] && point == FaultInjector.Point.COMMIT_AFTER_FSYNC) {
                throw new CrashAfterCommitSync();
            }
        }));
        writeKeys(e);
        armed[0] = true;
        assertThatThrownBy(() -> e.commit(b("last"))).isInstanceOf(CrashAfterCommitSync.class);
        e.abandon();
        try (StoreSnapshot s = StoreSnapshot.open(dir, null)) {
            assertThat(s.logs()).as("logs the manifest needs").hasSizeGreaterThanOrEqualTo(2);
            assertThat(s.commitMetadata()).isEqualTo(b("last"));
        }
        return dir;
    }

    /** The frames of a log file as LogWriter writes them (header 24 bytes; frame header 13 bytes). */
    private static List<Frame> frames(Path log) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(log)).order(ByteOrder.LITTLE_ENDIAN);
        List<Frame> out = new ArrayList<>();
        long pos = 24;
        while (pos + 13 <= buf.limit()) {
            long end = pos + 13 + buf.getInt((int) pos);
            if (end > buf.limit()) {
                break;
            }
            out.add(new Frame(buf.get((int) pos + 4), pos, end));
            pos = end;
        }
        return out;
    }

    private static void truncate(Path file, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }

    private static Path olderLog(Path dir) throws IOException {
        return TestStores.files(dir, ".log").get(0);
    }

    /** An open that finds the damage moves the files aside and starts empty, without commit metadata. */
    private static void assertOpenFindsCorruption(Path dir, String reason) {
        try (StoreEngine e = StoreEngine.open(dir, TestStores.config())) {
            OpenReport r = e.openReport();
            assertThat(r.rebuiltAfterCorruption()).isTrue();
            assertThat(r.reason()).contains(reason);
            assertThat(e.lastCommitMetadata()).isNull();
        }
    }

    @Test
    void intactRotatedLogsAreReadByEveryTool() throws IOException {
        Path dir = storeWithTwoNeededLogs();
        List<Frame> older = frames(olderLog(dir));
        assertThat(older.get(older.size() - 1).type()).as("a rotated log ends with its END frame").isEqualTo(END);

        Cli verify = Cli.run("verify", dir.toString());
        assertThat(verify.exit()).as(verify.toString()).isZero();
        assertThat(verify.out()).doesNotContain("DAMAGE").doesNotContain("ends early");
        Cli inspect = Cli.run("inspect", dir.toString());
        assertThat(inspect.exit()).as(inspect.toString()).isZero();
        Cli dump = Cli.run("dump", dir.toString());
        assertThat(dump.exit()).as(dump.toString()).isZero();
        assertThat(dump.out().lines()).hasSize(KEYS).contains(key(0) + "\tvalue-0" + "-".repeat(20));
    }

    @Test
    void olderLogCutAtAFrameBoundaryBeforeALaterCommitIsDamage() throws IOException {
        Path dir = storeWithTwoNeededLogs();
        Path older = olderLog(dir);
        List<Frame> fs = frames(older);
        assertThat(fs).hasSizeGreaterThan(3);
        long cut = fs.get(fs.size() / 2).off(); // a frame boundary: nothing torn is left behind
        truncate(older, cut);
        Map<String, String> damaged = DirectoryImage.of(dir);

        Cli verify = Cli.run("verify", dir.toString());
        assertThat(verify.exit()).as(verify.toString()).isEqualTo(1);
        assertThat(verify.out()).contains("DAMAGE      " + older + " at byte offset " + cut
                        + ": log file ends early: its last record is not the END record naming the next log")
                .contains("but a later log file holds a commit")
                .contains("1 of 1 stores damaged");

        Cli inspect = Cli.run("inspect", dir.toString());
        assertThat(inspect.exit()).as(inspect.toString()).isEqualTo(1);
        assertThat(inspect.err()).contains("cannot read store")
                .contains("corruption in " + older + " at byte offset " + cut)
                .contains("cut short of its END record) but a later log file holds a commit");
        Cli dump = Cli.run("dump", dir.toString());
        assertThat(dump.exit()).as(dump.toString()).isEqualTo(1);
        assertThat(dump.out()).isEmpty();
        assertThat(dump.err()).contains("cannot read store").contains("but a later log file holds a commit");
        assertThat(DirectoryImage.of(dir)).as("the tools change nothing").isEqualTo(damaged);

        assertOpenFindsCorruption(dir, older.getFileName().toString());
    }

    @Test
    void olderLogMissingOnlyItsEndFrameIsDamageToo() throws IOException {
        Path dir = storeWithTwoNeededLogs();
        Path older = olderLog(dir);
        List<Frame> fs = frames(older);
        long cut = fs.get(fs.size() - 1).off();
        truncate(older, cut);

        Cli verify = Cli.run("verify", dir.toString());
        assertThat(verify.exit()).as(verify.toString()).isEqualTo(1);
        assertThat(verify.out()).contains("DAMAGE      " + older + " at byte offset " + cut + ": log file ends early");
        Cli inspect = Cli.run("inspect", dir.toString());
        assertThat(inspect.exit()).as(inspect.toString()).isEqualTo(1);
        assertOpenFindsCorruption(dir, older.getFileName().toString());
    }

    @Test
    void firstLogCutBeforeTheCommitTheManifestRecordsIsDamage() throws IOException {
        Path dir = TestStores.storeDir(tmp, "app", "0_0", "store");
        try (StoreEngine e = StoreEngine.open(dir, config(FaultInjector.NONE))) {
            writeKeys(e);
            e.commit(b("checkpointed"));
        }
        Path first;
        try (StoreSnapshot s = StoreSnapshot.open(dir, null)) {
            first = s.logs().get(0).file();
        }
        List<Frame> fs = frames(first);
        assertThat(fs).extracting(Frame::type).contains(PUT);
        long commitEnd = fs.stream().filter(f -> f.type() == COMMIT).mapToLong(Frame::end).max().orElseThrow();
        long cut = fs.get(0).end(); // keep one record: a clean frame boundary, no torn tail
        assertThat(cut).isLessThan(commitEnd);
        truncate(first, cut);
        Map<String, String> damaged = DirectoryImage.of(dir);

        Cli verify = Cli.run("verify", dir.toString());
        assertThat(verify.exit()).as(verify.toString()).isEqualTo(1);
        assertThat(verify.out()).contains("DAMAGE      " + first + " at byte offset " + commitEnd
                + ": log ends before the commit the manifest records (its COMMIT record ends at byte " + commitEnd + ")");

        Cli inspect = Cli.run("inspect", dir.toString());
        assertThat(inspect.exit()).as(inspect.toString()).isEqualTo(1);
        assertThat(inspect.err()).contains("cannot read store").contains("log ends before the commit the manifest records");
        Cli dump = Cli.run("dump", dir.toString());
        assertThat(dump.exit()).as(dump.toString()).isEqualTo(1);
        assertThat(dump.out()).isEmpty();
        assertThat(dump.err()).contains("log ends before the commit the manifest records");
        assertThat(DirectoryImage.of(dir)).as("the tools change nothing").isEqualTo(damaged);

        assertOpenFindsCorruption(dir, "ends before the commit the manifest records");
    }
}
