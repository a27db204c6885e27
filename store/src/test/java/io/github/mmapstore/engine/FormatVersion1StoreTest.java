package io.github.mmapstore.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store written by the last release that wrote segment format 1 (commit 2c7f79d; the fixture and how
 * it was made: {@code src/test/resources/format-v1-store/README.txt}) opens with the current engine,
 * reads back exactly what was committed, takes new writes, and compaction rewrites its segments in
 * format 2. A segment of a version newer than this release reads is refused.
 */
class FormatVersion1StoreTest {
    @TempDir
    Path dir;

    static final EngineConfig CONFIG = EngineConfig.defaults().withFsync(false);

    /** What the fixture's writes leave: the final state, every key ever touched, the last metadata. */
    static final class Model implements FormatVersion1Fixture.Sink {
        final TreeMap<byte[], byte[]> live = new TreeMap<>(Arrays::compareUnsigned);
        final TreeSet<byte[]> touched = new TreeSet<>(Arrays::compareUnsigned);
        /** Every value each key was given, null for a delete, in write order. */
        final TreeMap<byte[], List<byte[]>> history = new TreeMap<>(Arrays::compareUnsigned);
        byte[] metadata;

        @Override
        public void put(byte[] key, byte[] value) {
            live.put(key, value);
            touched.add(key);
            history.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
        }

        @Override
        public void delete(byte[] key) {
            live.remove(key);
            touched.add(key);
            history.computeIfAbsent(key, k -> new ArrayList<>()).add(null);
        }

        /** Whether {@code valueOrNull} is a value (or the delete) the fixture wrote for {@code key}. */
        boolean wrote(byte[] key, byte[] valueOrNull) {
            return history.getOrDefault(key, List.of()).stream().anyMatch(v -> Arrays.equals(v, valueOrNull));
        }

        @Override
        public void commit(byte[] metadata) {
            this.metadata = metadata;
        }
    }

    static Model fixtureModel() {
        Model m = new Model();
        FormatVersion1Fixture.write(m);
        return m;
    }

