package io.github.mmapstore.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The widths {@link SegmentWriter.Sizes} picks at the 4 GiB boundary, which no test can reach by
 * writing files: only lengths are added here (the same key array stands for many keys of its length).
 */
class SegmentSizesTest {
    private static final byte[] KEY_64K = new byte[65536];

    /** Keys of varying length summing to exactly {@code total} bytes. */
    private static SegmentWriter.Sizes keysOf(long total) {
        SegmentWriter.Sizes sizes = new SegmentWriter.Sizes(null);
        long left = total;
        while (left >= KEY_64K.length) {
            sizes.addStored(KEY_64K, 1);
            left -= KEY_64K.length;
        }
        sizes.addStored(new byte[(int) left], 1);
        return sizes;
    }

    @Test
    void keyOffsetsAreFourBytesUpToTheLargestOffsetTheyHoldThenEight() {
        SegmentWriter.Sizes atLimit = keysOf(SegmentFormat.MAX_OFFSET_32);
        assertThat(atLimit.keyBytes).isEqualTo(0xFFFF_FFFFL);
        assertThat(atLimit.fixedKeyLength()).isEqualTo(-1);
        assertThat(atLimit.keyOffsetBytes()).isEqualTo(4);
        SegmentWriter.Sizes over = keysOf(SegmentFormat.MAX_OFFSET_32 + 1);
        assertThat(over.keyOffsetBytes()).isEqualTo(8);
    }

    @Test
    void fixedLengthKeysNeedNoOffsetsWhateverTheirTotal() {
        SegmentWriter.Sizes sizes = new SegmentWriter.Sizes(null);
        for (int i = 0; i < 70_000; i++) {
            sizes.addStored(KEY_64K, 8);
        }
        assertThat(sizes.keyBytes).isGreaterThan(SegmentFormat.MAX_OFFSET_32);
        assertThat(sizes.fixedKeyLength()).isEqualTo(KEY_64K.length);
        assertThat(sizes.keyOffsetBytes()).isZero();
        assertThat(sizes.fixedValueLength()).isEqualTo(8);
        assertThat(sizes.valueOffsetBytes()).isZero();
    }

    @Test
    void valueOffsetsAreFourBytesUpToTheLargestOffsetTheyHoldThenEight() {
        byte[] key = {1};
        SegmentWriter.Sizes atLimit = new SegmentWriter.Sizes(null);
        atLimit.addStored(key, SegmentFormat.MAX_OFFSET_32 - 1);
        atLimit.addStored(key, 1);
        assertThat(atLimit.fixedValueLength()).isEqualTo(-1);
        assertThat(atLimit.valueOffsetBytes()).isEqualTo(4);
        SegmentWriter.Sizes over = new SegmentWriter.Sizes(null);
        over.addStored(key, SegmentFormat.MAX_OFFSET_32);
        over.addStored(key, 1);
        assertThat(over.valueOffsetBytes()).isEqualTo(8);
        assertThat(over.valueColumnBytes()).isEqualTo(SegmentFormat.MAX_OFFSET_32 + 1);
    }

    @Test
    void largeFixedValuesWithATombstoneTakeEightByteOffsetsOverAZeroedSlot() {
        byte[] key = {1};
        SegmentWriter.Sizes sizes = new SegmentWriter.Sizes(null);
        long threeGiB = 3L << 30;
        sizes.addStored(key, threeGiB);
        sizes.addStored(key, threeGiB);
        // Fixed slots: the rows' 6 GiB only.
        assertThat(sizes.fixedValueLength()).isEqualTo(threeGiB);
        assertThat(sizes.valueColumnBytes()).isEqualTo(2 * threeGiB);
        sizes.addStored(key, -1);
        // A 3 GiB zeroed slot costs more than four 8-byte offsets.
        assertThat(sizes.fixedValueLength()).isEqualTo(-1);
        assertThat(sizes.valueOffsetBytes()).isEqualTo(8);
        assertThat(sizes.valueColumnBytes()).isEqualTo(2 * threeGiB);
    }

    @Test
    void onlyTombstonesMakeAnEmptyFixedValueColumn() {
        SegmentWriter.Sizes sizes = new SegmentWriter.Sizes(null);
        sizes.addStored(new byte[] {1}, -1);
        sizes.addStored(new byte[] {2}, -1);
        assertThat(sizes.fixedValueLength()).isZero();
        assertThat(sizes.valueOffsetBytes()).isZero();
        assertThat(sizes.valueColumnBytes()).isZero();
    }
}
