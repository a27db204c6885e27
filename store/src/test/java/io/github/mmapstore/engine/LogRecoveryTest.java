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
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The log's tail rules: a torn tail (partial frame header, a frame running past the end of the file,
 * zeros to the end) after the last commit is cut off silently; a damaged byte inside a complete frame
 * is corruption and is never dropped silently, even in the very last frame.
 *
 * <p>Each test builds a store whose only log holds: c1 | PUT x (3000 bytes) | c2 | PUT y (3000 bytes)
 * | c3, so there are committed records both before and in the tail.
 */
class LogRecoveryTest {
    @TempDir
    Path dir;

    record Frame(byte type, long off, long end) {
    }

    static final byte[] BIG_X = filled(3000, 'x');
    static final byte[] BIG_Y = filled(3000, 'y');

    Path log;
    List<Frame> frames;

    static byte[] filled(int n, char c) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) c);
        return b;
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    EngineConfig config() {
        return EngineConfig.defaults().withFsync(false).withMemtableBytes(1 << 20);
    }

    @BeforeEach
    void build() throws IOException {
        try (StoreEngine e = StoreEngine.open(dir, config())) {
            e.put(b("a"), b("1"));
            e.commit(b("c1"));
            e.put(b("x"), BIG_X);
            e.commit(b("c2"));
            e.put(b("y"), BIG_Y);
            e.delete(b("a"));
            e.commit(b("c3"));
        }
        log = onlyLog(dir);
        frames = frames(log);
        // PUT a, COMMIT, PUT x, COMMIT, PUT y, DELETE a, COMMIT
        assertThat(frames).extracting(Frame::type).containsExactly(LogFormat.PUT, LogFormat.COMMIT, LogFormat.PUT,
                LogFormat.COMMIT, LogFormat.PUT, LogFormat.DELETE, LogFormat.COMMIT);
        assertThat(frames.get(6).end()).isEqualTo(Files.size(log));
    }

    static Path onlyLog(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> logs = s.filter(p -> p.toString().endsWith(FileNames.LOG_SUFFIX)).toList();
            assertThat(logs).hasSize(1);
            return logs.get(0);
        }
    }

    static long number(Path p) {
        return FileNames.number(p.getFileName().toString()).getAsLong();
    }

    static List<Frame> frames(Path log) throws IOException {
        List<Frame> out = new ArrayList<>();
        LogScanner.Result r = LogScanner.scan(log, number(log), (type, payload, off, end) -> out.add(new Frame(type, off, end)));
        assertThat(r.torn()).isFalse();
        return out;
    }

    void truncate(long size) throws IOException {
        try (FileChannel ch = FileChannel.open(log, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }

    void append(byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(log, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ch.write(ByteBuffer.wrap(bytes));
        }
    }

    void flip(long pos) throws IOException {
        byte[] all = Files.readAllBytes(log);
        all[(int) pos] ^= 0x10;
        Files.write(log, all);
    }

    /** State after c2: a=1, x=BIG_X. */
    void assertAtC2(StoreEngine e) {
        assertThat(e.openReport().rebuiltAfterCorruption()).as(e.openReport().reason()).isFalse();
        assertThat(e.lastCommitMetadata()).isEqualTo(b("c2"));
        assertThat(e.get(b("a"))).isEqualTo(b("1"));
        assertThat(e.get(b("x"))).isEqualTo(BIG_X);
        assertThat(e.get(b("y"))).isNull();
        assertThat(EngineModelProperties.drain(e.all())).extracting(kv -> new String(kv.key())).containsExactly("a", "x");
    }

    void assertAtC3(StoreEngine e) {
        assertThat(e.openReport().rebuiltAfterCorruption()).as(e.openReport().reason()).isFalse();
        assertThat(e.lastCommitMetadata()).isEqualTo(b("c3"));
        assertThat(e.get(b("a"))).isNull();
        assertThat(e.get(b("x"))).isEqualTo(BIG_X);
        assertThat(e.get(b("y"))).isEqualTo(BIG_Y);
    }

    void assertQuarantined(StoreEngine e) throws IOException {
        OpenReport r = e.openReport();
        assertThat(r.rebuiltAfterCorruption()).isTrue();
        assertThat(r.reason()).contains(log.getFileName().toString());
        assertThat(e.lastCommitMetadata()).isNull();
        assertThat(EngineModelProperties.drain(e.all())).isEmpty();
        assertThat(r.quarantine()).isNotNull();
        assertThat(Files.exists(r.quarantine().resolve(log.getFileName()))).as("damaged log kept in quarantine").isTrue();
    }

    // ---- torn tails: cut off, never a reason to refuse to start -------------------------------------

    @ParameterizedTest
    @ValueSource(ints = {1, 5, 12})
    void partialFrameHeaderAfterLastCommitIsTruncated(int headerBytes) throws IOException {
        Frame putY = frames.get(4);
        truncate(putY.off() + headerBytes);
        LogScanner.Result r = LogScanner.scan(log, number(log), (t, p, o, en) -> { });
        assertThat(r.torn()).isTrue();
        assertThat(r.validEnd()).isEqualTo(putY.off());
        try (StoreEngine e = StoreEngine.open(dir, config())) {
            assertAtC2(e);
            assertThat(e.openReport().discardedLogBytes()).isEqualTo(headerBytes);
        }
        assertThat(Files.size(log)).as("tail cut off on disk").isEqualTo(putY.off());
        try (StoreEngine e = StoreEngine.open(dir, config())) {
            assertAtC2(e);
            assertThat(e.openReport().discardedLogBytes()).isZero();
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {13, 14, 100, 2999})
    void frameRunningPastEndOfFileIsTruncated(int bytesOfFrame) throws IOException {
        Frame putY = frames.get(4);
        truncate(putY.off() + bytesOfFrame);
        try (StoreEngine e = StoreEngine.open(dir, config())) {
            assertAtC2(e);
        }
        assertThat(Files.size(log)).isEqualTo(putY.off());
    }

    @Test
    void lastCommitFrameCutShortIsTornAndThatCommitIsLost() throws IOException {
        Frame c3 = frames.get(6);
        truncate(c3.end() - 1);
        try (StoreEngine e = StoreEngine.open(dir, config())) {
            assertAtC2(e);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 13, 4096, 100_000})
    void zeroFilledTailIsTruncated(int zeros) throws IOException {
        append(new byte[zeros]);
        try (StoreEngine e = StoreEngine.open(dir, config())) {
            assertAtC3(e);
            assertThat(e.openReport().discardedLogBytes()).isEqualTo(zeros);
        }
        truncate(frames.get(4).off());
        append(new byte[5000]);
        try (StoreEngine e = StoreEngine.open(dir, config())) {
            assertAtC2(e);
        }
    }

    @Test
    void tornTailThenNewWritesAndCommitsSurviveTheNextOpen() throws IOException {
        truncate(frames.get(4).off() + 20);
        try (StoreEngine e = StoreEngine.open(dir, config())) {
            assertAtC2(e);
            e.put(b("z"), b("after"));
            e.commit(b("c4"));
        }
        try (StoreEngine e = StoreEngine.open(dir, config())) {
            assertThat(e.openReport().rebuiltAfterCorruption()).isFalse();
            assertThat(e.lastCommitMetadata()).isEqualTo(b("c4"));
            assertThat(e.get(b("z"))).isEqualTo(b("after"));
            assertThat(e.get(b("x"))).isEqualTo(BIG_X);
            assertThat(e.get(b("y"))).isNull();
        }
    }

    @Test
    void newestLogWithPartialFileHeaderAfterRotationIsDropped() throws IOException {
        StoreEngine e = StoreEngine.open(dir, config());
        e.put(b("q"), b("uncommitted"));
        e.flush(); // rotates to a new log file, whose header is written at creation
        e.abandon();
        Path newest;
        try (Stream<Path> s = Files.list(dir)) {
            newest = s.filter(p -> p.toString().endsWith(FileNames.LOG_SUFFIX)).max(Path::compareTo).orElseThrow();
        }
        assertThat(newest).isNotEqualTo(log);
        try (FileChannel ch = FileChannel.open(newest, StandardOpenOption.WRITE)) {
            ch.truncate(10);
        }
        try (StoreEngine r = StoreEngine.open(dir, config())) {
            assertAtC3(r);
            assertThat(r.get(b("q"))).isNull();
        }
    }

    // ---- damage: detected, never silently dropped ----------------------------------------------------

    @Test
    void flippedByteInCommittedRecordPayloadIsCorruption() throws IOException {
        Frame putX = frames.get(2);
        flip(putX.off() + LogFormat.FRAME_HEADER_BYTES + 1500);
        assertThatThrownBy(() -> LogScanner.scan(log, number(log), (t, p, o, en) -> { }))
                .isInstanceOf(CorruptionException.class).hasMessageContaining("checksum")
                .satisfies(ex -> assertThat(((CorruptionException) ex).offset()).isEqualTo(putX.off()));
        try (StoreEngine e = StoreEngine.open(dir, config())) {
            assertQuarantined(e);
        }
    }

    @Test
    void flippedByteInLastCommitFrameIsCorruptionNotATornTail() throws IOException {
        Frame c3 = frames.get(6);
        flip(c3.end() - 1);
        try (StoreEngine e = StoreEngine.open(dir, config())) {
            assertQuarantined(e);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 4, 5, 9, 12})
    void flippedByteInFrameHeaderIsCorruption(int offsetInHeader) throws IOException {
        flip(frames.get(3).off() + offsetInHeader);
        try (StoreEngine e = StoreEngine.open(dir, config())) {
            assertQuarantined(e);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 8, 12, 20, 23})
    void flippedByteInFileHeaderIsCorruption(int pos) throws IOException {
        flip(pos);
        try (StoreEngine e = StoreEngine.open(dir, config())) {
            assertQuarantined(e);
        }
    }

    @Test
    void garbageAfterLastCommitThatIsNotZerosIsCorruption() throws IOException {
        // Not a torn tail by the documented rules (not a partial header, not past EOF, not zeros).
        byte[] junk = new byte[64];
        Arrays.fill(junk, (byte) 0x5A);
        append(junk);
        try (StoreEngine e = StoreEngine.open(dir, config())) {
            assertQuarantined(e);
        }
    }
}