    /** Copies the committed fixture (not its README) into {@code target}. */
    static void copyFixture(Path target) throws IOException {
        Path source;
        try {
            source = Path.of(FormatVersion1StoreTest.class.getResource("/format-v1-store/MANIFEST").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IOException(e);
        }
        try (Stream<Path> s = Files.list(source)) {
            for (Path p : s.toList()) {
                if (!p.getFileName().toString().equals("README.txt")) {
                    Files.copy(p, target.resolve(p.getFileName()));
                }
            }
        }
    }

    static List<Path> segmentFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(FileNames.SEGMENT_SUFFIX)).sorted().toList();
        }
    }

    /** The format version in a segment file's trailer. */
    static int trailerVersion(Path segment) throws IOException {
        byte[] b = Files.readAllBytes(segment);
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(b.length - SegmentFormat.TRAILER_BYTES + 16);
    }

    static void assertContent(StoreEngine e, Model model) {
        for (byte[] key : model.touched) {
            assertThat(e.get(key)).as("get %s", printable(key)).isEqualTo(model.live.get(key));
        }
        List<KeyValue> all = new ArrayList<>();
        try (EngineIterator it = e.all()) {
            it.forEachRemaining(all::add);
        }
        assertThat(all).hasSize(model.live.size());
        int i = 0;
        for (Map.Entry<byte[], byte[]> m : model.live.entrySet()) {
            assertThat(all.get(i).key()).as("key %d of all()", i).isEqualTo(m.getKey());
            assertThat(all.get(i).value()).as("value of %s in all()", printable(m.getKey())).isEqualTo(m.getValue());
            i++;
        }
    }

    static String printable(byte[] key) {
        return java.util.HexFormat.of().formatHex(key);
    }

    @Test
    void fixtureIsAVersion1StoreWithTombstonesFixedLengthRunsAndACommittedLogTail() throws IOException {
        copyFixture(dir);
        List<Path> segments = segmentFiles(dir);
        assertThat(segments).hasSizeGreaterThanOrEqualTo(3);
        for (Path p : segments) {
            assertThat(trailerVersion(p)).as("version of %s", p.getFileName()).isEqualTo(1);
        }
        try (StoreSnapshot snap = StoreSnapshot.open(dir, null)) {
            assertThat(snap.segments()).hasSize(segments.size());
            assertThat(snap.segments().stream().mapToLong(StoreSnapshot.SegmentInfo::tombstones).sum()).isPositive();
            assertThat(snap.logTailKeys()).isPositive();
            assertThat(snap.commitMetadata()).isEqualTo(fixtureModel().metadata);
            // Version 1 wrote every structural column, 8-byte offsets included, whatever the rows.
            for (StoreSnapshot.SegmentInfo s : snap.segments()) {
                assertThat(s.columns().stream().map(StoreSnapshot.ColumnInfo::id).toList()).containsExactlyInAnyOrder(
                        SegmentFormat.COL_KEY_PREFIX, SegmentFormat.COL_KEY_OFFSETS, SegmentFormat.COL_KEYS,
                        SegmentFormat.COL_VALUE_OFFSETS, SegmentFormat.COL_VALUES, SegmentFormat.COL_FLAGS,
                        SegmentFormat.COL_BLOOM);
            }
            // Some segment holds nothing but the run of fixed-length keys and values (which format 2 writes without offsets).
            assertThat(snap.segments()).anySatisfy(s -> {
                assertThat(s.firstKey()).startsWith("fixed/".getBytes(StandardCharsets.US_ASCII));
                assertThat(s.lastKey()).startsWith("fixed/".getBytes(StandardCharsets.US_ASCII));
            });
        }
        assertThat(StoreVerifier.verify(dir).findings()).isEmpty();
    }

    @Test
    void version1SegmentsReadBackAndRowsMatchTheFixtureWrites() throws IOException {
        copyFixture(dir);
        // Segment by segment, through the reader alone: every row of every file is a write the fixture made.
        Model model = fixtureModel();
        long rows = 0;
        long tombstones = 0;
        List<Path> segments = segmentFiles(dir);
        for (Path p : segments) {
            Segment s = Segment.open(p, FileNames.number(p.getFileName().toString()).orElseThrow());
            try {
                s.verifyAll();
                assertThat(s.layout()).isEqualTo("keys with 8-byte offsets, values with 8-byte offsets");
                long userBytes = 0;
                for (long row = 0; row < s.rows(); row++) {
                    byte[] key = s.key(row);
                    assertThat(s.find(key)).isEqualTo(row);
                    byte[] value = s.value(row);
                    assertThat(model.wrote(key, value)).as("row %d of %s: %s", row, p.getFileName(), printable(key)).isTrue();
                    assertThat(s.isTombstone(row)).isEqualTo(value == null);
                    tombstones += value == null ? 1 : 0;
                    assertThat(s.storedValueLength(row)).isEqualTo(value == null ? -1 : value.length);
                    userBytes += key.length + (value == null ? 0 : value.length);
                }
                assertThat(s.userBytes()).isEqualTo(userBytes);
                rows += s.rows();
            } finally {
                s.release();
            }
        }
        assertThat(rows).isPositive();
        assertThat(tombstones).isPositive();
    }

    @Test
    void currentEngineOpensWritesAndCompactsAVersion1StoreIntoVersion2() throws IOException {
        copyFixture(dir);
        Model model = fixtureModel();
        try (StoreEngine e = StoreEngine.open(dir, CONFIG)) {
            assertContent(e, model);
            assertThat(e.lastCommitMetadata()).isEqualTo(model.metadata);

            // New writes of both kinds: keys of varying length, and fixed-length keys with fixed-length values.
            for (int i = 0; i < 200; i++) {
                byte[] key = FormatVersion1Fixture.fixedKey(i * 3 + 1);
                byte[] value = new byte[FormatVersion1Fixture.FIXED_VALUE_BYTES];
                Arrays.fill(value, (byte) i);
                e.put(key, value);
                model.put(key, value);
            }
            for (int i = 0; i < 100; i++) {
                byte[] key = ("after/" + i).getBytes(StandardCharsets.US_ASCII);
                byte[] value = ("value " + i).repeat(i % 4).getBytes(StandardCharsets.US_ASCII);
                e.put(key, value);
                model.put(key, value);
            }
            for (byte[] key : new ArrayList<>(model.live.keySet()).subList(0, 40)) {
                e.delete(key);
                model.delete(key);
            }
            byte[] metadata = "after the upgrade".getBytes(StandardCharsets.US_ASCII);
            e.commit(metadata);
            model.commit(metadata);
            e.flush();
            e.commit(metadata);
            while (e.compact(Long.MAX_VALUE)) {
                // until no compaction work is left
            }
            assertContent(e, model);
        }
        try (StoreEngine e = StoreEngine.open(dir, CONFIG)) {
            assertContent(e, model);
            assertThat(e.lastCommitMetadata()).isEqualTo(model.metadata);
        }
        List<Path> segments = segmentFiles(dir);
        assertThat(segments).isNotEmpty();
        for (Path p : segments) {
            assertThat(trailerVersion(p)).as("version of %s", p.getFileName()).isEqualTo(SegmentFormat.VERSION);
        }
        try (StoreSnapshot snap = StoreSnapshot.open(dir, null)) {
            assertThat(snap.segments()).hasSize(segments.size());
            for (StoreSnapshot.SegmentInfo s : snap.segments()) {
                assertThat(s.columns().stream().map(StoreSnapshot.ColumnInfo::id).toList())
                        .doesNotContain(SegmentFormat.COL_KEY_OFFSETS, SegmentFormat.COL_VALUE_OFFSETS);
            }
        }
        assertThat(StoreVerifier.verify(dir).findings()).isEmpty();
    }

    @Test
    void segmentOfANewerVersionIsRefusedAsIncompatible() throws IOException {
        copyFixture(dir);
        Path seg = segmentFiles(dir).get(0);
        byte[] newer = Files.readAllBytes(seg);
        ByteBuffer bb = ByteBuffer.wrap(newer).order(ByteOrder.LITTLE_ENDIAN);
        int t = newer.length - SegmentFormat.TRAILER_BYTES;
        bb.putInt(t + 16, 3);
        bb.putInt(t + 20, Checksums.crc(newer, t, 20));
        Files.write(seg, newer);
        assertThatThrownBy(() -> Segment.open(seg, 3)).isInstanceOf(IncompatibleFormatException.class)
                .hasMessageContaining("format version 3").hasMessageContaining("versions 1 to 2");
        assertThatThrownBy(() -> StoreEngine.open(dir, CONFIG)).isInstanceOf(IncompatibleFormatException.class);
        // Refused without touching anything: the file is still there as it was.
        assertThat(Files.readAllBytes(seg)).isEqualTo(newer);
    }
}
