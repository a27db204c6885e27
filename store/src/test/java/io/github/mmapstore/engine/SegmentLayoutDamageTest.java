package io.github.mmapstore.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A column directory that contradicts the layout rules of format 2 (a writer bug, or damage before the
 * footer's checksum was taken) is reported as corruption with a message that says what is wrong, by
 * {@link Segment#open} and by {@link StoreVerifier}, never as an exception of another kind. Each case
 * patches one entry of the footer's column directory and recomputes the footer and trailer checksums,
 * so only the layout check can catch it.
 */
class SegmentLayoutDamageTest {
    @TempDir
    Path dir;

    /** Where the footer's column directory starts, after version, rows, tombstones, count and the checksum table entry. */
    private static final int DIRECTORY_IN_FOOTER = 4 + 8 + 8 + 4 + 8 + 4 + 4;
    private static final int DIRECTORY_ENTRY = 4 + 8 + 8;

    /**
     * Changes the directory entry of column {@code id}: its number to {@code newId} and its length to
     * {@code newLength} (-1: unchanged), then recomputes the footer and trailer checksums.
     */
    static void patchDirectory(Path segment, int id, int newId, long newLength) throws IOException {
        byte[] file = Files.readAllBytes(segment);
        ByteBuffer bb = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int t = file.length - SegmentFormat.TRAILER_BYTES;
        int footer = (int) bb.getLong(t);
        int footerLen = bb.getInt(t + 8);
        int count = bb.getInt(footer + 20);
        boolean found = false;
        for (int i = 0; i < count; i++) {
            int at = footer + DIRECTORY_IN_FOOTER + i * DIRECTORY_ENTRY;
            if (bb.getInt(at) == id) {
                bb.putInt(at, newId);
                if (newLength >= 0) {
                    bb.putLong(at + 12, newLength);
                }
                found = true;
            }
        }
        assertThat(found).as("column %d in the directory", id).isTrue();
        bb.putInt(t + 12, Checksums.crc(file, footer, footerLen));
        bb.putInt(t + 20, Checksums.crc(file, t, 20));
        Files.write(segment, file);
    }

    static long columnLength(Path segment, int id) throws IOException {
        Segment s = Segment.open(segment, 1);
        try {
            return s.columnDirectory().get(id)[1];
        } finally {
            s.release();
        }
    }

    /** 10 rows: keys of {@code keyLength} bytes (varying when -1), values of 5 bytes (varying when -1), row 3 a tombstone. */
    static TreeMap<byte[], byte[]> rows(int keyLength, int valueLength) {
        TreeMap<byte[], byte[]> rows = new TreeMap<>(Arrays::compareUnsigned);
        for (int i = 0; i < 10; i++) {
            byte[] key = new byte[keyLength >= 0 ? keyLength : 1 + i];
            Arrays.fill(key, (byte) (i + 1));
            byte[] value = new byte[valueLength >= 0 ? valueLength : i];
            Arrays.fill(value, (byte) 0x5A);
            rows.put(key, i == 3 ? null : value);
        }
        return rows;
    }

    Path segment(int keyLength, int valueLength) throws IOException {
        Segment s = SegmentTest.write(dir, 1, rows(keyLength, valueLength));
        Path p = s.path();
        s.release();
        return p;
    }

    /** Open refuses the file as corruption saying {@code what}; so does the verifier, in a store that names it. */
    void assertCorrupt(Path segment, String what) throws IOException {
        assertThatThrownBy(() -> Segment.open(segment, 1)).isInstanceOf(CorruptionException.class)
                .hasMessageContaining(what);
        // The same file in a store: the verifier reports it as damage with the same words.
        Path store = Files.createDirectories(dir.resolve("store"));
        try (StoreEngine e = StoreEngine.open(store, EngineConfig.defaults().withFsync(false))) {
            rows(1, 1).forEach((k, v) -> e.put(k, v == null ? new byte[0] : v));
            e.commit(new byte[] {1});
            e.flush();
            e.commit(new byte[] {2});
        }
        Path named;
        try (Stream<Path> s = Files.list(store)) {
            named = s.filter(p -> p.toString().endsWith(FileNames.SEGMENT_SUFFIX)).findFirst().orElseThrow();
        }
        // The manifest records the file's size: keep the patched file at its size by patching the store's own.
        Files.copy(segment, named, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        StoreVerifier.Report report = StoreVerifier.verify(store);
        assertThat(report.damaged()).isTrue();
        assertThat(report.findings()).anySatisfy(f -> {
            assertThat(f.severity()).isEqualTo(StoreVerifier.Severity.DAMAGE);
            assertThat(f.file()).isEqualTo(named);
            assertThat(f.what()).contains(what);
        });
    }

    @Test
    void fixedLengthKeysThatDoNotDivideIntoTheRows() throws IOException {
        Path p = segment(4, -1);
        assertThat(columnLength(p, SegmentFormat.COL_KEYS)).isEqualTo(40);
        patchDirectory(p, SegmentFormat.COL_KEYS, SegmentFormat.COL_KEYS, 39);
        assertCorrupt(p, "key column of 39 bytes without offsets does not divide into 10 rows");
    }

    @Test
    void fixedLengthValueSlotsThatDoNotDivideIntoTheRows() throws IOException {
        Path p = segment(-1, 5);
        assertThat(columnLength(p, SegmentFormat.COL_VALUES)).isEqualTo(50); // the tombstone's slot too
        patchDirectory(p, SegmentFormat.COL_VALUES, SegmentFormat.COL_VALUES, 48);
        assertCorrupt(p, "value column of 48 bytes without offsets does not divide into 10 rows");
    }

    @Test
    void fourAndEightByteKeyOffsetsTogether() throws IOException {
        Path p = segment(-1, -1);
        patchDirectory(p, SegmentFormat.COL_KEY_PREFIX, SegmentFormat.COL_KEY_OFFSETS, -1);
        assertCorrupt(p, "both 4- and 8-byte key offsets");
    }

    @Test
    void keysOfVaryingLengthWithoutTheirPrefixColumn() throws IOException {
        Path p = segment(-1, -1);
        patchDirectory(p, SegmentFormat.COL_KEY_PREFIX, 99, -1);
        assertCorrupt(p, "segment lacks column " + SegmentFormat.COL_KEY_PREFIX);
    }

    @Test
    void valueOffsetsOfTheWrongLength() throws IOException {
        Path p = segment(-1, -1);
        patchDirectory(p, SegmentFormat.COL_VALUE_OFFSETS_32, SegmentFormat.COL_VALUE_OFFSETS_32, 40);
        assertCorrupt(p, "column " + SegmentFormat.COL_VALUE_OFFSETS_32 + " has 40 bytes, expected 44");
    }

    @Test
    void tombstonesWithoutAFlagsColumn() throws IOException {
        Path p = segment(4, 5);
        patchDirectory(p, SegmentFormat.COL_FLAGS, 98, -1);
        assertCorrupt(p, "footer counts 1 tombstones but the segment has no flags column");
    }

    /**
     * A fixed-length key column whose length divides into the rows but by the wrong length (keys of 2
     * bytes read from a column of 4-byte keys cut short): the footer's first and last key say how long
     * the keys are.
     */
    @Test
    void fixedLengthKeysOfAnotherLengthThanTheFootersKeys() throws IOException {
        Path p = segment(4, -1);
        patchDirectory(p, SegmentFormat.COL_KEYS, SegmentFormat.COL_KEYS, 20);
        assertCorrupt(p, "key column of 20 bytes without offsets makes keys of 2 bytes, but the footer's first and last keys have 4 and 4 bytes");
    }

    @Test
    void patchingNothingLeavesAReadableSegment() throws IOException {
        // The helper itself: rewriting an entry as it was keeps the checksums valid and the file readable.
        Path p = segment(4, 5);
        long length = columnLength(p, SegmentFormat.COL_KEYS);
        patchDirectory(p, SegmentFormat.COL_KEYS, SegmentFormat.COL_KEYS, length);
        Segment s = Segment.open(p, 1);
        try {
            s.verifyAll();
            assertThat(s.rows()).isEqualTo(10);
            assertThat(s.key(9)).isEqualTo(new byte[] {10, 10, 10, 10});
            assertThat(s.value(3)).isNull();
            assertThat(List.of(s.layout())).containsExactly("keys of 4 bytes each, values of 5 bytes each");
        } finally {
            s.release();
        }
    }
}
